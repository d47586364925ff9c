/** The widget shows an imported thread like a native one: nesting, a tombstone, spam kept out, old dates. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_CONFIG } from '../src/config.js';
import { readDisqus } from '../src/port/disqus.js';
import { Importer } from '../src/port/importer.js';
import { tempDir } from './fixtures/srv-helpers.js';
import { browserUnavailable } from './fixtures/web-browser.js';
import { usePages } from './fixtures/web-page.js';
import { startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

const post = (id: string, text: string, at: string, extra = '') =>
  `<post dsq:id="${id}"><message><![CDATA[<p>${text}</p>]]></message><createdAt>${at}</createdAt><isDeleted>${extra.includes('deleted')}</isDeleted><isSpam>${extra.includes('spam')}</isSpam><author><name>${id}</name></author><thread dsq:id="1"/>${extra.startsWith('parent:') ? `<parent dsq:id="${extra.slice(7)}"/>` : ''}</post>`;

describe('an imported thread in the widget', { skip: skip ?? false }, () => {
  const { open } = usePages();

  test('replies nest under their parents, a deleted parent stays as a tombstone, spam is not shown', async (t) => {
    const s = await startWebServer(t);
    const xml = `<?xml version="1.0"?><disqus xmlns:dsq="http://disqus.com/disqus-internals"><thread dsq:id="1"><link>http://old.example/</link><title>Home</title></thread>${[
      post('a', 'Imported top comment', '2013-01-01T10:00:00Z'),
      post('b', 'Imported reply to the top', '2013-01-01T11:00:00Z', 'parent:a'),
      post('c', 'Regretted', '2013-01-02T10:00:00Z', 'deleted'),
      post('d', 'Reply under a deleted one', '2013-01-02T11:00:00Z', 'parent:c'),
      post('e', 'Imported spam here', '2013-01-03T10:00:00Z', 'spam'),
    ].join('')}</disqus>`;
    const file = path.join(tempDir(t), 'disqus.xml');
    fs.writeFileSync(file, xml);
    const summary = await new Importer(s.store, {
      format: 'disqus',
      site: s.url,
      uri: DEFAULT_CONFIG.uri,
      uriChars: DEFAULT_CONFIG.limits.uriChars,
      textChars: DEFAULT_CONFIG.limits.textChars,
    }).run(readDisqus(file));
    assert.equal(summary.created, 5);
    const o = await open(t, s);
    const top = o.thread.locator('article', { hasText: 'Imported top comment' }).first();
    await top.waitFor();
    // A reply is in its parent's list of replies (li.quire-c > ol.quire-replies), as a posted one is.
    const item = (text: string) => o.thread.locator('li.quire-c', { hasText: text }).first();
    await item('Imported top comment')
      .locator('.quire-replies article', { hasText: 'Imported reply' })
      .waitFor();
    await item('Reply under a deleted one')
      .locator('.quire-replies article', { hasText: 'Reply under' })
      .waitFor();
    assert.equal(await o.thread.getByText('Regretted').count(), 0);
    assert.equal(await o.thread.getByText('Imported spam here').count(), 0);
    // Dated as on the old site (the record's name and `created`), not as the day of the import.
    assert.equal(await top.locator('time').first().getAttribute('datetime'), '2013-01-01T10:00:00.000Z');
  });
});
