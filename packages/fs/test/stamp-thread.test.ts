/**
 * Where stampAsync and unchangedAsync run their stat(2): on the caller's thread on a local filesystem (a cache
 * lookup, cheaper than a threadpool trip), on the threadpool on a FUSE mount (bindfs), whose stat may wait for
 * a server. fixtures/nfs-ops runs one call under strace.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { unmountQuietly } from '@quire/testkit';
import {
  canStrace,
  hasCommand,
  isRoot,
  parseStrace,
  requireOrSkip,
  spawnFixtureTraced,
  tempDir,
  waitExit,
} from './helpers.js';

/** The stat calls of `op` on `file`, and how many ran on the main thread (the one that ran execve). */
async function statThreads(t: TestContext, op: string, file: string, exists = true) {
  const log = path.join(tempDir(t, 'quire-stamp-log-'), 'strace.log');
  const args = ['-f', '-qq', '-o', log, '-e', 'trace=execve,statx,newfstatat,stat,lstat'];
  const r = await waitExit(spawnFixtureTraced(args, 'nfs-ops', [op, file]));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { ok: true, value: exists });
  const calls = parseStrace(fs.readFileSync(log, 'utf8'));
  const main = calls.find((c) => c.name === 'execve')?.tid;
  const stats = calls.filter((c) => c.name !== 'execve' && c.args.includes(file));
  assert.ok(main !== undefined && stats.length > 0, `${op}: no stat of ${file} traced`);
  return { stats: stats.length, onMain: stats.filter((c) => c.tid === main).length };
}

function record(dir: string): string {
  const file = path.join(dir, 'record');
  fs.writeFileSync(file, 'a complete record\n');
  return file;
}

test("on a local filesystem stampAsync and unchangedAsync stat on the caller's thread", async (t) => {
  if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here')) return;
  const type = fs.statfsSync(os.tmpdir()).type;
  // ext4, xfs, btrfs, tmpfs: what a CI machine's temp directory is.
  if (!requireOrSkip(t, [0xef53, 0x58465342, 0x9123683e, 0x01021994].includes(type), `temp dir fs ${type}`))
    return;
  const dir = tempDir(t, 'quire-stamp-');
  const file = record(dir);
  for (const op of ['stampAsync', 'unchangedAsync']) {
    const { stats, onMain } = await statThreads(t, op, file);
    assert.equal(onMain, stats, `${op}: ${stats - onMain} of ${stats} stats off the main thread`);
  }
  // In a directory that does not exist (yet): its ancestor's filesystem answers.
  const { stats, onMain } = await statThreads(t, 'stampAsync', path.join(dir, 'missing', 'file'), false);
  assert.equal(onMain, stats, 'a stamp in a missing directory was taken off the main thread');
});

test('on a FUSE mount (bindfs) stampAsync and unchangedAsync stat on the threadpool', async (t) => {
  if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here')) return;
  if (!requireOrSkip(t, isRoot && hasCommand('bindfs'), 'needs root and bindfs')) return;
  const dir = tempDir(t, 'quire-stamp-');
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-stamp-mnt-'));
  execFileSync('bindfs', [dir, mnt]);
  t.after(() => {
    unmountQuietly(mnt);
    fs.rmSync(mnt, { recursive: true, force: true });
  });
  record(dir);
  for (const op of ['stampAsync', 'unchangedAsync']) {
    const { onMain } = await statThreads(t, op, path.join(mnt, 'record'));
    // unchangedAsync's stampOf (the fixture's, sync by nature) is the one stat on the main thread.
    assert.equal(onMain, op === 'unchangedAsync' ? 1 : 0, `${op}: the stat ran on the main thread`);
  }
});
