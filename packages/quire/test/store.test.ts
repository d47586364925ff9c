import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Coalescer, SETTLE_COARSE_MS, SETTLE_MS, type Stamp, settled } from '@quire/fs';
import {
  type CommentRecord,
  CommentStore,
  DEFAULT_CONFIG,
  normaliseUri,
  StoreError,
  THREAD_ID,
  threadIdOf,
  UriError,
} from '../src/index.js';
import { serialiseRecord, textHashOf } from '../src/store/records.js';
import { T0, tempDir } from './fixtures/srv-helpers.js';

const PAGE = 'https://example.org/2026/hello-world';

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

test('remaining query parameters are kept and sorted, so their order does not split a thread', () => {
  assert.equal(normaliseUri('https://example.org/p?b=2&a=1&utm_campaign=x'), 'https://example.org/p?a=1&b=2');
  assert.equal(normaliseUri('https://example.org/p?a=1&b=2'), 'https://example.org/p?a=1&b=2');
  assert.notEqual(normaliseUri('https://example.org/p?page=2'), normaliseUri('https://example.org/p'));
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

function record(text: string, over: Partial<CommentRecord> = {}): CommentRecord {
  return {
    v: 1,
    parent: null,
    author: 'Ann',
    email: 'ann@example.org',
    website: null,
    text,
    status: 'approved',
    created: new Date(T0).toISOString(),
    edited: null,
    deleted: null,
    ip: '203.0.113.0/24',
    ipHash: 'abc',
    nonce: null,
    textHash: textHashOf(text),
    ...over,
  };
}

const META = { uri: PAGE, title: 'Hello', created: new Date(T0).toISOString() };

test('opening a data directory creates it with a secret that later opens keep', async (t) => {
  const dir = path.join(tempDir(t), 'data');
  const [a, b] = await Promise.all([CommentStore.open(dir), CommentStore.open(dir)]);
  assert.equal(a.hmacs.hex('ip', 'x'), b.hmacs.hex('ip', 'x'), 'two racing first starts share one secret');
  const secret = fs.readFileSync(path.join(dir, 'secret'));
  assert.equal(secret.length, 32);
  assert.equal(fs.statSync(path.join(dir, 'secret')).mode & 0o777, 0o600);
  const c = await CommentStore.open(dir);
  assert.equal(c.hmacs.hex('ip', 'x'), a.hmacs.hex('ip', 'x'));
  assert.ok(fs.statSync(path.join(dir, 'threads')).isDirectory());
});

test('a comment is one pretty-printed JSON file in its thread, with the thread recorded once', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const r = await store.addComment(threadId, META, record('first'), { duplicateWindowMs: 0 });
  assert.equal(r.created, true);
  assert.equal(r.stem, '20261126T100000Z-0');
  const file = path.join(dir, 'threads', threadId, `${r.stem}.json`);
  const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(onDisk.text, 'first');
  assert.ok(fs.readFileSync(file, 'utf8').includes('\n  "text": "first",\n'), 'readable with cat');
  await store.addComment(threadId, { ...META, title: 'Another title' }, record('second'), {
    duplicateWindowMs: 0,
  });
  assert.deepEqual(await store.threadMeta(threadId), META);
  assert.deepEqual(
    (await store.comments(threadId)).map((c) => c.record.text),
    ['first', 'second'],
  );
});

/** The files under `dir` named `name` that this process has descriptors open on. */
function openFilesNamed(dir: string, name: string): number {
  const root = `${fs.realpathSync(dir)}/`;
  const files = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(root) && path.basename(target) === name) files.add(target);
    } catch {
      // The descriptor readdir itself used, closed by now.
    }
  }
  return files.size;
}

