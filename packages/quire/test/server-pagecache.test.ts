/** The kept answers of GET /api/comments (server/pagecache.ts): one copy each, its form token replaced in place. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PageCache, TOKEN_SLOT } from '../src/server/pagecache.js';

test('a kept page answers each token with the rest unchanged, shares one Buffer per token, and counts one copy', () => {
  const page = {
    title: 'Grüße – ünïcödé',
    comments: [{ text: 'x'.repeat(500) }],
    formToken: TOKEN_SLOT,
    next: null,
  };
  const serialised = JSON.stringify(page);
  const cache = new PageCache(Buffer.byteLength(serialised) * 2);
  const kept = cache.put('t1', 1, 'k', serialised);
  assert.ok(kept !== undefined);
  assert.ok(kept.body.length <= Buffer.byteLength(serialised), 'one copy of the page, not parts and a whole');
  for (const token of ['f2-abc.sig', 'f2-longer-token.with-another-signature', 'f2-"quoted"', 'f2-abc.sig']) {
    const a = PageCache.answer(kept, token);
    assert.equal(PageCache.answer(kept, token), a, 'the same Buffer within a token');
    assert.deepEqual(JSON.parse(a.toString('utf8')), { ...page, formToken: token });
  }
  assert.equal(cache.get('t1', 1, 'k'), kept);
  assert.equal(cache.get('t1', 2, 'k'), undefined, 'another version of the thread');
  // Two pages fit in twice a page's bytes; a third pushes the least recently used out.
  assert.ok(cache.put('t2', 1, 'k', serialised) !== undefined);
  assert.equal(cache.get('t1', 1, 'k'), kept, 'two pages in twice the bytes of one');
  assert.ok(cache.put('t3', 1, 'k', serialised) !== undefined);
  assert.equal(cache.get('t2', 1, 'k'), undefined, 'over the budget: the least recently used went');
});
