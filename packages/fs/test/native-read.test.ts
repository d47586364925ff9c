/**
 * readComplete's syscalls, read from strace logs of real runs (fixtures/nfs-ops, one call). With the addon, one
 * attempt is one call of native/read.c: open, the shared OFD lock check, fstat, read to the end, close, in that
 * order and on one thread: for readComplete a pool thread (one trip, no hand-off between the steps, never the
 * event loop), for readCompleteSync the caller's. The pure-JS protocol makes the same calls in the same order.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { implementation } from '@quire/fs';
import {
  canStrace,
  parseStrace,
  requireOrSkip,
  type Syscall,
  spawnFixtureTraced,
  tempDir,
  waitExit,
} from './helpers.js';

const STATS = ['fstat', 'newfstatat', 'statx'];
const TRACE = ['execve', 'openat', 'fcntl', 'read', 'pread64', 'close', ...STATS]
  .map((n) => `?${n}`)
  .join(',');

/** The calls `op` made on `file` (strace -P also follows the descriptors open on it), and the main thread. */
async function traced(t: TestContext, op: string, file: string): Promise<{ calls: Syscall[]; main: number }> {
  const log = path.join(tempDir(t, 'quire-nread-log-'), 'strace.log');
  const r = await waitExit(
    spawnFixtureTraced(['-f', '-qq', '-o', log, '-e', `trace=${TRACE}`], 'nfs-ops', [op, file]),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { ok: true, value: { bytes: 18 } });
  const all = parseStrace(fs.readFileSync(log, 'utf8'));
  const main = all.find((c) => c.name === 'execve')?.tid;
  assert.ok(main !== undefined, 'no execve in the log');
  const open = all.find((c) => c.name === 'openat' && c.paths[0] === file);
  assert.ok(open, `${op}: ${file} was never opened`);
  // Everything on that descriptor from its open to its close (Node opens nothing else while the one call runs).
  const fd = new RegExp(`^${open.ret}(,|$)`);
  const onFd = all.filter((c) => c.start >= open.start && c.name !== 'openat' && fd.test(c.args));
  const closeAt = onFd.findIndex((c) => c.name === 'close');
  assert.ok(closeAt >= 0, `${op}: the descriptor was not closed`);
  return { calls: [open, ...onFd.slice(0, closeAt + 1)], main };
}

function shape(calls: Syscall[]): string[] {
  return calls.map((c) => {
    if (STATS.includes(c.name)) return 'fstat';
    if (c.name === 'pread64') return 'read';
    return c.name;
  });
}

for (const op of ['readComplete', 'readCompleteSync']) {
  test(`${op}: open, shared OFD lock, fstat, read to the end, close${implementation === 'native' ? ', on one thread' : ''}`, async (t) => {
    if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here')) return;
    const file = path.join(tempDir(t, 'quire-nread-'), 'record');
    fs.writeFileSync(file, 'a complete record\n');
    const { calls, main } = await traced(t, op, file);
    const names = shape(calls);
    const reads = names.filter((n) => n === 'read').length;
    assert.deepEqual(
      names,
      ['openat', 'fcntl', 'fstat', ...Array(reads).fill('read'), 'close'],
      names.join(' '),
    );
    assert.ok(reads >= 1, 'nothing was read');
    // The addon reads until a read finds the end (as the async JS protocol does), not up to fstat's size.
    if (implementation === 'native') assert.equal(calls.at(-2)?.ret, 0, 'the last read did not find the end');
    assert.match(calls[1]!.args, /F_OFD_SETLK\b.*F_RDLCK/, 'not a shared OFD lock check');
    const threads = new Set(calls.map((c) => c.tid));
    if (op === 'readCompleteSync') {
      assert.deepEqual([...threads], [main], 'a sync read left the caller thread');
    } else if (implementation === 'native') {
      assert.equal(threads.size, 1, `one job on one thread, not ${threads.size}`);
      assert.ok(!threads.has(main), 'the read ran on the event loop');
    }
  });
}