test('posting to many threads keeps a bounded number of post lock files open', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  const pages = Array.from({ length: 20 }, (_, i) => `https://example.org/page-${i}`);
  for (const uri of pages) {
    await store.addComment(threadIdOf(uri), { ...META, uri }, record(`on ${uri}`, { nonce: `n-${uri}` }), {
      duplicateWindowMs: 60_000,
    });
  }
  const open = openFilesNamed(dir, '.post.lock');
  assert.ok(open >= 1 && open <= 8, `${open} .post.lock files open after posting to 20 threads`);
  // A thread whose lock file was closed still takes posts, and still finds a retry.
  const first = pages[0] as string;
  const again = await store.addComment(
    threadIdOf(first),
    { ...META, uri: first },
    record(`on ${first}`, { nonce: `n-${first}` }),
    { duplicateWindowMs: 60_000 },
  );
  assert.equal(again.created, false);
  assert.equal((await store.comments(threadIdOf(first))).length, 1);
});

test('a comment posted again with the same nonce is returned, not stored twice, even from a fresh process state', async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  const first = await store.addComment(threadId, META, record('once', { nonce: 'n1' }), {
    duplicateWindowMs: 0,
  });
  const again = await store.addComment(threadId, META, record('once', { nonce: 'n1' }), {
    duplicateWindowMs: 0,
  });
  assert.equal(again.created, false);
  assert.equal(again.stem, first.stem);
  // An hour later (outside the recent-nonce window), a new store object still finds it through the spool key.
  const later = await CommentStore.open(dir, { clock: () => T0 + 3600_000 });
  const late = await later.addComment(threadId, META, record('once', { nonce: 'n1' }), {
    duplicateWindowMs: 0,
  });
  assert.equal(late.created, false);
  assert.equal(late.stem, first.stem);
  await assert.rejects(
    store.addComment(threadId, META, record('different text', { nonce: 'n1' }), { duplicateWindowMs: 0 }),
    (e) => e instanceof StoreError && e.code === 'nonce-reused',
  );
  assert.equal((await store.comments(threadId)).length, 1);
});

test('the same text in one thread within the window is refused, also when the attempts race', async (t) => {
  const store = await CommentStore.open(tempDir(t), { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) =>
      store.addComment(threadId, META, record(i % 2 ? 'Great post!' : 'great   POST!'), {
        duplicateWindowMs: 600_000,
      }),
    ),
  );
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) {
    if (r.status === 'rejected') assert.ok(r.reason instanceof StoreError && r.reason.code === 'duplicate');
  }
});

test('a reply must name a parent in the same thread that is not deleted', async (t) => {
  const store = await CommentStore.open(tempDir(t), { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const parent = await store.addComment(threadId, META, record('parent'), { duplicateWindowMs: 0 });
  const ok = await store.addComment(threadId, META, record('child', { parent: parent.stem }), {
    duplicateWindowMs: 0,
  });
  assert.equal(ok.record.parent, parent.stem);
  await assert.rejects(
    store.addComment(threadId, META, record('orphan', { parent: '20200101T000000Z-0' }), {
      duplicateWindowMs: 0,
    }),
    (e) => e instanceof StoreError && e.code === 'parent-not-found',
  );
  await store.updateComment(threadId, parent.stem, (c) => ({ ...c, status: 'deleted' }));
  await assert.rejects(
    store.addComment(threadId, META, record('late', { parent: parent.stem }), { duplicateWindowMs: 0 }),
    (e) => e instanceof StoreError && e.code === 'parent-not-found',
  );
});

test('one voter counts once per comment however many likes race, and the count is the number of vote files', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const c = await store.addComment(threadId, META, record('likeable'), { duplicateWindowMs: 0 });
  const same = await Promise.all(Array.from({ length: 50 }, () => store.vote(threadId, c.stem, 'voter-a')));
  assert.equal(same.filter(Boolean).length, 1);
  const many = await Promise.all(
    Array.from({ length: 20 }, (_, i) => store.vote(threadId, c.stem, `voter-${i}`)),
  );
  assert.equal(many.filter(Boolean).length, 20);
  assert.equal(await store.likesOf(threadId, c.stem), 21);
  const votesDir = path.join(dir, 'threads', threadId, '.votes', c.stem);
  assert.equal(fs.readdirSync(votesDir).filter((n) => !n.startsWith('.')).length, 21);
  assert.deepEqual([...(await store.likes(threadId))], [[c.stem, 21]]);
});

test('updates rewrite the record whole and leave a thread of other records alone', async (t) => {
  const store = await CommentStore.open(tempDir(t), { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const a = await store.addComment(threadId, META, record('a'), { duplicateWindowMs: 0 });
  await store.addComment(threadId, META, record('b'), { duplicateWindowMs: 0 });
  const updated = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      store.updateComment(threadId, a.stem, (c) => ({ ...c, text: `${c.text}${i % 10}` })),
    ),
  );
  assert.ok(updated.every((u) => u !== null));
  const final = await store.comment(threadId, a.stem);
  assert.equal(final?.text.length, 21, 'every read-modify-write saw the one before it');
  assert.equal(await store.updateComment(threadId, '20200101T000000Z-0', (c) => c), null);
  assert.equal(await store.comment('no-such-thread-00000000000000000000000000000000', a.stem), null);
});

test('a missing thread reads as empty and is not created by reading', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir);
  const threadId = threadIdOf('https://example.org/never-commented');
  assert.deepEqual(await store.comments(threadId), []);
  assert.deepEqual([...(await store.likes(threadId))], []);
  assert.equal(await store.threadMeta(threadId), null);
  assert.equal(fs.existsSync(path.join(dir, 'threads', threadId)), false);
});

