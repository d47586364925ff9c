import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, verifyPassword } from '../src/index.js';
import {
  isProblem,
  adminLogin as login,
  PAGE,
  ADMIN_PASSWORD as PASSWORD,
  adminPasswordHash as passwordHash,
  startTestServer,
} from './fixtures/srv-helpers.js';

test('hashPassword makes a salted scrypt hash that verifies the right password only', async () => {
  const h = await passwordHash();
  assert.match(h, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(!h.includes(PASSWORD));
  assert.notEqual(await hashPassword(PASSWORD), h, 'a fresh salt each time');
  assert.equal(await verifyPassword(PASSWORD, h), true);
  assert.equal(await verifyPassword('wrong', h), false);
  assert.equal(await verifyPassword(PASSWORD, 'scrypt$1$1$1$x$y'), false);
  assert.equal(await verifyPassword(PASSWORD, 'plain text'), false);
  await assert.rejects(hashPassword('short'));
});

test('without a configured password hash every admin route is 403 admin-disabled', async (t) => {
  const s = await startTestServer(t);
  assert.ok(
    isProblem(await s.request('POST', '/api/admin/login', { password: PASSWORD }), 403, 'admin-disabled'),
  );
  assert.ok(isProblem(await s.request('GET', '/api/admin/comments'), 403, 'admin-disabled'));
});

test('a wrong password is 401, and admin routes without a valid bearer token are 401', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await passwordHash() });
  assert.ok(
    isProblem(await s.request('POST', '/api/admin/login', { password: 'nope' }), 401, 'bad-password'),
  );
  for (const headers of [
    {} as Record<string, string>,
    { authorization: 'Bearer nonsense' },
    { authorization: 'Basic YWRtaW46cGFzc3dvcmQ=' },
    { authorization: 'Bearer a1-zzzzzzzz.forged' },
  ]) {
    const r = await s.request('GET', '/api/admin/comments', undefined, headers);
    assert.ok(isProblem(r, 401, 'unauthorized'), r.text);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="quire"');
  }
  const id = `${(await s.post({ text: 'x' })).body.comment.id}`;
  for (const [method, p, body] of [
    ['POST', `/api/admin/comments/${id}/approve`, undefined],
    ['POST', `/api/admin/comments/${id}/spam`, undefined],
    ['PATCH', `/api/admin/comments/${id}`, { text: 'hacked' }],
    ['DELETE', `/api/admin/comments/${id}`, undefined],
    ['GET', `/api/admin/comments/${id}`, undefined],
    ['PUT', '/api/admin/settings', { moderation: 'all' }],
  ] as const) {
    assert.ok(isProblem(await s.request(method, p, body), 401, 'unauthorized'), `${method} ${p}`);
  }
  assert.equal(
    (await s.request('GET', `/api/comments?uri=${encodeURIComponent(PAGE)}`)).body.comments[0].text,
    'x',
  );
});

test('the site owner lists pending comments, approves one and rejects another as spam', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await passwordHash(), moderation: 'all' });
  const auth = await login(s);
  const good = (await s.post({ text: 'Good comment', email: 'good@example.org', author: 'G' })).body.comment;
  s.advance(1000);
  const spam = (await s.post({ uri: 'https://blog.example.org/b', text: 'Buy pills' })).body.comment;
  const pending = await s.request('GET', '/api/admin/comments', undefined, auth);
  assert.equal(pending.status, 200, pending.text);
  assert.deepEqual(
    pending.body.comments.map((c: { id: string }) => c.id),
    [spam.id, good.id],
    'newest first, across pages',
  );
  const g = pending.body.comments[1];
  assert.equal(g.email, 'good@example.org');
  assert.equal(g.ip, '127.0.0.0/24');
  assert.equal(g.uri, PAGE);
  assert.equal(g.status, 'pending');
  const approved = await s.request('POST', `/api/admin/comments/${good.id}/approve`, undefined, auth);
  assert.equal(approved.status, 200, approved.text);
  assert.equal(approved.body.comment.status, 'approved');
  const rejected = await s.request('POST', `/api/admin/comments/${spam.id}/spam`, undefined, auth);
  assert.equal(rejected.body.comment.status, 'spam');
  assert.equal((await s.request('GET', '/api/admin/comments', undefined, auth)).body.comments.length, 0);
  const spamList = await s.request('GET', '/api/admin/comments?status=spam', undefined, auth);
  assert.deepEqual(
    spamList.body.comments.map((c: { id: string }) => c.id),
    [spam.id],
  );
  const publicList = await s.request('GET', `/api/comments?uri=${encodeURIComponent(PAGE)}`);
  assert.deepEqual(
    publicList.body.comments.map((c: { text: string }) => c.text),
    ['Good comment'],
  );
  assert.equal(
    (await s.request('GET', `/api/comments?uri=${encodeURIComponent('https://blog.example.org/b')}`)).body
      .total,
    0,
  );
  const one = await s.request('GET', `/api/admin/comments/${good.id}`, undefined, auth);
  assert.equal(one.body.comment.text, 'Good comment');
  const byPage = await s.request(
    'GET',
    `/api/admin/comments?status=all&uri=${encodeURIComponent(PAGE)}`,
    undefined,
    auth,
  );
  assert.equal(byPage.body.comments.length, 1);
});

