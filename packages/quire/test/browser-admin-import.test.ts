/** The admin page's import form (issue 14): pick a format and a file, upload, see the summary; a bad file says why. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/srv-helpers.js';
import { browserUnavailable, hasText } from './fixtures/web-browser.js';
import { usePages } from './fixtures/web-page.js';
import { startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();
const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'port');

describe('the admin page imports a file', { skip: skip ?? false }, () => {
  const { adminLogin } = usePages();

  test('a Disqus export uploaded from the form is imported, its summary shown; the same file again adds nothing', async (t) => {
    const s = await startWebServer(t);
    const { page } = await adminLogin(t, s);
    const form = page.getByRole('form', { name: 'Import comments' });
    await form.getByLabel('Format').selectOption('disqus');
    await form.getByLabel('File').setInputFiles(path.join(FIX, 'disqus.xml'));
    await form.getByRole('button', { name: 'Import' }).click();
    const progress = form.getByRole('status');
    await hasText(progress, /^\s*Imported \d+ comments in \d+ threads: .* \d+ written now, 0 already there/);
    const first = Number(/(\d+) written now/.exec((await progress.textContent()) ?? '')?.[1]);
    assert.ok(first > 0, (await progress.textContent()) ?? '');
    // What the API reports as the last import is what the page showed.
    const last = (await (await page.request.get(`${s.url}/api/admin/import`)).json()) as {
      status: string;
      summary: { created: number };
    };
    assert.equal(last.status, 'done');
    assert.equal(last.summary.created, first);

    await form.getByRole('button', { name: 'Import' }).click();
    await hasText(progress, new RegExp(`0 written now, ${first} already there`));
  });

  test('a file that is not what the format says fails with the reason, and the form can be used again', async (t) => {
    const s = await startWebServer(t);
    const { page } = await adminLogin(t, s);
    const bad = path.join(tempDir(t), 'broken.xml');
    fs.writeFileSync(
      bad,
      '<disqus><thread dsq:id="1"><link>https://a.example/x</link></thread><post dsq:id="2"><mess',
    );
    const form = page.getByRole('form', { name: 'Import comments' });
    await form.getByLabel('File').setInputFiles(bad);
    await form.getByRole('button', { name: 'Import' }).click();
    await hasText(form.getByRole('alert'), /^\s*Import failed: .*line 1/);
    assert.equal(await form.getByRole('button', { name: 'Import' }).isEnabled(), true);
  });
});
