import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { threadIdOf } from '../src/index.js';
import { isProblem, PAGE, startTestServer, type TestServer } from './fixtures/srv-helpers.js';

const q = (uri: string) => `/api/comments?uri=${encodeURIComponent(uri)}`;

async function list(s: TestServer, uri = PAGE, headers: Record<string, string> = {}, extra = '') {
  const r = await s.request('GET', `${q(uri)}${extra}`, undefined, headers);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

test('a posted comment is answered with 201 and an edit token, and listed for every variant of its page URL', async (t) => {
  const s = await startTestServer(t);
  const r = await s.post({
    uri: `${PAGE}/?utm_source=rss#comments`,
    text: 'First *post*',
    author: 'Ann',
    title: 'Hello',
  });
  assert.equal(r.status, 201, r.text);
  assert.match(r.contentType, /^application\/json/);
  const c = r.body.comment;
  assert.equal(c.text, 'First *post*');
  assert.equal(c.html, '<p>First <em>post</em></p>');
  assert.equal(c.author, 'Ann');
  assert.equal(c.status, 'approved');
  assert.equal(c.parent, null);
  assert.equal(typeof r.body.editToken, 'string');
  assert.equal(r.body.editableUntil, new Date(s.now() + 900_000).toISOString());
  for (const variant of [PAGE, `${PAGE}/`, 'https://BLOG.example.org:443/2026/hello?fbclid=x']) {
    const l = await list(s, variant);
    assert.equal(l.uri, PAGE);
    assert.equal(l.title, 'Hello');
    assert.equal(l.total, 1);
    assert.deepEqual(
      l.comments.map((x: { id: string }) => x.id),
      [c.id],
    );
    assert.equal(typeof l.formToken, 'string');
  }
  assert.equal((await list(s, 'https://blog.example.org/2026/other')).total, 0);
});

test('a retried POST with the same nonce returns the first comment and stores no second one', async (t) => {
  const s = await startTestServer(t);
  const body = { text: 'Only once', nonce: 'retry-nonce-1' };
  const answers = await Promise.all(Array.from({ length: 8 }, () => s.post(body)));
  const ids = new Set(answers.map((a) => a.body.comment.id));
  assert.ok(answers.every((a) => a.status === 201));
  assert.equal(ids.size, 1);
  assert.equal((await list(s)).total, 1);
  const tokens = new Set(answers.map((a) => a.body.editToken));
  assert.equal(tokens.size, 1, 'every retry gets the same edit token');
  const reused = await s.post({ text: 'Something else', nonce: 'retry-nonce-1' });
  assert.ok(isProblem(reused, 409, 'nonce-reused'), reused.text);
});

test('numbered attempts: a retry numbered 2 returns what attempt 1 stored, and an attempt must be 1 to 1000', async (t) => {
  const s = await startTestServer(t);
  const first = await s.post({ text: 'Numbered', nonce: 'numbered-nonce-1', attempt: 1 });
  assert.equal(first.status, 201, first.text);
  const retry = await s.post({ text: 'Numbered', nonce: 'numbered-nonce-1', attempt: 2 });
  assert.equal(retry.status, 201, retry.text);
  assert.equal(retry.body.comment.id, first.body.comment.id);
  assert.equal(retry.body.editToken, first.body.editToken);
  assert.equal((await list(s)).total, 1);
  for (const attempt of [0, 1001, 1.5, '1']) {
    const bad = await s.post({ text: `bad attempt ${attempt}`, nonce: 'numbered-nonce-2', attempt });
    assert.equal(bad.status, 400, `${attempt}: ${bad.text}`);
  }
});

test('replies nest under their parent; a deleted parent with replies stays as a tombstone, one without vanishes', async (t) => {
  const s = await startTestServer(t);
  const a = (await s.post({ text: 'A', author: 'Ann', email: 'ann@example.org' })).body;
  const b = (await s.post({ text: 'B' })).body;
  const a1 = (await s.post({ text: 'reply to A', parent: a.comment.id })).body;
  const a11 = (await s.post({ text: 'reply to the reply', parent: a1.comment.id })).body;
  let l = await list(s);
  assert.equal(l.total, 4);
  assert.deepEqual(
    l.comments.map((c: { text: string }) => c.text),
    ['A', 'B'],
  );
  assert.equal(l.comments[0].replies[0].id, a1.comment.id);
  assert.equal(l.comments[0].replies[0].replies[0].id, a11.comment.id);

  for (const [x, tok] of [
    [a.comment.id, a.editToken],
    [b.comment.id, b.editToken],
  ]) {
    const d = await s.request('DELETE', `/api/comments/${x}`, undefined, { 'x-quire-edit-token': tok });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.comment.status, 'deleted');
  }
  l = await list(s);
  assert.equal(l.total, 2);
  assert.equal(l.comments.length, 1, 'B had no replies and is gone');
  const tomb = l.comments[0];
  assert.equal(tomb.id, a.comment.id);
  assert.equal(tomb.status, 'deleted');
  assert.equal(tomb.text, '');
  assert.equal(tomb.author, null);
  assert.equal(tomb.replies[0].text, 'reply to A');
  // The file stays (a tombstone), with the personal data erased.
  const file = path.join(
    s.dataDir,
    'threads',
    threadIdOf(PAGE),
    `${a.comment.id.slice(a.comment.id.lastIndexOf('_') + 1)}.json`,
  );
  const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(onDisk.status, 'deleted');
  assert.equal(onDisk.email, null);
  assert.equal(onDisk.text, '');
  const orphan = await s.post({ text: 'reply to a deleted comment', parent: b.comment.id });
  assert.ok(isProblem(orphan, 422, 'parent-not-found'), orphan.text);
  const foreign = await s.post({
    uri: 'https://blog.example.org/elsewhere',
    text: 'x',
    parent: a1.comment.id,
  });
  assert.ok(isProblem(foreign, 422, 'parent-not-found'), foreign.text);
});

