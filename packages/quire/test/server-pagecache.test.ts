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

test('requests for a page not kept share one making of it, and at most 4 pages are made at once', async () => {
  const cache = new PageCache(1 << 20);
  const serialised = JSON.stringify({ comments: [], formToken: TOKEN_SLOT });
  let makes = 0;
  let running = 0;
  let most = 0;
  const make = async () => {
    makes++;
    most = Math.max(most, ++running);
    // Other callers get their turn before this making ends (no timing: one turn of the loop).
    await new Promise((resolve) => setImmediate(resolve));
    running--;
    return serialised;
  };
  const same = await Promise.all(Array.from({ length: 10 }, () => cache.make('t', 1, 'k', make)));
  assert.equal(makes, 1, 'one making for ten requests');
  assert.ok(same.every((p) => p !== undefined && p === same[0]));
  assert.equal(await cache.make('t', 1, 'k', make), same[0], 'kept: not made again');
  await Promise.all(Array.from({ length: 12 }, (_, i) => cache.make(`t${i}`, 1, 'k', make)));
  assert.equal(makes, 13);
  assert.equal(most, 4, 'four makings at once, never more');
  // A making that keeps nothing (a page with a text not rendered yet) answers undefined to everyone waiting.
  const none = await Promise.all([1, 2].map(() => cache.make('u', 1, 'k', async () => undefined)));
  assert.deepEqual(none, [undefined, undefined]);
});
