import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isProblem, PAGE, listPath as q, startTestServer } from './fixtures/srv-helpers.js';

test('a filled honeypot field gets the very refusal of a forged form token, naming no field', async (t) => {
  const s = await startTestServer(t);
  const r = await s.post({ text: 'I am a bot', url: 'http://spam.example' });
  const forged = await s.post({ text: 'I am a bot', formToken: 'f2-abc.def' });
  assert.ok(isProblem(r, 400, 'form-token-invalid'), r.text);
  const { instance: _a, ...honey } = r.body;
  const { instance: _b, ...other } = forged.body;
  assert.deepEqual(honey, other, 'same status, code and wording');
  assert.ok(!/honeypot|\burl\b/i.test(r.text), r.text);
  assert.equal((await s.post({ text: 'I am a person', url: '' })).status, 201);
  const custom = await startTestServer(t, { spam: { honeypotField: 'phone' } });
  const bot = await custom.post({ text: 'bot', phone: '555' });
  assert.ok(isProblem(bot, 400, 'form-token-invalid') && !bot.text.includes('phone'), bot.text);
});

test('a missing, forged, too fresh or expired form token is refused', async (t) => {
  const s = await startTestServer(t, { spam: { minComposeSeconds: 5, formTokenMaxAgeSeconds: 3600 } });
  const post = (formToken: string | undefined) =>
    s.request('POST', '/api/comments', {
      uri: PAGE,
      text: `t ${Math.random()}`,
      ...(formToken ? { formToken } : {}),
    });
  assert.ok(isProblem(await post(undefined), 400, 'form-token-missing'));
  assert.ok(isProblem(await post('f1-abc.def'), 400, 'form-token-invalid'));
  const token = (await s.request('GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`)).body;
  assert.equal(token.notBefore, new Date(s.now() + 5000).toISOString());
  const fast = await post(token.formToken);
  assert.ok(isProblem(fast, 400, 'too-fast'), fast.text);
  assert.equal(fast.headers.get('retry-after'), '5');
  s.advance(5000);
  assert.equal((await post(token.formToken)).status, 201);
  s.advance(3600_000);
  assert.ok(isProblem(await post(token.formToken), 400, 'form-token-expired'));
  const off = await startTestServer(t, { spam: { requireFormToken: false } });
  assert.equal(
    (await off.request('POST', '/api/comments', { uri: PAGE, text: 'no token needed' })).status,
    201,
  );
});

test('a comment with more links than allowed is refused, bare addresses included', async (t) => {
  const s = await startTestServer(t, { spam: { maxLinks: 2 } });
  const three = 'see [a](https://a.example) and <https://b.example> and https://c.example';
  const r = await s.post({ text: three });
  assert.ok(isProblem(r, 422, 'too-many-links'), r.text);
  assert.ok(
    isProblem(await s.post({ text: 'www.a.example www.b.example www.c.example' }), 422, 'too-many-links'),
  );
  assert.equal((await s.post({ text: 'just [one](https://a.example) and https://b.example' })).status, 201);
});

test('the same text in one thread is refused within the duplicate window and accepted after it', async (t) => {
  const s = await startTestServer(t, { spam: { duplicateWindowSeconds: 600 } });
  assert.equal((await s.post({ text: 'Nice post!' })).status, 201);
  const dup = await s.post({ text: '  nice   POST! ' });
  assert.ok(isProblem(dup, 409, 'duplicate'), dup.text);
  assert.equal((await s.post({ uri: 'https://blog.example.org/other', text: 'Nice post!' })).status, 201);
  s.advance(601_000);
  assert.equal((await s.post({ text: 'Nice post!' })).status, 201);
});

test('posting faster than the rate limit gets 429 with Retry-After, per client', async (t) => {
  const s = await startTestServer(t, {
    trustProxy: true,
    rateLimits: { posts: { max: 3, windowSeconds: 60 } },
  });
  const from = (ip: string, i: number) => s.post({ text: `comment ${ip} ${i}` }, { 'x-forwarded-for': ip });
  for (let i = 0; i < 3; i++) assert.equal((await from('198.51.100.1', i)).status, 201);
  const limited = await from('198.51.100.1', 3);
  assert.ok(isProblem(limited, 429, 'rate-limited'), limited.text);
  assert.equal(limited.headers.get('retry-after'), '60');
  assert.equal(limited.body.retryAfter, 60);
  assert.equal((await from('198.51.100.2', 0)).status, 201, 'another client is not limited');
  s.advance(60_000);
  assert.equal((await from('198.51.100.1', 4)).status, 201, 'a new window');
  const r = await startTestServer(t, { rateLimits: { requests: { max: 2, windowSeconds: 10 } } });
  assert.equal((await r.request('GET', q(PAGE))).status, 200);
  assert.equal((await r.request('GET', q(PAGE))).status, 200);
  assert.ok(isProblem(await r.request('GET', q(PAGE)), 429, 'rate-limited'));
  assert.equal((await r.request('GET', '/healthz')).status, 200, 'health checks are not limited');
});

test('a body over the limit is refused with 413 problem+json before it is read', async (t) => {
  const s = await startTestServer(t, { limits: { bodyBytes: 4096 } });
  const r = await s.post({ text: 'x'.repeat(5000) });
  assert.ok(isProblem(r, 413, 'body-too-large'), r.text);
  const long = await startTestServer(t, { limits: { textChars: 100 } });
  assert.ok(isProblem(await long.post({ text: 'y'.repeat(101) }), 400, 'invalid-request'));
});

test('fields are checked: names and e-mail and website shapes, control characters, empty text', async (t) => {
  const s = await startTestServer(t, { requireAuthor: true });
  const cases: [Record<string, unknown>, number, string][] = [
    [{ text: 'x' }, 400, 'author-required'],
    [{ text: 'x', author: 'A', email: 'not an address' }, 400, 'invalid-email'],
    [{ text: 'x', author: 'A', website: 'javascript:alert(1)' }, 400, 'invalid-website'],
    [{ text: 'x', author: 'A', website: 'https://user:pw@example.org' }, 400, 'invalid-website'],
    [{ text: 'a\u0000b', author: 'A' }, 400, 'invalid-characters'],
    [{ text: 'ok', author: 'A\nB' }, 400, 'invalid-characters'],
    [{ text: 'bad \ud800 surrogate', author: 'A' }, 400, 'invalid-characters'],
    [{ text: '   \n\t ', author: 'A' }, 400, 'empty-text'],
    [{ text: 'x', author: 'A', extra: 1 }, 400, 'invalid-request'],
    [{ text: 42, author: 'A' }, 400, 'invalid-request'],
    [{ text: 'x', author: 'A', uri: 'https://a.example/\u0000' }, 400, 'invalid-uri'],
    [{ text: 'x', author: 'A', nonce: 'short' }, 400, 'invalid-request'],
  ];
  for (const [fields, status, code] of cases) {
    const r = await s.post(fields);
    assert.ok(isProblem(r, status, code), `${JSON.stringify(fields)} -> ${r.text}`);
  }
  const ok = await s.post({ text: '  fine\r\nline two  ', author: ' Ann ', email: 'ann@example.org' });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.comment.text, 'fine\nline two');
  assert.equal(ok.body.comment.author, 'Ann');
});