test('paging walks the top-level comments with limit and after, oldest or newest first', async (t) => {
  const s = await startTestServer(t);
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    ids.push((await s.post({ text: `comment ${i}` })).body.comment.id);
    s.advance(1000);
  }
  await s.post({ text: 'a reply', parent: ids[0] });
  const seen: string[] = [];
  let after = '';
  for (;;) {
    const page = await list(s, PAGE, {}, `&limit=3${after}`);
    assert.equal(page.total, 8);
    seen.push(...page.comments.map((c: { id: string }) => c.id));
    if (page.next === null) break;
    after = `&after=${encodeURIComponent(page.next)}`;
  }
  assert.deepEqual(seen, ids);
  const newest = await list(s, PAGE, {}, '&order=newest&limit=2');
  assert.deepEqual(
    newest.comments.map((c: { id: string }) => c.id),
    [ids[6], ids[5]],
  );
  const bad = await s.request('GET', `${q(PAGE)}&limit=0`);
  assert.ok(isProblem(bad, 400, 'invalid-request'));
});

test('in moderation mode a comment gets 202 and is shown only to its author until approved', async (t) => {
  const s = await startTestServer(t, { moderation: 'all' });
  const r = await s.post({ text: 'Please approve me' });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.comment.status, 'pending');
  assert.equal((await list(s)).total, 0);
  const mine = await list(s, PAGE, { 'x-quire-edit-token': r.body.editToken });
  assert.equal(mine.total, 1);
  assert.equal(mine.comments[0].status, 'pending');
  assert.equal(mine.moderation, 'all');
  const forged = `${r.body.editToken.slice(0, -3)}AAA`;
  assert.equal((await list(s, PAGE, { 'x-quire-edit-token': forged })).total, 0);
});

test('an author edits and deletes their own comment with its edit token within the edit window', async (t) => {
  const s = await startTestServer(t);
  const r = (await s.post({ text: 'Tpyo', author: 'Ann' })).body;
  s.advance(60_000);
  const e = await s.request(
    'PATCH',
    `/api/comments/${r.comment.id}`,
    { text: 'Typo, fixed', website: 'ann.example.org' },
    { 'x-quire-edit-token': r.editToken },
  );
  assert.equal(e.status, 200, e.text);
  assert.equal(e.body.comment.text, 'Typo, fixed');
  assert.equal(e.body.comment.website, 'https://ann.example.org/');
  assert.equal(e.body.comment.edited, new Date(s.now()).toISOString());
  assert.equal((await list(s)).comments[0].text, 'Typo, fixed');
  const d = await s.request('DELETE', `/api/comments/${r.comment.id}`, undefined, {
    'x-quire-edit-token': r.editToken,
  });
  assert.equal(d.status, 200, d.text);
  assert.equal((await list(s)).total, 0);
  const again = await s.request('DELETE', `/api/comments/${r.comment.id}`, undefined, {
    'x-quire-edit-token': r.editToken,
  });
  assert.ok(isProblem(again, 404, 'not-found'));
});

