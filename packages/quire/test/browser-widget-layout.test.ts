import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { browserUnavailable, hasText } from './fixtures/web-browser.js';
import { demoUri, screenshots, usePages } from './fixtures/web-page.js';
import { startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

/** Phones, the widths where the e-mail label used to wrap (1000–1100 px), and a wide desktop. */
const WIDTHS = [375, 768, 1000, 1024, 1050, 1100, 1440];

interface FieldBox {
  label: string;
  /** How many lines the label's text takes. */
  lines: number;
  inputTop: number;
  inputLeft: number;
}

describe('the widget laid out at every window width', { skip: skip ?? false }, () => {
  const { open } = usePages();

  test('each field label of the compose form stays on one line, the fields line up, nothing overflows', async (t) => {
    const s = await startWebServer(t);
    for (const uri of [demoUri(s), `${demoUri(s)}?lang=de`])
      await s.post(uri, { text: 'A comment, so that the list is not empty.', author: 'Grace' });
    for (const lang of ['', '?lang=de']) {
      const o = await open(t, s, { path: `/${lang}` });
      await o.thread.locator('article').first().waitFor();
      for (const width of WIDTHS) {
        await o.page.setViewportSize({ width, height: 900 });
        const fields: FieldBox[] = await o.form.locator('.quire-fields > div').evaluateAll((divs) =>
          divs.map((div) => {
            const label = div.querySelector('label') as any;
            const range = div.ownerDocument.createRange();
            range.selectNodeContents(label);
            // A rectangle per line per text node; a line starts where a rectangle begins below the last one's
            // bottom (text of another size on the same line only sits a little lower).
            const rects = Array.from(range.getClientRects() as ArrayLike<any>).sort((a, b) => a.top - b.top);
            let lines = 0;
            let bottom = Number.NEGATIVE_INFINITY;
            for (const r of rects) {
              if (r.top >= bottom - 1) lines++;
              bottom = Math.max(bottom, r.bottom);
            }
            const input = (div.querySelector('input') as any).getBoundingClientRect();
            return {
              label: label.textContent ?? '',
              lines,
              inputTop: Math.round(input.top),
              inputLeft: Math.round(input.left),
            };
          }),
        );
        assert.equal(fields.length, 3);
        for (const f of fields) assert.equal(f.lines, 1, `"${f.label}" on one line at ${width} px (${lang})`);
        // Fields side by side have their inputs at one height, however long their labels.
        fields.forEach((f, i) => {
          const before = fields[i - 1];
          if (before !== undefined && f.inputLeft > before.inputLeft)
            assert.ok(
              Math.abs(f.inputTop - before.inputTop) <= 1,
              `inputs aligned at ${width} px: ${f.label}`,
            );
        });
        const overflow = await o.page.evaluate(() => {
          const d = globalThis as any;
          return d.document.documentElement.scrollWidth - d.innerWidth;
        });
        assert.ok(overflow <= 0, `no sideways scrolling at ${width} px (${overflow} px too wide)`);
      }
      if (lang === '') await screenshots(o.page, 'widget', [375, 1024, 1440], o.thread);
      await hasText(o.count, lang === '' ? '1 comment' : '1 Kommentar');
    }
  });
});
