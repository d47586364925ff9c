/** The pieces of a cache that stays correct under writers: Coalescer (single flight) and change stamps. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Coalescer,
  replaceFile,
  SETTLE_COARSE_MS,
  SETTLE_MS,
  type Stamp,
  sameStamp,
  settled,
  stampAsync,
  stampOf,
  unchanged,
  unchangedAsync,
} from '@quire/fs';
import { tempDir } from './helpers.js';

test('a Coalescer never hands a caller a run that began before its call', async () => {
  let runs = 0;
  const gates: (() => void)[] = [];
  const flight = new Coalescer(async () => {
    const n = ++runs;
    await new Promise<void>((resolve) => gates.push(resolve));
    return n;
  });
  const p1 = flight.next();
  const p2 = flight.next();
  const p3 = flight.next();
  assert.equal(runs, 1);
  assert.equal(p2, p3, 'callers arriving meanwhile share the next run');
  assert.notEqual(p1, p2, 'a caller arriving during a run does not join it');
  gates.shift()?.();
  assert.equal(await p1, 1);
  await sleep(0);
  assert.equal(runs, 2);
  gates.shift()?.();
  assert.equal(await p2, 2);
});

test('a Coalescer: a failed run fails only its callers, the queued run still starts, onIdle runs once idle', async () => {
  let runs = 0;
  let idle = 0;
  const flight = new Coalescer(
    async () => {
      runs++;
      await sleep(1);
      if (runs === 1) throw new Error('first run fails');
      return runs;
    },
    () => idle++,
  );
  const first = flight.next();
  const second = flight.next();
  await assert.rejects(first, /first run fails/);
  assert.equal(idle, 0, 'not idle while a run is queued');
  assert.equal(await second, 2);
  await sleep(0);
  assert.equal(idle, 1);
  assert.equal(await flight.next(), 3, 'a new run after idling');
});

test('a Coalescer whose run throws synchronously rejects instead of throwing', async () => {
  const flight = new Coalescer<number>(() => {
    throw new Error('sync');
  });
  await assert.rejects(flight.next(), /sync/);
  await assert.rejects(flight.next(), /sync/);
});

test('a stamp is unchanged until its file is replaced or its directory gains or loses a name', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'f');
  const missing = stampOf(file);
  assert.equal(missing.st, undefined);
  assert.equal(unchanged(missing), true, 'still missing');
  await replaceFile(file, 'one');
  assert.equal(unchanged(missing), false, 'created');
  const fileStamp = stampOf(file);
  const dirStamp = stampOf(dir);
  assert.equal(unchanged(fileStamp), true);
  assert.equal(unchanged(dirStamp), true);
  await replaceFile(file, 'two');
  assert.equal(unchanged(fileStamp), false, 'replaced: a new inode');
  const again = stampOf(dir);
  fs.writeFileSync(path.join(dir, 'g'), '');
  assert.equal(unchanged(again), false, 'a new name in the directory');
  assert.throws(() => stampOf(''), /ERR_INVALID_ARG|non-empty/);
});

test('stampAsync and unchangedAsync answer as stampOf and unchanged: missing, failed, present, replaced', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'f');
  const missing = await stampAsync(file);
  assert.equal(missing.st, undefined, 'a missing path is undefined, not a failure');
  assert.equal(missing.newestNs, 0n);
  assert.equal(await unchangedAsync(missing), true, 'still missing');
  await replaceFile(file, 'one');
  assert.equal(await unchangedAsync(missing), false, 'created');
  const present = await stampAsync(file);
  assert.equal(sameStamp(present, stampOf(file)), true, 'the same stat as the sync call');
  assert.equal(await unchangedAsync(present), true);
  await replaceFile(file, 'two');
  assert.equal(await unchangedAsync(present), false, 'replaced: a new inode');
  const failed = await stampAsync(path.join(file, 'under-a-file'));
  assert.equal(failed.st, null, 'ENOTDIR is a failed stat, not a missing path');
  assert.equal(await unchangedAsync(failed), false, 'a failed stat vouches for nothing');
  await assert.rejects(stampAsync(''), /ERR_INVALID_ARG|non-empty/);
});

test('sameStamp: two stamps of a path agree until its directory gains a name; a failed or missing one', async (t) => {
  const dir = tempDir(t);
  const a = stampOf(dir);
  assert.equal(sameStamp(a, stampOf(dir)), true, 'nothing changed');
  fs.writeFileSync(path.join(dir, 'f'), '');
  assert.equal(sameStamp(a, stampOf(dir)), false, 'a new name');
  const missing = stampOf(path.join(dir, 'none'));
  assert.equal(sameStamp(missing, stampOf(path.join(dir, 'none'))), true, 'still missing');
  assert.equal(sameStamp(missing, stampOf(path.join(dir, 'f'))), false, 'another path');
  assert.equal(sameStamp({ ...a, st: null }, { ...a, st: null }), false, 'a failed stat vouches for nothing');
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