test('edits without a token are 401, with a forged or foreign token 403, and after the edit window 403', async (t) => {
  const s = await startTestServer(t, { editWindowSeconds: 600 });
  const a = (await s.post({ text: 'A' })).body;
  const b = (await s.post({ text: 'B' })).body;
  const patch = (id: string, headers: Record<string, string>) =>
    s.request('PATCH', `/api/comments/${id}`, { text: 'changed' }, headers);
  assert.ok(isProblem(await patch(a.comment.id, {}), 401, 'edit-token-missing'));
  assert.ok(
    isProblem(await patch(a.comment.id, { 'x-quire-edit-token': b.editToken }), 403, 'edit-token-invalid'),
  );
  assert.ok(
    isProblem(
      await patch(a.comment.id, { 'x-quire-edit-token': `${a.editToken}x` }),
      403,
      'edit-token-invalid',
    ),
  );
  assert.ok(
    isProblem(await patch(a.comment.id, { 'x-quire-edit-token': 'garbage' }), 403, 'edit-token-invalid'),
  );
  // A token whose payload claims a later expiry is not signed by the server.
  const [id, , sig] = a.editToken.split('.');
  const stretched = `${id}.${(s.now() + 10 * 86400_000).toString(36)}.${sig}`;
  assert.ok(
    isProblem(await patch(a.comment.id, { 'x-quire-edit-token': stretched }), 403, 'edit-token-invalid'),
  );
  s.advance(600_000);
  assert.equal((await patch(a.comment.id, { 'x-quire-edit-token': a.editToken })).status, 200, 'last moment');
  s.advance(1);
  const late = await patch(a.comment.id, { 'x-quire-edit-token': a.editToken });
  assert.ok(isProblem(late, 403, 'edit-window-closed'), late.text);
  const lateDelete = await s.request('DELETE', `/api/comments/${b.comment.id}`, undefined, {
    'x-quire-edit-token': b.editToken,
  });
  assert.ok(isProblem(lateDelete, 403, 'edit-window-closed'));
  assert.equal((await list(s)).total, 2);
  const unknown = await patch(`${threadIdOf(PAGE)}_20200101T000000Z-0`, {
    'x-quire-edit-token': a.editToken,
  });
  assert.ok(isProblem(unknown, 403, 'edit-token-invalid'));
});

test('a like counts once per client and only for approved comments', async (t) => {
  const s = await startTestServer(t, { trustProxy: true });
  const c = (await s.post({ text: 'Like me' })).body.comment;
  const like = (ip: string) =>
    s.request('POST', `/api/comments/${c.id}/like`, undefined, { 'x-forwarded-for': ip });
  const first = await Promise.all(Array.from({ length: 10 }, () => like('198.51.100.7')));
  assert.equal(first.filter((r) => r.body.counted === true).length, 1);
  assert.ok(first.every((r) => r.status === 200 && r.body.likes === 1));
  assert.deepEqual((await like('198.51.100.8')).body, { likes: 2, counted: true });
  // One IPv6 /64 is one client.
  assert.equal((await like('2001:db8:1:2::1')).body.counted, true);
  assert.equal((await like('2001:db8:1:2::ffff')).body.counted, false);
  assert.equal((await list(s)).comments[0].likes, 3);
  const missing = await s.request('POST', `/api/comments/${threadIdOf(PAGE)}_20200101T000000Z-0/like`);
  assert.ok(isProblem(missing, 404, 'not-found'));
  const m = await startTestServer(t, { moderation: 'all' });
  const pending = (await m.post({ text: 'pending' })).body.comment;
  assert.ok(isProblem(await m.request('POST', `/api/comments/${pending.id}/like`), 404, 'not-found'));
});

