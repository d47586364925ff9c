import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { browserUnavailable, hasText } from './fixtures/web-browser.js';
import { demoUri, publicThread, usePages } from './fixtures/web-page.js';
import { startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

/** micromark takes seconds on it: the server refuses it with 422 markdown-too-complex. */
const PATHOLOGICAL = '*_'.repeat(4000);

describe('a text too complex to render', { skip: skip ?? false }, () => {
  const { open } = usePages();

  test('is refused in the server’s words, on preview and on posting, and the author keeps the text', async (t) => {
    const s = await startWebServer(t);
    const o = await open(t, s);
    const text = o.form.getByLabel('Comment', { exact: true });
    await text.fill(PATHOLOGICAL);
    await o.form.getByRole('button', { name: 'Preview' }).click();
    await hasText(
      o.form.getByRole('alert'),
      /Markdown takes longer than \d+ ms to render; simplify its formatting/,
    );
    assert.equal(await text.inputValue(), PATHOLOGICAL);
    await o.form.getByRole('button', { name: 'Post comment' }).click();
    await hasText(
      o.form.getByRole('alert'),
      /Markdown takes longer than \d+ ms to render; simplify its formatting/,
    );
    assert.equal(await text.inputValue(), PATHOLOGICAL, 'the text is still there');
    assert.equal((await publicThread(s, demoUri(s))).total, 0);
  });
});
