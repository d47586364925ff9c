/**
 * Issue 13: no instance-local state that changes behaviour. Two server processes on one data directory
 * enforce one rate limit and share admin logouts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  ADMIN_PASSWORD,
  adminPasswordHash,
  isProblem,
  request,
  spawnServer,
  tempDir,
} from './fixtures/srv-helpers.js';

const PAGE = 'https://blog.example.org/instances';
/** Windows are aligned to the clock: one this long is not crossed while the test runs. */
const LONG_WINDOW = 100_000_000;

async function twoInstances(t: TestContext, config: Record<string, unknown>): Promise<[string, string]> {
  const dataDir = path.join(tempDir(t), 'data');
  const a = await spawnServer(t, dataDir, config);
  const b = await spawnServer(t, dataDir, config);
  return [a.url, b.url];
}

async function post(url: string, text: string) {
  const token = (await request(url, 'GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`)).body.formToken;
  return request(url, 'POST', '/api/comments', { uri: PAGE, text, formToken: token });
}

test('two instances on one data directory enforce one post limit', async (t) => {
  const [a, b] = await twoInstances(t, { rateLimits: { posts: { max: 3, windowSeconds: LONG_WINDOW } } });
  for (const n of [1, 2, 3]) assert.equal((await post(a, `comment ${n} on A`)).status, 201);
  const fourth = await post(b, 'comment 4 on B');
  assert.ok(isProblem(fourth, 429, 'rate-limited'), fourth.text);
  assert.ok(Number(fourth.headers.get('retry-after')) >= 1);
  assert.ok(isProblem(await post(a, 'comment 5 on A'), 429, 'rate-limited'));
  const list = `/api/comments?uri=${encodeURIComponent(PAGE)}`;
  const listed = await request(b, 'GET', list);
  assert.equal(listed.body.comments.length, 3, 'no refused post was stored');
});

test('the request limit is one limit over both instances', async (t) => {
  const [a, b] = await twoInstances(t, { rateLimits: { requests: { max: 4, windowSeconds: LONG_WINDOW } } });
  const counts = `/api/counts?uri=${encodeURIComponent(PAGE)}`;
  for (const url of [a, b, a, b]) assert.equal((await request(url, 'GET', counts)).status, 200);
  assert.ok(isProblem(await request(b, 'GET', counts), 429, 'rate-limited'));
  assert.ok(isProblem(await request(a, 'GET', counts), 429, 'rate-limited'));
});

test('a large request limit is counted in blocks: at most max over both instances, at least max less one block, a marker per block', async (t) => {
  // 640 a window: blocks of 10 hits (store/shared-state.ts, blockSize), 64 markers.
  const max = 640;
  const dataDir = path.join(tempDir(t), 'data');
  const config = { rateLimits: { requests: { max, windowSeconds: LONG_WINDOW } } };
  const urls = [(await spawnServer(t, dataDir, config)).url, (await spawnServer(t, dataDir, config)).url];
  const counts = `/api/counts?uri=${encodeURIComponent(PAGE)}`;
  const statuses: number[] = [];
  // Alternating instances, 8 requests in flight on each, until both refuse.
  let i = 0;
  for (let refusedInARow = 0; refusedInARow < 16; ) {
    const batch = await Promise.all(
      Array.from({ length: 16 }, (_, j) => request(urls[(i + j) % 2] as string, 'GET', counts)),
    );
    i += 16;
    for (const r of batch) {
      statuses.push(r.status);
      refusedInARow = r.status === 429 ? refusedInARow + 1 : 0;
    }
    assert.ok(statuses.length < 4 * max, 'the limit never held');
  }
  const granted = statuses.filter((s) => s === 200).length;
  assert.ok(granted <= max, `${granted} requests granted past the limit of ${max}`);
  // Two instances: the other's unused hits of its last block at most (9) are lost to this one.
  assert.ok(granted >= max - 9, `only ${granted} of ${max} granted`);
  const bucket = path.join(dataDir, 'limits', 'requests');
  const markers = fs.readdirSync(bucket).filter((n) => !n.startsWith('.'));
  assert.equal(markers.length, max / 10, 'one marker per block of 10 hits');
});

test('an admin logout on one instance ends the session on the other', async (t) => {
  const [a, b] = await twoInstances(t, { adminPasswordHash: await adminPasswordHash() });
  const login = await request(a, 'POST', '/api/admin/login', { password: ADMIN_PASSWORD });
  assert.equal(login.status, 200, login.text);
  const bearer = { authorization: `Bearer ${login.body.token}` };
  assert.equal((await request(b, 'GET', '/api/admin/comments', undefined, bearer)).status, 200);
  const out = await request(a, 'POST', '/api/admin/logout', undefined, bearer);
  assert.deepEqual(out.body, { loggedOut: true });
  assert.ok(
    isProblem(await request(b, 'GET', '/api/admin/comments', undefined, bearer), 401, 'unauthorized'),
  );
  assert.ok(
    isProblem(await request(a, 'GET', '/api/admin/comments', undefined, bearer), 401, 'unauthorized'),
  );
  // A new session is not affected.
  const again = await request(b, 'POST', '/api/admin/login', { password: ADMIN_PASSWORD });
  const fresh = { authorization: `Bearer ${again.body.token}` };
  assert.equal((await request(a, 'GET', '/api/admin/comments', undefined, fresh)).status, 200);
});

test('a hit the data directory cannot count is let through, and the limit holds again once it can', async (t) => {
  const dataDir = path.join(tempDir(t), 'data');
  const a = await spawnServer(t, dataDir, { rateLimits: { posts: { max: 1, windowSeconds: LONG_WINDOW } } });
  // A file where the counters' directory belongs: every marker fails (ENOTDIR).
  fs.writeFileSync(path.join(dataDir, 'limits'), 'in the way');
  assert.equal((await post(a.url, 'counted by no one')).status, 201);
  assert.equal((await post(a.url, 'nor this one')).status, 201);
  fs.unlinkSync(path.join(dataDir, 'limits'));
  assert.equal((await post(a.url, 'counted')).status, 201);
  assert.ok(isProblem(await post(a.url, 'over the limit'), 429, 'rate-limited'));
});
