import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { threadIdOf } from '../src/index.js';
import { isProblem, PAGE, listPath as q, startTestServer } from './fixtures/srv-helpers.js';

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
