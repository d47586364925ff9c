/**
 * Issue 13: no instance-local state that changes behaviour. Two server processes on one data directory
 * enforce one rate limit and share admin logouts.
 */
import assert from 'node:assert/strict';
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