test('counts answer the number of public comments of each page, keyed as asked', async (t) => {
  const s = await startTestServer(t);
  await s.post({ text: 'one' });
  await s.post({ text: 'two' });
  await s.post({ uri: 'https://blog.example.org/b', text: 'three' });
  const r = await s.request(
    'GET',
    `/api/counts?uri=${encodeURIComponent(`${PAGE}/`)}&uri=${encodeURIComponent('https://blog.example.org/b')}&uri=${encodeURIComponent('https://blog.example.org/none')}`,
  );
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.counts, {
    [`${PAGE}/`]: 2,
    'https://blog.example.org/b': 1,
    'https://blog.example.org/none': 0,
  });
  const one = await s.request('GET', `/api/counts?uri=${encodeURIComponent(PAGE)}`);
  assert.deepEqual(one.body.counts, { [PAGE]: 2 });
  assert.ok(isProblem(await s.request('GET', '/api/counts?uri=javascript:alert(1)'), 400, 'invalid-uri'));
  assert.ok(isProblem(await s.request('GET', '/api/counts'), 400, 'invalid-request'));
});

test('preview renders Markdown the way comments are rendered, inert', async (t) => {
  const s = await startTestServer(t);
  const r = await s.request('POST', '/api/preview', { text: '**bold** [x](javascript:alert(1)) <b>raw</b>' });
  assert.equal(r.status, 200);
  assert.equal(
    r.body.html,
    '<p><strong>bold</strong> <a rel="nofollow ugc noopener" href="">x</a> &lt;b&gt;raw&lt;/b&gt;</p>',
  );
});

test('the Atom feeds list the newest approved comments of the site and of one page', async (t) => {
  const s = await startTestServer(t, { publicUrl: 'https://comments.example.org', moderation: 'off' });
  await s.post({ text: 'Older <tag> & stuff', author: 'Ann', title: 'Hello & welcome' });
  s.advance(1000);
  await s.post({ uri: 'https://blog.example.org/b', text: 'Newer', author: 'Bob' });
  const site = await s.request('GET', '/feed.atom');
  assert.equal(site.status, 200);
  assert.match(site.contentType, /^application\/atom\+xml/);
  assert.match(
    site.text,
    /^<\?xml version="1.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/,
  );
  const newer = site.text.indexOf('Newer');
  const older = site.text.indexOf('Older');
  assert.ok(newer > 0 && older > newer, 'newest first');
  assert.ok(
    site.text.includes('&lt;p&gt;Older &amp;lt;tag&amp;gt; &amp;amp; stuff&lt;/p&gt;'),
    'escaped twice: html in xml',
  );
  assert.ok(site.text.includes('<link rel="self" href="https://comments.example.org/feed.atom"/>'));
  assert.ok(site.text.includes('Ann on Hello &amp; welcome'));
  const page = await s.request('GET', `/feed.atom?uri=${encodeURIComponent(PAGE)}`);
  assert.equal(page.status, 200);
  assert.ok(page.text.includes('Older'));
  assert.ok(!page.text.includes('Newer'));
  assert.ok(isProblem(await s.request('GET', '/feed.atom?uri=nonsense'), 400, 'invalid-uri'));
});

test('healthz answers ok and the OpenAPI document describes every route with its schemas', async (t) => {
  const s = await startTestServer(t);
  const h = await s.request('GET', '/healthz');
  assert.deepEqual([h.status, h.body], [200, { status: 'ok' }]);
  const o = await s.request('GET', '/api/openapi.json');
  assert.equal(o.status, 200);
  assert.equal(o.body.openapi, '3.1.0');
  for (const p of [
    '/api/comments',
    '/api/comments/{id}',
    '/api/comments/{id}/like',
    '/api/counts',
    '/api/preview',
    '/api/form-token',
    '/feed.atom',
    '/healthz',
    '/api/admin/login',
    '/api/admin/comments',
    '/api/admin/comments/{id}',
    '/api/admin/comments/{id}/approve',
    '/api/admin/comments/{id}/spam',
    '/api/admin/settings',
  ]) {
    assert.ok(o.body.paths[p], `${p} is documented`);
  }
  const post = o.body.paths['/api/comments'].post;
  assert.ok(post.requestBody.content['application/json'].schema.properties.text);
  assert.ok(post.responses['201']);
  assert.ok(post.responses['409'].content['application/problem+json']);
});

