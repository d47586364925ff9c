/**
 * The lock thread (lock-thread.ts): the async API's fcntl calls run on a thread of their own, never the caller's,
 * and their errors arrive named as the caller's own would be. fixtures/nfs-ops runs one call under strace.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { implementation } from '@quire/fs';
import { canStrace, parseStrace, requireOrSkip, spawnFixtureTraced, tempDir, waitExit } from './helpers.js';

/**
 * Runs `nfs-ops op file` under `strace -f`: with `inject`, tracing only fcntl on the file (`-P`, so `when`
 * counts those); without, every execve and fcntl of the process, whose main thread is the one that ran execve.
 */
async function traced(
  t: TestContext,
  op: string,
  file: string,
  inject?: string,
  env: NodeJS.ProcessEnv = {},
) {
  const log = path.join(tempDir(t, 'quire-lockthread-log-'), 'strace.log');
  const args = ['-f', '-qq', '-o', log];
  if (inject === undefined) args.push('-e', 'trace=execve,fcntl');
  else args.push('-e', 'trace=fcntl', '-P', file, '-e', `inject=${inject}`);
  // One threadpool thread: strace counts `when` per thread, and readComplete's retries run there with the addon.
  const r = await waitExit(
    spawnFixtureTraced(args, 'nfs-ops', [op, file], { env: { UV_THREADPOOL_SIZE: '1', ...env } }),
  );
  assert.equal(r.code, 0, r.stderr);
  const calls = parseStrace(fs.readFileSync(log, 'utf8'));
  const main = calls.find((c) => c.name === 'execve')?.tid;
  // The locks: fcntl F_OFD_SETLK (Node itself only asks F_GETFL/F_SETFL/F_GETFD of its descriptors).
  const locks = calls.filter((c) => c.name === 'fcntl' && c.args.includes('F_OFD_SETLK'));
  return { report: JSON.parse(r.stdout) as { ok: boolean; value?: unknown }, calls, main, locks };
}

function record(t: TestContext): string {
  const file = path.join(tempDir(t, 'quire-lockthread-'), 'record');
  fs.writeFileSync(file, 'a complete record\n');
  return file;
}

/** Where each call made its fcntl lock calls: how many of them, and how many on the main thread. */
async function lockThreads(t: TestContext, env: NodeJS.ProcessEnv) {
  const file = record(t);
  const out: Record<string, { locks: number; onMain: number }> = {};
  for (const op of ['readComplete', 'acquireLock', 'readCompleteSync', 'acquireLockSync']) {
    const { report, main, locks } = await traced(t, op, file, undefined, env);
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.ok(main !== undefined && locks.length > 0, `${op}: no lock call traced`);
    // Never a blocking wait in the kernel (F_OFD_SETLKW), on any thread: waits poll (lock.ts).
    assert.ok(!locks.some((c) => c.args.includes('F_OFD_SETLKW')), `${op}: a blocking lock call`);
    out[op] = { locks: locks.length, onMain: locks.filter((c) => c.tid === main).length };
  }
  // The sync calls lock on the caller's thread, by their nature: they show the trace can tell threads apart.
  for (const op of ['readCompleteSync', 'acquireLockSync']) {
    assert.equal(out[op]?.onMain, out[op]?.locks, `${op}: locked off the main thread`);
  }
  return out;
}

test("with QUIRE_FS_LOCK_THREAD=1 (a network filesystem's way) the async calls lock on the lock thread", async (t) => {
  if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here')) return;
  const out = await lockThreads(t, { QUIRE_FS_LOCK_THREAD: '1' });
  for (const op of ['readComplete', 'acquireLock']) {
    assert.equal(out[op]?.onMain, 0, `${op}: ${out[op]?.onMain} fcntl lock calls on the main thread`);
  }
});

test("on a local filesystem the async calls lock on the caller's thread, without a hand-off", async (t) => {
  if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here')) return;
  const fsType = fs.statfsSync(os.tmpdir()).type;
  // ext4, xfs, btrfs, tmpfs: what a CI machine's temp directory is.
  if (
    !requireOrSkip(t, [0xef53, 0x58465342, 0x9123683e, 0x01021994].includes(fsType), `temp dir fs ${fsType}`)
  )
    return;
  const out = await lockThreads(t, {});
  // With the addon, readComplete's lock check is a step of its one pool job (native-read.test.ts): no hand-off
  // there either, and off the event loop.
  const inJob = implementation === 'native' ? ['readComplete'] : [];
  for (const op of ['readComplete', 'acquireLock']) {
    assert.equal(
      out[op]?.onMain,
      inJob.includes(op) ? 0 : out[op]?.locks,
      `${op}: a lock call ${inJob.includes(op) ? 'on' : 'off'} the main thread on a local filesystem`,
    );
  }
});

test('ESTALE from a lock call is named ESTALE, so readComplete reads again', async (t) => {
  if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here')) return;
  const file = record(t);
  // On the lock thread, and on the caller's (a local filesystem's way).
  for (const env of [{ QUIRE_FS_LOCK_THREAD: '1' }, {}]) {
    const { report, calls } = await traced(t, 'readComplete', file, 'fcntl:error=ESTALE:when=1', env);
    assert.equal(calls.filter((c) => c.injected).length, 1, 'the fault never struck fcntl');
    assert.deepEqual(report, { ok: true, value: { bytes: 18 } });
  }
});