test('run-time settings are kept in settings.json and read back', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir);
  assert.deepEqual(await store.settings(), {});
  await store.saveSettings({ moderation: 'all' });
  assert.deepEqual(await store.settings(), { moderation: 'all' });
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'settings.json'), 'utf8')).moderation, 'all');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Longer than @quire/fs's SETTLE_MS: a view loaded after this since the last change is trusted while unchanged. */
const SETTLE = SETTLE_MS + 50;

test('a thread view is served from memory while its files are unchanged, and shows every change another process makes', async (t) => {
  const dir = tempDir(t);
  // Two stores on one directory keep separate caches, as two server processes do.
  const a = await CommentStore.open(dir, { clock: () => T0 });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const first = await a.addComment(threadId, META, record('one'), { duplicateWindowMs: 0 });
  await sleep(SETTLE);
  const v1 = await a.view(threadId);
  assert.equal(await a.view(threadId), v1, 'unchanged files: the same view, not read again');
  assert.deepEqual(
    v1.comments.map((c) => c.record.text),
    ['one'],
  );

  const second = await b.addComment(threadId, META, record('two'), { duplicateWindowMs: 0 });
  const v2 = await a.view(threadId);
  assert.notEqual(v2.version, v1.version);
  assert.deepEqual(
    v2.comments.map((c) => c.record.text),
    ['one', 'two'],
  );

  // The first like makes .votes (a change of the thread directory), later ones change only .votes/<stem>.
  await sleep(SETTLE);
  await a.view(threadId);
  assert.equal(await b.vote(threadId, first.stem, 'voter-1'), true);
  assert.deepEqual([...(await a.view(threadId)).likes], [[first.stem, 1]]);
  await sleep(SETTLE);
  await a.view(threadId);
  assert.equal(await b.vote(threadId, first.stem, 'voter-2'), true);
  assert.deepEqual([...(await a.likes(threadId))], [[first.stem, 2]]);
  await sleep(SETTLE);
  await a.view(threadId);
  assert.equal(await b.vote(threadId, second.stem, 'voter-1'), true);
  assert.deepEqual(
    new Map((await a.view(threadId)).likes),
    new Map([
      [first.stem, 2],
      [second.stem, 1],
    ]),
  );

  // An edit replaces the file (a new inode, a rename in the thread directory).
  await sleep(SETTLE);
  await a.view(threadId);
  await b.updateComment(threadId, first.stem, (c) => ({ ...c, text: 'one, edited' }));
  assert.deepEqual(
    (await a.comments(threadId)).map((c) => c.record.text),
    ['one, edited', 'two'],
  );
  // A file removed by hand.
  await sleep(SETTLE);
  await a.view(threadId);
  fs.unlinkSync(path.join(dir, 'threads', threadId, `${second.stem}.json`));
  assert.deepEqual(
    (await a.view(threadId)).comments.map((c) => c.stem),
    [first.stem],
  );
});

