/** GET /api/admin/comments?status=pending over HTTP: the queue from the site's pending index (store/pending.ts). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  adminLogin as login,
  adminPasswordHash as passwordHash,
  startTestServer,
  type TestServer,
} from './fixtures/srv-helpers.js';

/** Every page of the queue, by its `next` cursors, `limit` at a time. */
async function wholeQueue(s: TestServer, auth: Record<string, string>, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let after = '';
  for (;;) {
    const r = await s.request(
      'GET',
      `/api/admin/comments?status=pending&limit=${limit}${after}`,
      undefined,
      auth,
    );
    assert.equal(r.status, 200, r.text);
    seen.push(...r.body.comments.map((c: { id: string }) => c.id));
    if (r.body.next === null) return seen;
    after = `&after=${encodeURIComponent(r.body.next)}`;
  }
}

test('the queue pages across pages by its cursor, and follows approvals, deletes and restores', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await passwordHash(), moderation: 'all' });
  const auth = await login(s);
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const uri = `https://blog.example.org/q/${i % 3}`;
    ids.push((await s.post({ uri, text: `waiting ${i}` })).body.comment.id);
    s.advance(1000);
  }
  const newestFirst = [...ids].reverse();
  assert.deepEqual(await wholeQueue(s, auth, 3), newestFirst);
  assert.equal(
    fs.readdirSync(path.join(s.dataDir, 'status', 'pending')).filter((n) => !n.startsWith('.')).length,
    7,
  );

  // The cursor's comment leaves the queue: the next page still starts after its place.
  const first = await s.request('GET', '/api/admin/comments?status=pending&limit=2', undefined, auth);
  assert.equal(first.body.next, newestFirst[1]);
  await s.request('POST', `/api/admin/comments/${newestFirst[1]}/approve`, undefined, auth);
  const second = await s.request(
    'GET',
    `/api/admin/comments?status=pending&limit=2&after=${encodeURIComponent(first.body.next)}`,
    undefined,
    auth,
  );
  assert.deepEqual(
    second.body.comments.map((c: { id: string }) => c.id),
    newestFirst.slice(2, 4),
  );

  await s.request('DELETE', `/api/admin/comments/${newestFirst[2]}`, undefined, auth);
  await s.request('POST', `/api/admin/comments/${newestFirst[3]}/spam`, undefined, auth);
  const left = newestFirst.filter((_, i) => i !== 1 && i !== 2 && i !== 3);
  assert.deepEqual(await wholeQueue(s, auth, 100), left);
  // Restored, the comment is back in its status: pending, so back in the queue.
  const restored = await s.request('POST', `/api/admin/comments/${newestFirst[2]}/restore`, undefined, auth);
  assert.equal(restored.body.comment.status, 'pending', restored.text);
  assert.deepEqual(
    await wholeQueue(s, auth, 100),
    newestFirst.filter((_, i) => i !== 1 && i !== 3),
  );
  const one = await s.request(
    'GET',
    `/api/admin/comments?status=pending&uri=${encodeURIComponent('https://blog.example.org/q/0')}`,
    undefined,
    auth,
  );
  assert.deepEqual(
    one.body.comments.map((c: { uri: string }) => c.uri),
    one.body.comments.map(() => 'https://blog.example.org/q/0'),
  );
  assert.ok(one.body.comments.length >= 2);
});
