import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Coalescer, SETTLE_COARSE_MS, SETTLE_MS, type Stamp, settled } from '@quire/fs';
import { CommentStore, threadIdOf } from '../src/index.js';
import { T0, tempDir } from './fixtures/srv-helpers.js';
import { META, PAGE, record } from './fixtures/srv-records.js';

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