test('the admin list pages through many comments with limit and after', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await passwordHash() });
  const auth = await login(s);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push((await s.post({ text: `c${i}` })).body.comment.id);
    s.advance(1000);
  }
  const seen: string[] = [];
  let after = '';
  for (;;) {
    const r = await s.request('GET', `/api/admin/comments?status=approved&limit=2${after}`, undefined, auth);
    seen.push(...r.body.comments.map((c: { id: string }) => c.id));
    if (r.body.next === null) break;
    after = `&after=${encodeURIComponent(r.body.next)}`;
  }
  assert.deepEqual(seen, ids.reverse());
});

test('the site owner edits and deletes any comment; a deleted one keeps no personal data', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await passwordHash() });
  const auth = await login(s);
  const c = (await s.post({ text: 'Rude words', author: 'R', email: 'r@example.org' })).body.comment;
  s.advance(3600_000);
  const e = await s.request(
    'PATCH',
    `/api/admin/comments/${c.id}`,
    { text: 'Polite words', email: null },
    auth,
  );
  assert.equal(e.status, 200, e.text);
  assert.equal(e.body.comment.text, 'Polite words');
  assert.equal(e.body.comment.email, null);
  assert.equal(e.body.comment.edited, new Date(s.now()).toISOString());
  const d = await s.request('DELETE', `/api/admin/comments/${c.id}`, undefined, auth);
  assert.equal(d.status, 200);
  assert.equal(d.body.comment.status, 'deleted');
  assert.equal(d.body.comment.author, null);
  assert.equal(d.body.comment.text, '');
  assert.equal(d.body.comment.ip, null);
  const again = await s.request('PATCH', `/api/admin/comments/${c.id}`, { text: 'x' }, auth);
  assert.ok(isProblem(again, 409, 'comment-deleted'));
  const missing = await s.request(
    'GET',
    `/api/admin/comments/${c.id.replace(/Z-0$/, 'Z-9')}`,
    undefined,
    auth,
  );
  assert.ok(isProblem(missing, 404, 'not-found'));
  assert.ok(isProblem(await s.request('GET', '/api/admin/comments/..%2Fsecret', undefined, auth), 400));
});

test('moderation switched on at run time makes new comments wait, and is kept across restarts', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await passwordHash() });
  const auth = await login(s);
  assert.deepEqual((await s.request('GET', '/api/admin/settings', undefined, auth)).body, {
    moderation: 'off',
  });
  assert.equal((await s.post({ text: 'before' })).status, 201);
  const put = await s.request('PUT', '/api/admin/settings', { moderation: 'all' }, auth);
  assert.deepEqual(put.body, { moderation: 'all' });
  assert.equal((await s.post({ text: 'after' })).status, 202);
  assert.ok(isProblem(await s.request('PUT', '/api/admin/settings', { moderation: 'maybe' }, auth), 400));
  await s.server.close();
  const again = await startTestServer(t, { adminPasswordHash: await passwordHash() }, { dataDir: s.dataDir });
  assert.equal((await again.post({ text: 'after restart' })).status, 202);
});

test('a session token expires, and a new password hash ends every session', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await passwordHash(), adminSessionSeconds: 3600 });
  const auth = await login(s);
  assert.equal((await s.request('GET', '/api/admin/comments', undefined, auth)).status, 200);
  s.advance(3600_001);
  assert.ok(isProblem(await s.request('GET', '/api/admin/comments', undefined, auth), 401, 'unauthorized'));
  const other = await startTestServer(
    t,
    { adminPasswordHash: await hashPassword('another password') },
    {
      dataDir: s.dataDir,
    },
  );
  const fresh = await login(s);
  assert.ok(
    isProblem(await other.request('GET', '/api/admin/comments', undefined, fresh), 401, 'unauthorized'),
  );
});

test('login attempts are rate limited per client', async (t) => {
  const s = await startTestServer(t, {
    adminPasswordHash: await passwordHash(),
    rateLimits: { login: { max: 3, windowSeconds: 900 } },
  });
  for (let i = 0; i < 3; i++) {
    assert.ok(
      isProblem(await s.request('POST', '/api/admin/login', { password: `guess ${i}` }), 401, 'bad-password'),
    );
  }
  const limited = await s.request('POST', '/api/admin/login', { password: PASSWORD });
  assert.ok(isProblem(limited, 429, 'rate-limited'));
  assert.equal(limited.headers.get('retry-after'), '900');
});
