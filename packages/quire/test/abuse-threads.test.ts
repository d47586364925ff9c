import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { formatCommentId, normaliseUri, threadIdOf } from '../src/index.js';
import { isProblem, listComments, PAGE, startTestServer, type TestServer } from './fixtures/srv-helpers.js';

/** Every path under `dir`, sorted: what a request created shows up here. */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((p) => p.split(path.sep).join('/'))
    .sort();
}

/** Thread directories of the data directory. */
function threadDirs(s: TestServer): string[] {
  return fs.readdirSync(path.join(s.dataDir, 'threads'));
}

/** A site of its own on 127.0.0.1: `/real` is a page titled "The real title", everything else 404. */
async function pageSite(t: TestContext): Promise<{ origin: string; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/real') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><head><title>The real title</title></head><body>hi</body></html>');
    } else {
      res.writeHead(404).end('no');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

test('a refused request creates nothing: no thread directory, no .thread.json, no vote file', async (t) => {
  const s = await startTestServer(t, { origins: ['https://blog.example.org'] });
  const seeded = await s.post({ text: 'the first comment' });
  assert.equal(seeded.status, 201, seeded.text);
  // The seeded comment's note in the feed's index is written after its answer (store/recent.ts): let it land.
  await s.server.store.settled();
  const before = tree(s.dataDir);

  const fresh = 'https://blog.example.org/2026/never-commented';
  const ghost = formatCommentId(threadIdOf(normaliseUri(fresh)), '20261126T100000Z-1');
  const orphan = await s.post({ uri: fresh, title: 'Buy pills', text: 'reply to nothing', parent: ghost });
  assert.ok(isProblem(orphan, 422, 'parent-not-found'), orphan.text);

  const foreign = await s.post({ uri: 'https://any-other-site.example/x', title: 'Mine', text: 'hi' });
  assert.ok(isProblem(foreign, 400, 'uri-not-allowed'), foreign.text);

  const forged = await s.request('POST', '/api/comments', { uri: fresh, text: 'hi', formToken: 'f2-1.x' });
  assert.ok(isProblem(forged, 400, 'form-token-invalid'), forged.text);

  const like = await s.request('POST', `/api/comments/${encodeURIComponent(ghost)}/like`);
  assert.ok(isProblem(like, 404, 'not-found'), like.text);

  assert.deepEqual(tree(s.dataDir), before, 'the data directory is as it was');
  const feed = await s.request('GET', '/feed.atom');
  assert.ok(!feed.text.includes('Buy pills') && !feed.text.includes('Mine'), feed.text);
});

test('a post for a page outside origins is refused with problem+json, wherever the page claims to be', async (t) => {
  const s = await startTestServer(t, { origins: ['https://blog.example.org'] });
  for (const uri of [
    'https://any-other-site.example/2026/hello',
    'http://blog.example.org/2026/hello',
    'https://blog.example.org.evil.example/2026/hello',
    'https://blog.example.org:8443/2026/hello',
  ]) {
    const r = await s.post({ uri, text: `for ${uri}` });
    assert.ok(isProblem(r, 400, 'uri-not-allowed'), `${uri}: ${r.text}`);
  }
  assert.deepEqual(threadDirs(s), []);
  assert.equal((await s.post({ text: 'on the site' })).status, 201);
  assert.equal(threadDirs(s).length, 1);
});

test('query parameters that select no content start no thread of their own (?lang=de, ?x=<random>)', async (t) => {
  const s = await startTestServer(t, { origins: ['https://blog.example.org'] });
  const variants = [
    '',
    '?lang=de',
    `?x=${Math.random()}`,
    `?zz=${Math.random()}&lang=fr`,
    '?utm_source=feed',
  ];
  for (const [i, v] of variants.entries()) {
    const r = await s.post({ uri: `${PAGE}${v}`, text: `comment ${i}` });
    assert.equal(r.status, 201, r.text);
  }
  assert.equal(threadDirs(s).length, 1, 'one page, one thread');
  assert.equal((await listComments(s, `${PAGE}?lang=de`)).total, variants.length);
  // WordPress's plain permalinks select the post by ?p= or ?page_id=: those are different pages.
  for (const v of ['?p=1', '?p=2', '?page_id=3&lang=de']) {
    assert.equal((await s.post({ uri: `https://blog.example.org/${v}`, text: `post ${v}` })).status, 201);
  }
  assert.equal(threadDirs(s).length, 4);
});

test('verifyPages: a new thread only for a page its site serves with 2xx, titled by its own <title>', async (t) => {
  const site = await pageSite(t);
  const s = await startTestServer(t, {
    origins: [site.origin],
    verifyPages: true,
    verifyPagesAllowPrivate: true,
  });
  const ghost = formatCommentId(threadIdOf(normaliseUri(`${site.origin}/real`)), '20261126T100000Z-1');
  const orphan = await s.post({ uri: `${site.origin}/real`, text: 'reply to nothing', parent: ghost });
  assert.ok(isProblem(orphan, 422, 'parent-not-found'), orphan.text);
  const missing = await s.post({ uri: `${site.origin}/made-up`, title: 'Chosen', text: 'hello' });
  assert.ok(isProblem(missing, 422, 'page-not-found'), missing.text);
  assert.deepEqual(threadDirs(s), [], 'nothing created for a page that does not exist');

  const real = await s.post({ uri: `${site.origin}/real`, title: 'Attacker title', text: 'hello' });
  assert.equal(real.status, 201, real.text);
  assert.equal((await listComments(s, `${site.origin}/real`)).title, 'The real title');
  const second = await s.post({ uri: `${site.origin}/real`, title: 'Other', text: 'again' });
  assert.equal(second.status, 201);
  assert.deepEqual(site.hits, ['/made-up', '/real'], 'an existing thread is not fetched again');

  const strict = await startTestServer(t, { origins: [site.origin], verifyPages: true });
  const refused = await strict.post({ uri: `${site.origin}/real`, text: 'hello' });
  assert.ok(isProblem(refused, 422, 'page-address-refused'), refused.text);
  assert.deepEqual(threadDirs(strict), []);
});

test('rateLimits.threads and rateLimits.threadsTotal bound new threads per address and in all', async (t) => {
  const s = await startTestServer(t, {
    trustProxy: true,
    rateLimits: { threads: { max: 2, windowSeconds: 3600 }, threadsTotal: { max: 3, windowSeconds: 3600 } },
  });
  const from = (ip: string, page: string, text: string) =>
    s.post({ uri: `https://blog.example.org/${page}`, text }, { 'x-forwarded-for': ip });
  assert.equal((await from('198.51.100.1', 'a', 'one')).status, 201);
  assert.equal((await from('198.51.100.1', 'b', 'two')).status, 201);
  const third = await from('198.51.100.1', 'c', 'three');
  assert.ok(isProblem(third, 429, 'rate-limited'), third.text);
  assert.equal(third.headers.get('retry-after'), '3600');
  assert.equal(
    (await from('198.51.100.1', 'a', 'a reply to an old page')).status,
    201,
    'old threads are open',
  );
  assert.equal((await from('198.51.100.2', 'c', 'another client')).status, 201);
  const total = await from('198.51.100.3', 'd', 'a fourth new page');
  assert.ok(isProblem(total, 429, 'rate-limited'), total.text);
  assert.deepEqual(threadDirs(s).length, 3, 'nothing made by a refused post');
  s.advance(3600_000);
  assert.equal((await from('198.51.100.3', 'd', 'an hour later')).status, 201);
});