test('a view read under a stamp younger than the filesystem clock granularity is read again next time', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  await store.addComment(threadId, META, record('fresh'), { duplicateWindowMs: 0 });
  // The thread directory changed a moment ago: a change in the same clock tick could carry the same stamp.
  const v1 = await store.view(threadId);
  assert.notEqual((await store.view(threadId)).version, v1.version, 'not trusted yet: read again');
  await sleep(SETTLE);
  const v2 = await store.view(threadId);
  assert.equal((await store.view(threadId)).version, v2.version, 'settled: trusted while unchanged');
});

test('the settle rule: only stamps older than the granularity before the read are trusted', () => {
  const ms = 1_800_000_000_000;
  const stamp = (newestNs: bigint): Stamp => ({ path: '/x', st: {} as fs.BigIntStats, newestNs });
  const ns = (t: number) => BigInt(t) * 1_000_000n + 123_456n;
  assert.equal(settled([stamp(ns(ms - SETTLE_MS - 1))], ms), true);
  assert.equal(settled([stamp(ns(ms - SETTLE_MS + 1))], ms), false, 'within one margin of the read');
  assert.equal(settled([stamp(ns(ms + 5))], ms), false, 'a clock ahead of ours');
  // Whole milliseconds may come from a filesystem that keeps whole seconds (or two).
  const whole = BigInt(ms - 1_000) * 1_000_000n;
  assert.equal(settled([stamp(whole)], ms), false);
  assert.equal(settled([stamp(BigInt(ms - SETTLE_COARSE_MS - 1) * 1_000_000n)], ms), true);
  assert.equal(settled([{ path: '/x', st: undefined, newestNs: 0n }], ms), true, 'missing is exact');
  assert.equal(
    settled([{ path: '/x', st: null, newestNs: 0n }], ms),
    false,
    'a failed stat vouches for nothing',
  );
});

test('a single flight never hands a caller a run that began before its call', async () => {
  let runs = 0;
  const gates: (() => void)[] = [];
  const fresh = new Coalescer(async () => {
    const n = ++runs;
    await new Promise<void>((resolve) => gates.push(resolve));
    return n;
  });
  const p1 = fresh.next();
  const p2 = fresh.next();
  const p3 = fresh.next();
  assert.equal(runs, 1);
  assert.equal(p2, p3, 'callers arriving meanwhile share the next run');
  gates.shift()?.();
  assert.equal(await p1, 1);
  await sleep(0);
  assert.equal(runs, 2);
  gates.shift()?.();
  assert.equal(await p2, 2);
});

test('a retry finds its comment though no claim was made for it (a power cut lost it, or an older version posted it)', async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  await store.addComment(threadId, META, record('first'), { duplicateWindowMs: 0 });
  // A record with a nonce but no .nonces claim, as a power cut may leave it (the record was fsynced, the claim not).
  const stem = '20261126T095959Z-0';
  fs.writeFileSync(
    path.join(dir, 'threads', threadId, `${stem}.json`),
    serialiseRecord(record('survivor', { nonce: 'n-lost' })),
  );
  const restarted = await CommentStore.open(dir, { clock: () => T0 });
  const again = await restarted.addComment(threadId, META, record('survivor', { nonce: 'n-lost' }), {
    duplicateWindowMs: 0,
  });
  assert.equal(again.created, false);
  assert.equal(again.stem, stem);
  assert.equal((await restarted.comments(threadId)).length, 2);
});

