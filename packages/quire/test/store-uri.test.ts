import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG, normaliseUri, THREAD_ID, threadIdOf, UriError } from '../src/index.js';
import { PAGE } from './fixtures/srv-records.js';

test('variants of one page URL normalise to one URI', () => {
  const variants = [
    'https://example.org/2026/hello-world',
    'https://example.org/2026/hello-world/',
    'HTTPS://Example.ORG/2026/hello-world',
    'https://example.org:443/2026/hello-world',
    'https://example.org/2026/hello-world#comments',
    'https://example.org/2026/hello-world/?utm_source=feed&utm_medium=rss',
    'https://example.org/2026/hello-world?fbclid=IwAR0abc',
    'https://example.org/2026/hello-world?gclid=x&mc_eid=y&mc_cid=z',
    'https://example.org/2026/hello-world/index.html',
    'https://user:pw@example.org/2026/hello-world',
    'https://example.org/2026/hello%2Dworld',
  ];
  for (const v of variants) assert.equal(normaliseUri(v), PAGE, v);
});

test('with keepParams ["*"], remaining query parameters are kept and sorted: their order splits no thread', () => {
  const all = { ...DEFAULT_CONFIG.uri, keepParams: ['*'] };
  assert.equal(
    normaliseUri('https://example.org/p?b=2&a=1&utm_campaign=x', all),
    'https://example.org/p?a=1&b=2',
  );
  assert.equal(normaliseUri('https://example.org/p?a=1&b=2', all), 'https://example.org/p?a=1&b=2');
  assert.notEqual(
    normaliseUri('https://example.org/p?page=2', all),
    normaliseUri('https://example.org/p', all),
  );
});

test('by default only the parameters that select content (p, page_id) name a thread; others start none', () => {
  const page = 'https://example.org/post';
  for (const v of ['?lang=de', '?x=8f3a', '?zz=1&lang=de', '?utm_source=x', '?PAGE=2']) {
    assert.equal(normaliseUri(`${page}${v}`), page, v);
  }
  assert.equal(normaliseUri('https://example.org/?p=42&lang=de'), 'https://example.org/?p=42');
  assert.equal(normaliseUri('https://example.org/?Page_ID=7&x=1'), 'https://example.org/?Page_ID=7');
  assert.notEqual(normaliseUri('https://example.org/?p=1'), normaliseUri('https://example.org/?p=2'));
  const custom = { ...DEFAULT_CONFIG.uri, keepParams: ['lang'] };
  assert.equal(normaliseUri(`${page}?lang=de&p=1`, custom), `${page}?lang=de`);
});

test('normalisation options merge schemes, hosts and queries when a site asks for it', () => {
  const opts = {
    ...DEFAULT_CONFIG.uri,
    upgradeHttp: true,
    dropQuery: true,
    hostAliases: { 'www.example.org': 'example.org' },
  };
  assert.equal(normaliseUri('http://www.example.org/p/?page=2', opts), 'https://example.org/p');
  const keep = { ...DEFAULT_CONFIG.uri, trailingSlash: 'keep' as const };
  assert.notEqual(normaliseUri('https://example.org/p/', keep), normaliseUri('https://example.org/p', keep));
  assert.equal(normaliseUri('https://example.org/', keep), 'https://example.org/');
  assert.equal(normaliseUri('https://example.org'), 'https://example.org/');
});

test('URIs that are not absolute http(s) addresses are refused', () => {
  for (const bad of [
    '',
    '/relative/path',
    'javascript:alert(1)',
    'data:text/html,<script>',
    'file:///etc/passwd',
    'ftp://example.org/x',
    'https://example.org/a\u0000b',
    'https://example.org/a b',
    'https://example.org/\n',
    `https://example.org/${'a'.repeat(3000)}`,
  ]) {
    assert.throws(() => normaliseUri(bad), UriError, JSON.stringify(bad.slice(0, 40)));
  }
});

test('thread ids are readable, filesystem-safe, deterministic and distinct for distinct pages', () => {
  const id = threadIdOf(PAGE);
  assert.match(id, THREAD_ID);
  assert.equal(id, threadIdOf(PAGE));
  assert.ok(id.startsWith('example-org-2026-hello-world-'), id);
  const long = threadIdOf(`https://example.org/${'very-long-segment/'.repeat(20)}`);
  assert.match(long, THREAD_ID);
  assert.ok(long.length <= 48 + 1 + 32);
  const weird = threadIdOf('https://example.org/%E2%98%83/../?q=1');
  assert.match(weird, THREAD_ID);
  // Pages whose slugs collide still get different ids.
  assert.notEqual(threadIdOf('https://example.org/a-b'), threadIdOf('https://example.org/a/b'));
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(threadIdOf(`https://example.org/p?n=${i}`));
  assert.equal(seen.size, 2000);
});
