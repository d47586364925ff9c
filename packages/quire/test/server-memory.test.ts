/** The caches outside the store's views stay within their byte budgets (config `cache`), however much is read. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommentStore, threadIdOf } from '../src/index.js';
import { markdownCacheBytes, renderMarkdown, setMarkdownCacheBytes } from '../src/server/markdown.js';
import { tempDir } from './fixtures/srv-helpers.js';
import { META, record } from './fixtures/srv-records.js';

test('the Markdown cache holds at most cache.markdownBytes, the most recently used texts', () => {
  setMarkdownCacheBytes(20_000);
  try {
    for (let i = 0; i < 2000; i++) renderMarkdown(`comment *${i}* with [a link](https://example.org/${i})`);
    assert.ok(markdownCacheBytes() <= 20_000, `${markdownCacheBytes()} bytes`);
    assert.ok(markdownCacheBytes() > 10_000, 'the budget is used, not ignored');
  } finally {
    setMarkdownCacheBytes(4 << 20);
  }
});

test("the duplicate check's summaries stay within cache.summaryBytes over many threads", async (t) => {
  const budget = 200 * 50;
  const store = await CommentStore.open(tempDir(t), {
    durable: false,
    cache: { indexBytes: 1 << 20, recordBytes: 1 << 20, summaryBytes: budget },
  });
  for (let p = 0; p < 20; p++) {
    const uri = `https://example.org/m/${p}`;
    for (let i = 0; i < 10; i++)
      await store.addComment(threadIdOf(uri), { ...META, uri }, record(`p${p} c${i}`), {
        duplicateWindowMs: 60_000,
      });
  }
  const { summaryBytes } = store.cacheStats();
  assert.ok(summaryBytes <= budget, `${summaryBytes} bytes`);
  assert.ok(summaryBytes >= budget / 2, 'the budget is used, not ignored');
  await store.settled();
});
