/**
 * The lock thread (lock-thread.ts): the async API's fcntl calls run on a thread of their own, never the caller's,
 * and their errors arrive named as the caller's own would be. fixtures/nfs-ops runs one call under strace.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { canStrace, parseStrace, requireOrSkip, spawnFixtureTraced, tempDir, waitExit } from './helpers.js';

/**
 * Runs `nfs-ops op file` under `strace -f`: with `inject`, tracing only fcntl on the file (`-P`, so `when`
 * counts those); without, every execve and fcntl of the process, whose main thread is the one that ran execve.
 */
async function traced(t: TestContext, op: string, file: string, inject?: string) {
  const log = path.join(tempDir(t, 'quire-lockthread-log-'), 'strace.log');
  const args = ['-f', '-qq', '-o', log];
  if (inject === undefined) args.push('-e', 'trace=execve,fcntl');
  else args.push('-e', 'trace=fcntl', '-P', file, '-e', `inject=${inject}`);
  const r = await waitExit(spawnFixtureTraced(args, 'nfs-ops', [op, file]));
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

test('readComplete and acquireLock make their fcntl calls on the lock thread; the sync calls on their own', async (t) => {
  if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here')) return;
  const file = record(t);
  for (const op of ['readComplete', 'acquireLock', 'readCompleteSync', 'acquireLockSync']) {
    const { report, main, locks } = await traced(t, op, file);
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.ok(main !== undefined && locks.length > 0, `${op}: no lock call traced`);
    const onMain = locks.filter((c) => c.tid === main).length;
    // The sync calls lock on the caller's thread, by their nature: they show the trace can tell threads apart.
    if (op.endsWith('Sync')) assert.equal(onMain, locks.length, `${op}: locked off the main thread`);
    else assert.equal(onMain, 0, `${op}: ${onMain} fcntl lock calls on the main thread`);
  }
});

test('ESTALE from the lock thread is named ESTALE, so readComplete reads again', async (t) => {
  if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here')) return;
  const file = record(t);
  const { report, calls } = await traced(t, 'readComplete', file, 'fcntl:error=ESTALE:when=1');
  assert.equal(calls.filter((c) => c.injected).length, 1, 'the fault never struck fcntl');
  assert.deepEqual(report, { ok: true, value: { bytes: 18 } });
});
