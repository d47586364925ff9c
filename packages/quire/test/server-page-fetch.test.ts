import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  DEFAULT_PAGE_FETCH,
  fetchPage,
  isPrivateAddress,
  PageFetchError,
  titleOf,
} from '../src/server/page-fetch.js';

let server: http.Server;
let base = '';
/** Requests the site got, by path: a refused fetch must not have reached it. */
const hits: string[] = [];
const LOCAL = { ...DEFAULT_PAGE_FETCH, allowPrivate: true, timeoutMs: 2000, maxBytes: 64 * 1024 };

before(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    switch (req.url) {
      case '/post':
        res.end(
          '<!doctype html><html><head><title> A &amp; B &#8212; blog </title></head><body>x</body></html>',
        );
        return;
      case '/moved':
        res.writeHead(301, { location: '/post' }).end();
        return;
      case '/away':
        res.writeHead(302, { location: 'https://elsewhere.example/post' }).end();
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' }).end();
        return;
      case '/huge':
        // Never ends by itself: only the byte cap stops the read.
        res.writeHead(200, { 'content-type': 'text/html' });
        res.write('<html><head>');
        res.write('x'.repeat(1024 * 1024));
        return;
      case '/silent':
        // Headers never come: only the deadline ends the fetch.
        return;
      default:
        res.writeHead(404).end('no');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function refused(code: string) {
  return (err: unknown) => err instanceof PageFetchError && err.code === code;
}

test('a page that answers 2xx is verified and its title is taken from its <title>', async () => {
  assert.deepEqual(await fetchPage(`${base}/post`, LOCAL), { title: 'A & B — blog' });
  assert.deepEqual(await fetchPage(`${base}/moved`, LOCAL), { title: 'A & B — blog' });
  assert.equal(titleOf('<p>no title</p>'), null);
});

test('missing pages, redirect loops and redirects to other sites are refused', async () => {
  await assert.rejects(fetchPage(`${base}/nope`, LOCAL), refused('page-not-found'));
  await assert.rejects(fetchPage(`${base}/loop`, LOCAL), refused('page-not-found'));
  await assert.rejects(fetchPage(`${base}/away`, LOCAL), refused('page-redirect-off-site'));
});

test('the bytes read and the time spent are bounded', async () => {
  await assert.rejects(
    fetchPage(`${base}/silent`, { ...LOCAL, timeoutMs: 200 }),
    refused('page-unreachable'),
  );
  // A page larger than the cap: the fetch ends at the cap (no title within it), it does not read on.
  assert.deepEqual(await fetchPage(`${base}/huge`, LOCAL), { title: null });
});

test('private and loopback addresses are refused unless allowed, by name too, before connecting', async () => {
  const before = hits.length;
  const strict = { ...LOCAL, allowPrivate: false };
  await assert.rejects(fetchPage(`${base}/post`, strict), refused('page-address-refused'));
  const port = (server.address() as AddressInfo).port;
  await assert.rejects(fetchPage(`http://localhost:${port}/post`, strict), refused('page-address-refused'));
  assert.equal(hits.length, before);
  for (const a of [
    '127.0.0.1',
    '10.1.2.3',
    '192.168.0.1',
    '169.254.169.254',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:10.0.0.1',
  ]) {
    assert.equal(isPrivateAddress(a), true, a);
  }
  for (const a of ['93.184.216.34', '2606:2800:220:1::1']) assert.equal(isPrivateAddress(a), false, a);
});
