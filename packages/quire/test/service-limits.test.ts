/** Limits of their own for previews and logins; a login flood never holds a comment. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminPasswordHash, isProblem, PAGE, startTestServer } from './fixtures/srv-helpers.js';

test('previews have a rate limit of their own (rateLimits.previews); max 0 disables it', async (t) => {
  const s = await startTestServer(t, { rateLimits: { previews: { max: 2, windowSeconds: 60 } } });
  for (let i = 0; i < 2; i++) {
    assert.equal((await s.request('POST', '/api/preview', { text: `*${i}*` })).status, 200);
  }
  const limited = await s.request('POST', '/api/preview', { text: '*again*' });
  assert.ok(isProblem(limited, 429, 'rate-limited'), limited.text);
  assert.equal(limited.headers.get('retry-after'), '60');
  // Other requests of the same client are not counted against it, nor it against them.
  assert.equal((await s.request('GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`)).status, 200);
  s.advance(60_000);
  assert.equal((await s.request('POST', '/api/preview', { text: '*later*' })).status, 200);

  const off = await startTestServer(t, { rateLimits: { previews: { max: 0, windowSeconds: 60 } } });
  for (let i = 0; i < 5; i++) {
    assert.equal((await off.request('POST', '/api/preview', { text: `*${i}*` })).status, 200);
  }
});

test('logins have a global limit besides the per-address one (rateLimits.loginsTotal)', async (t) => {
  const s = await startTestServer(t, {
    adminPasswordHash: await adminPasswordHash(),
    rateLimits: { loginsTotal: { max: 3, windowSeconds: 60 } },
  });
  for (let i = 0; i < 3; i++) {
    const r = await s.request('POST', '/api/admin/login', { password: `guess ${i}` });
    assert.ok(isProblem(r, 401, 'bad-password'), r.text);
  }
  const limited = await s.request('POST', '/api/admin/session', { password: 'guess 4' });
  assert.ok(isProblem(limited, 429, 'rate-limited'), limited.text);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
});

test('a flood of wrong logins: refused as busy (503, Retry-After) past the queue, and a comment is not held', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  let settled = 0;
  const logins = Array.from({ length: 40 }, (_, i) =>
    s
      .request('POST', i % 2 === 0 ? '/api/admin/login' : '/api/admin/session', { password: `guess ${i}` })
      .finally(() => settled++),
  );
  const posted = await s.post({ text: 'posted during a login flood' });
  assert.equal(posted.status, 201, posted.text);
  // Checks run one at a time (~100 ms each, 16 queued at most): the POST did not wait for them.
  assert.ok(settled < 40, `the POST was answered after all ${settled} logins`);
  const answers = await Promise.all(logins);
  for (const r of answers) {
    assert.ok(isProblem(r, 401, 'bad-password') || isProblem(r, 503, 'login-busy'), r.text);
    if (r.status === 503) assert.ok(Number(r.headers.get('retry-after')) > 0);
  }
  assert.ok(
    answers.some((r) => r.status === 503),
    'past the queue, logins are refused at once',
  );
});