test('a nonce claimed by an attempt that died before publishing, or marked by an older version, still posts once', async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  await store.addComment(threadId, META, record('first', { nonce: 'n0' }), { duplicateWindowMs: 0 });
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const threadDir = path.join(dir, 'threads', threadId);
  fs.writeFileSync(path.join(threadDir, '.nonces', sha('n-dead')), '');
  fs.mkdirSync(path.join(threadDir, '.keys'), { recursive: true });
  fs.writeFileSync(path.join(threadDir, '.keys', sha('n-old')), '{}');
  for (const nonce of ['n-dead', 'n-old']) {
    const one = await store.addComment(threadId, META, record(`text ${nonce}`, { nonce }), {
      duplicateWindowMs: 0,
    });
    assert.equal(one.created, true, nonce);
    const two = await store.addComment(threadId, META, record(`text ${nonce}`, { nonce }), {
      duplicateWindowMs: 0,
    });
    assert.equal(two.created, false, nonce);
    assert.equal(two.stem, one.stem, nonce);
  }
  assert.equal((await store.comments(threadId)).length, 3);
});

test('a first attempt is stored without a claim, and its numbered retry finds it, also from another process', async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const a = await CommentStore.open(dir, { clock: () => T0 });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  // b lists the thread before a posts: only a listing made for the retry can find a's comment.
  await b.addComment(threadId, META, record('b first', { nonce: 'n-b' }), { duplicateWindowMs: 0 });
  const claim = path.join(
    dir,
    'threads',
    threadId,
    '.nonces',
    createHash('sha256').update('n1').digest('hex'),
  );
  const first = await a.addComment(threadId, META, record('once', { nonce: 'n1' }), {
    duplicateWindowMs: 0,
    attempt: 1,
  });
  assert.equal(first.created, true);
  assert.equal(fs.existsSync(claim), false, 'a first attempt makes no claim');
  for (const store of [b, a]) {
    const retry = await store.addComment(threadId, META, record('once', { nonce: 'n1' }), {
      duplicateWindowMs: 0,
      attempt: 2,
    });
    assert.equal(retry.created, false);
    assert.equal(retry.stem, first.stem);
  }
  assert.equal(fs.existsSync(claim), true, 'a retry claims');
  assert.equal((await a.comments(threadId)).length, 2);
});

test("a first attempt that arrives after its retry returns the retry's comment", async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const a = await CommentStore.open(dir, { clock: () => T0 });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  const retry = await a.addComment(threadId, META, record('late', { nonce: 'n2' }), {
    duplicateWindowMs: 0,
    attempt: 2,
  });
  assert.equal(retry.created, true);
  const late = await b.addComment(threadId, META, record('late', { nonce: 'n2' }), {
    duplicateWindowMs: 0,
    attempt: 1,
  });
  assert.equal(late.created, false);
  assert.equal(late.stem, retry.stem);
  // Racing, in two processes' stores at once: one comment whichever wins.
  const raced = await Promise.all([
    a.addComment(threadId, META, record('race', { nonce: 'n3' }), { duplicateWindowMs: 0, attempt: 1 }),
    b.addComment(threadId, META, record('race', { nonce: 'n3' }), { duplicateWindowMs: 0, attempt: 2 }),
  ]);
  assert.equal(raced.filter((r) => r.created).length, 1);
  assert.equal(raced[0]?.stem, raced[1]?.stem);
  assert.equal((await a.comments(threadId)).length, 2);
});

test('a nonce posted through one process is recognised by another that had already listed the thread', async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const a = await CommentStore.open(dir, { clock: () => T0 });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  await a.addComment(threadId, META, record('a first', { nonce: 'na' }), { duplicateWindowMs: 0 });
  const viaB = await b.addComment(threadId, META, record('shared', { nonce: 'nb' }), {
    duplicateWindowMs: 0,
  });
  const viaA = await a.addComment(threadId, META, record('shared', { nonce: 'nb' }), {
    duplicateWindowMs: 0,
  });
  assert.equal(viaA.created, false);
  assert.equal(viaA.stem, viaB.stem);
  // The same nonce racing in both at once: one comment.
  const raced = await Promise.all([
    a.addComment(threadId, META, record('race', { nonce: 'nr' }), { duplicateWindowMs: 0 }),
    b.addComment(threadId, META, record('race', { nonce: 'nr' }), { duplicateWindowMs: 0 }),
  ]);
  assert.equal(raced.filter((r) => r.created).length, 1);
  assert.equal(raced[0]?.stem, raced[1]?.stem);
  assert.equal((await a.comments(threadId)).length, 3);
});