test('CORS is granted to the configured origins only, and other origins may not change anything', async (t) => {
  const s = await startTestServer(t, { origins: ['https://blog.example.org'] });
  const ok = await s.request('GET', q(PAGE), undefined, { origin: 'https://blog.example.org' });
  assert.equal(ok.headers.get('access-control-allow-origin'), 'https://blog.example.org');
  const other = await s.request('GET', q(PAGE), undefined, { origin: 'https://evil.example' });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  const pre = await fetch(`${s.url}/api/comments`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://blog.example.org',
      'access-control-request-method': 'PATCH',
      'access-control-request-headers': 'content-type,x-quire-edit-token',
    },
  });
  assert.equal(pre.status, 204);
  assert.match(pre.headers.get('access-control-allow-headers') ?? '', /x-quire-edit-token/);
  const evil = await s.post({ text: 'csrf' }, { origin: 'https://evil.example' });
  assert.ok(isProblem(evil, 403, 'origin-not-allowed'), evil.text);
  const foreignPage = await s.post({ uri: 'https://elsewhere.example/p', text: 'hi' });
  assert.ok(isProblem(foreignPage, 400, 'uri-not-allowed'), foreignPage.text);
  assert.equal((await s.post({ text: 'fine' }, { origin: 'https://blog.example.org' })).status, 201);
});

test('e-mail addresses and whole client addresses reach neither public answers nor the logs', async (t) => {
  const s = await startTestServer(t, { trustProxy: true });
  const email = 'secret.person@example.net';
  const headers = { 'x-forwarded-for': '203.0.113.77' };
  const r = await s.post({ text: 'Private', email, author: 'P' }, headers);
  assert.equal(r.status, 201);
  const answers = [
    r.text,
    (await s.request('GET', q(PAGE), undefined, headers)).text,
    (await s.request('GET', '/feed.atom')).text,
    (await s.request('GET', `/feed.atom?uri=${encodeURIComponent(PAGE)}`)).text,
    (
      await s.request(
        'PATCH',
        `/api/comments/${r.body.comment.id}`,
        { text: 'x' },
        {
          ...headers,
          'x-quire-edit-token': r.body.editToken,
        },
      )
    ).text,
  ];
  for (const a of answers) assert.ok(!a.includes(email) && !a.includes('secret.person'), a.slice(0, 200));
  const logs = s.logs.join('');
  assert.ok(logs.includes('203.0.113.0/24'), 'the truncated address is logged');
  assert.ok(!logs.includes('203.0.113.77'), 'the whole address is not');
  assert.ok(!logs.includes('secret.person'));
  assert.ok(!logs.includes(r.body.editToken), 'tokens travel in headers, which are not logged');
  const stored = fs.readFileSync(
    path.join(s.dataDir, 'threads', threadIdOf(PAGE), `${r.body.comment.id.split('_')[1]}.json`),
    'utf8',
  );
  assert.ok(stored.includes(email), 'the owner keeps the e-mail');
  assert.ok(stored.includes('"ip": "203.0.113.0/24"'));
  assert.ok(!stored.includes('203.0.113.77'));
  assert.ok(s.logs.every((l) => typeof JSON.parse(l).reqId === 'string' || !l.includes('"req"')));
});

test('a filled honeypot field is refused with code honeypot', async (t) => {
  const s = await startTestServer(t);
  const r = await s.post({ text: 'I am a bot', url: 'http://spam.example' });
  assert.ok(isProblem(r, 400, 'honeypot'), r.text);
  assert.equal((await s.post({ text: 'I am a person', url: '' })).status, 201);
  const custom = await startTestServer(t, { spam: { honeypotField: 'phone' } });
  assert.ok(isProblem(await custom.post({ text: 'bot', phone: '555' }), 400, 'honeypot'));
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
  const token = (await s.request('GET', '/api/form-token')).body;
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
