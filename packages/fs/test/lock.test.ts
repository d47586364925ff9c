import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  acquireLock,
  acquireLockSync,
  isQuireError,
  lockPathFor,
  type QuireErrorCode,
  withLock,
  withLockSync,
} from '@quire/fs';
import { fdsOpenOn, fixturesDir, locksOn, runFixture, spawnFixture, tempDir } from './helpers.js';

/** An assert.rejects/throws validator: a QuireError with this code. */
function code(expected: QuireErrorCode) {
  return (err: unknown): true => {
    assert.ok(isQuireError(err), `expected a QuireError, got ${String(err)}`);
    assert.equal(err.code, expected, err.message);
    return true;
  };
}

/**
 * Reads a child's stdout line by line; next(line) resolves when that line comes, rejects if the child exits
 * first.
 */
class Lines {
  private readonly seen: string[] = [];
  private buf = '';
  private stderr = '';
  private exited = false;
  private wake: (() => void) | undefined;

  constructor(child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      const parts = this.buf.split('\n');
      this.buf = parts.pop() ?? '';
      this.seen.push(...parts);
      this.wake?.();
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    child.on('exit', () => {
      this.exited = true;
      this.wake?.();
    });
  }

  async next(line: string): Promise<void> {
    for (;;) {
      const got = this.seen.shift();
      if (got === line) return;
      if (got !== undefined) throw new Error(`expected "${line}", got "${got}"`);
      if (this.exited) throw new Error(`child exited before "${line}": ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}

interface Holder {
  child: ChildProcess;
  release(): Promise<void>;
}

/** A process holding a lock on `file` (or on its sidecar); killed when the test ends. */
async function holdInProcess(
  t: TestContext,
  file: string,
  opts: { shared?: boolean; sidecar?: boolean } = {},
): Promise<Holder> {
  const child = spawnFixture('lock-hold', [
    file,
    opts.shared ? 'shared' : 'exclusive',
    opts.sidecar ? 'sidecar' : '',
  ]);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines = new Lines(child);
  await lines.next('locked');
  return {
    child,
    async release() {
      child.kill('SIGUSR2');
      await lines.next('released');
    },
  };
}

test('an exclusive lock held by another process makes acquireLock time out until the holder releases it', async (t) => {
  const file = path.join(tempDir(t), 'db');
  const holder = await holdInProcess(t, file);
  await assert.rejects(acquireLock(file, { timeoutMs: 100 }), code('ERR_LOCK_TIMEOUT'));
  assert.throws(() => acquireLockSync(file, { timeoutMs: 20 }), code('ERR_LOCK_TIMEOUT'));
  await holder.release();
  // The holder is still alive: release() freed the lock, not the process dying.
  assert.equal(holder.child.exitCode, null);
  const lock = await acquireLock(file, { timeoutMs: 0 });
  await lock.release();
});

test('an exclusive lock held by a worker thread excludes the main thread until the worker releases it', async (t) => {
  const file = path.join(tempDir(t), 'db');
  const worker = new Worker(path.join(fixturesDir, 'lock-hold.js'), {
    workerData: { path: file, shared: false, sidecar: false },
  });
  t.after(() => worker.terminate());
  assert.deepEqual(await once(worker, 'message'), ['acquiring']);
  assert.deepEqual(await once(worker, 'message'), ['locked']);
  await assert.rejects(acquireLock(file, { timeoutMs: 50 }), code('ERR_LOCK_TIMEOUT'));
  worker.postMessage('release');
  assert.deepEqual(await once(worker, 'message'), ['released']);
  const lock = await acquireLock(file, { timeoutMs: 0 });
  await lock.release();
});

test('a worker thread terminated while holding the lock frees it', async (t) => {
  // Node closes the raw fds a worker opened when it exits (Worker option trackUnmanagedFds, on by default).
  const file = path.join(tempDir(t), 'db');
  const worker = new Worker(path.join(fixturesDir, 'lock-hold.js'), {
    workerData: { path: file, shared: false, sidecar: false },
  });
  assert.deepEqual(await once(worker, 'message'), ['acquiring']);
  assert.deepEqual(await once(worker, 'message'), ['locked']);
  await assert.rejects(acquireLock(file, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
  await worker.terminate();
  const lock = await acquireLock(file, { timeoutMs: 0 });
  await lock.release();
});

test('a worker thread waiting for a lock can still be terminated', { timeout: 10_000 }, async (t) => {
  // With a wait blocked in the kernel (fs-native-extensions' waitForLock), terminate() hangs until the lock
  // is granted; polling leaves nothing to wait for.
  const file = path.join(tempDir(t), 'db');
  const lock = await acquireLock(file);
  const worker = new Worker(path.join(fixturesDir, 'lock-hold.js'), {
    workerData: { path: file, shared: false, sidecar: false },
  });
  assert.deepEqual(await once(worker, 'message'), ['acquiring']);
  await worker.terminate();
  await lock.release();
});

test('waiters occupy no threadpool thread', { timeout: 10_000 }, async (t) => {
  const file = path.join(tempDir(t), 'db');
  const lock = await acquireLock(file);
  // Four times the default pool size of shared waiters, pending behind the exclusive holder.
  const waiters = Array.from({ length: 16 }, () => acquireLock(file, { shared: true, timeoutMs: 10_000 }));
  // Work that needs a pool thread still gets one.
  await Promise.all(Array.from({ length: 8 }, () => fs.promises.stat(file)));
  await lock.release();
  const shared = await Promise.all(waiters);
  await Promise.all(shared.map((l) => l.release()));
});

test('two handles in one thread exclude each other, and a release frees the lock for the other', async (t) => {
  const file = path.join(tempDir(t), 'db');
  const first = await acquireLock(file);
  await assert.rejects(acquireLock(file, { timeoutMs: 30 }), code('ERR_LOCK_TIMEOUT'));
  assert.throws(() => acquireLockSync(file, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
  await assert.rejects(acquireLock(file, { shared: true, timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
  // A waiter with no timeout gets the lock once the first handle lets go.
  const waiting = acquireLock(file);
  await first.release();
  const second = await waiting;
  assert.throws(() => acquireLockSync(file, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
  second.releaseSync();
  acquireLockSync(file, { timeoutMs: 0 }).releaseSync();
});

test('a SIGKILLed holder frees the lock by the time its exit is observed', async (t) => {
  const file = path.join(tempDir(t), 'db');
  const holder = await holdInProcess(t, file);
  await assert.rejects(acquireLock(file, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
  const exited = once(holder.child, 'exit');
  holder.child.kill('SIGKILL');
  assert.deepEqual(await exited, [null, 'SIGKILL']);
  const lock = await acquireLock(file, { timeoutMs: 0 });
  await lock.release();
});

test('shared locks coexist with each other and exclude an exclusive lock', async (t) => {
  const file = path.join(tempDir(t), 'db');
  // Both holders report "locked" while neither has let go: two shared holders at once.
  const [a, b] = await Promise.all([
    holdInProcess(t, file, { shared: true }),
    holdInProcess(t, file, { shared: true }),
  ]);
  const mine = await acquireLock(file, { shared: true, timeoutMs: 0 });
  assert.equal(mine.shared, true);
  await mine.release();
  await assert.rejects(acquireLock(file, { timeoutMs: 100 }), code('ERR_LOCK_TIMEOUT'));
  await a.release();
  await assert.rejects(acquireLock(file, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
  await b.release();
  const exclusive = await acquireLock(file, { timeoutMs: 0 });
  // And an exclusive holder keeps shared ones out.
  await assert.rejects(acquireLock(file, { shared: true, timeoutMs: 30 }), code('ERR_LOCK_TIMEOUT'));
  await exclusive.release();
});

test('a timed-out acquire rejects with ERR_LOCK_TIMEOUT and leaves no fd and no lock behind', async (t) => {
  const file = path.join(tempDir(t), 'db');
  const holder = await holdInProcess(t, file);
  const t0 = performance.now();
  await assert.rejects(acquireLock(file, { timeoutMs: 80 }), (err) => {
    code('ERR_LOCK_TIMEOUT')(err);
    assert.equal((err as { path?: string }).path, file);
    return true;
  });
  assert.ok(performance.now() - t0 >= 80, 'gave up before the timeout');
  assert.equal(fdsOpenOn(file), 0);
  assert.equal(locksOn(file), 1, "only the holder's lock");
  await holder.release();
  assert.equal(locksOn(file), 0);
  const lock = await acquireLock(file, { timeoutMs: 0 });
  assert.equal(locksOn(file), 1);
  await lock.release();
  assert.equal(fdsOpenOn(file), 0);
  assert.equal(locksOn(file), 0);
});

test("an abort while waiting rejects with ERR_ABORTED whose cause is the signal's reason, leaving nothing behind", async (t) => {
  const file = path.join(tempDir(t), 'db');
  const holder = await holdInProcess(t, file);
  const signal = AbortSignal.timeout(50);
  await assert.rejects(acquireLock(file, { signal }), (err) => {
    code('ERR_ABORTED')(err);
    assert.equal((err as Error).cause, signal.reason);
    return true;
  });
  // The same with a timeout that has not expired yet, aborted by hand once the wait has begun.
  const controller = new AbortController();
  const waiting = acquireLock(file, { signal: controller.signal, timeoutMs: 60_000 });
  const reason = new Error('shutting down');
  setImmediate(() => controller.abort(reason));
  await assert.rejects(waiting, (err) => {
    code('ERR_ABORTED')(err);
    assert.equal((err as Error).cause, reason);
    return true;
  });
  assert.equal(fdsOpenOn(file), 0);
  await holder.release();
  assert.equal(locksOn(file), 0);
  const lock = await acquireLock(file, { timeoutMs: 0 });
  await lock.release();
});

test('an already aborted signal rejects at once, without even creating the file', async (t) => {
  const file = path.join(tempDir(t), 'db');
  const reason = new Error('no');
  await assert.rejects(acquireLock(file, { signal: AbortSignal.abort(reason) }), (err) => {
    code('ERR_ABORTED')(err);
    assert.equal((err as Error).cause, reason);
    return true;
  });
  assert.equal(fs.existsSync(file), false);
});

test('an abort while the file is being opened wins even though the lock is free', async (t) => {
  const file = path.join(tempDir(t), 'db');
  const controller = new AbortController();
  const pending = acquireLock(file, { signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, code('ERR_ABORTED'));
  assert.equal(fdsOpenOn(file), 0);
  assert.equal(locksOn(file), 0);
});

test('acquireLock creates a file that does not exist yet and leaves it in place after release', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'not-yet');
  const lock = await acquireLock(file);
  assert.equal(lock.path, file);
  assert.equal(lock.shared, false);
  assert.equal(fs.statSync(file).size, 0);
  await lock.release();
  assert.ok(fs.existsSync(file), 'the lock file stays');
  const shared = acquireLockSync(path.join(dir, 'not-yet-either'), { shared: true });
  shared.releaseSync();
  assert.ok(fs.existsSync(path.join(dir, 'not-yet-either')));
});

test('a lock in a directory that does not exist is refused with ENOENT', async (t) => {
  const file = path.join(tempDir(t), 'missing', 'db');
  await assert.rejects(acquireLock(file), code('ENOENT'));
  assert.throws(() => acquireLockSync(file), code('ENOENT'));
});

test('release is idempotent and never closes a file descriptor twice', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'db');
  const lock = await acquireLock(file);
  const [p1, p2] = [lock.release(), lock.release()];
  assert.equal(p1, p2);
  await p1;
  // The freed fd number is handed out again; a second close would close this file instead.
  const other = fs.openSync(path.join(dir, 'other'), 'w');
  t.after(() => fs.closeSync(other));
  await lock.release();
  lock.releaseSync();
  await lock[Symbol.asyncDispose]();
  lock[Symbol.dispose]();
  assert.ok(fs.fstatSync(other).isFile());
  const sync = acquireLockSync(file);
  sync.releaseSync();
  sync.releaseSync();
  await sync.release();
  assert.ok(fs.fstatSync(other).isFile());
});

test('await using and using release the lock when the block ends', async (t) => {
  const file = path.join(tempDir(t), 'db');
  {
    await using lock = await acquireLock(file);
    assert.equal(lock.path, file);
    await assert.rejects(acquireLock(file, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
  }
  {
    using lock = acquireLockSync(file, { timeoutMs: 0 });
    assert.equal(lock.path, file);
    assert.throws(() => acquireLockSync(file, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
  }
  const after = acquireLockSync(file, { timeoutMs: 0 });
  after.releaseSync();
});

test('bad arguments are refused with ERR_INVALID_ARG', async (t) => {
  const file = path.join(tempDir(t), 'db');
  const bad: unknown[][] = [
    [''],
    [42],
    ['a\0b'],
    [file, 'exclusive'],
    [file, { shared: 'yes' }],
    [file, { timeoutMs: -1 }],
    [file, { timeoutMs: Number.NaN }],
    [file, { timeoutMs: '10' }],
    [file, { signal: {} }],
  ];
  const loose = acquireLock as (...args: unknown[]) => Promise<unknown>;
  const looseSync = acquireLockSync as (...args: unknown[]) => unknown;
  for (const args of bad) {
    await assert.rejects(loose(...args), code('ERR_INVALID_ARG'), JSON.stringify(args));
    assert.throws(() => looseSync(...args), code('ERR_INVALID_ARG'), JSON.stringify(args));
  }
  // A signal cannot wake a thread blocked in acquireLockSync, so it is refused rather than ignored.
  assert.throws(() => looseSync(file, { signal: new AbortController().signal }), code('ERR_INVALID_ARG'));
  await assert.rejects(
    (withLock as (...args: unknown[]) => Promise<unknown>)(file, 'not a function'),
    code('ERR_INVALID_ARG'),
  );
  assert.throws(() => (withLockSync as (...args: unknown[]) => unknown)(file), code('ERR_INVALID_ARG'));
  assert.equal(fs.existsSync(file), false);
  // Infinity means no timeout.
  (await acquireLock(file, { timeoutMs: Number.POSITIVE_INFINITY })).releaseSync();
});

test('lockPathFor names a dot sidecar next to the file', () => {
  assert.equal(lockPathFor('/srv/data/comments.json'), '/srv/data/.comments.json.lock');
  assert.equal(lockPathFor('comments.json'), '.comments.json.lock');
  assert.equal(lockPathFor('a/b/'), 'a/.b.lock');
  for (const bad of ['', '/', '.', 'a/..']) {
    assert.throws(() => lockPathFor(bad), code('ERR_INVALID_ARG'), bad);
  }
});

test('withLock locks the sidecar, not the file, and releases it however fn ends', async (t) => {
  const file = path.join(tempDir(t), 'counter');
  const sidecar = lockPathFor(file);
  const result = await withLock(file, async () => {
    // Held on the sidecar...
    await assert.rejects(acquireLock(sidecar, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
    assert.throws(() => withLockSync(file, () => 1, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
    // ...and not on the file, which withLock does not even create.
    assert.equal(fs.existsSync(file), false);
    (await acquireLock(file, { timeoutMs: 0 })).releaseSync();
    return 'done';
  });
  assert.equal(result, 'done');
  assert.ok(fs.existsSync(sidecar), 'the sidecar stays');
  const boom = new Error('boom');
  await assert.rejects(
    withLock(file, () => {
      throw boom;
    }),
    (err) => err === boom,
  );
  assert.throws(
    () =>
      withLockSync(file, () => {
        throw boom;
      }),
    (err) => err === boom,
  );
  assert.equal(
    withLockSync(file, () => 7),
    7,
  );
  // A promise from withLockSync's fn would run partly unlocked: refused loudly.
  assert.throws(() => withLockSync(file, () => Promise.resolve(1)), code('ERR_INVALID_ARG'));
  assert.equal(fdsOpenOn(sidecar), 0);
  // Another process holding the sidecar keeps withLock out.
  const holder = await holdInProcess(t, file, { sidecar: true });
  await assert.rejects(
    withLock(file, () => {}, { timeoutMs: 50 }),
    code('ERR_LOCK_TIMEOUT'),
  );
  await holder.release();
  await withLock(file, () => {}, { timeoutMs: 0 });
});

test('8 processes incrementing one counter 500 times each under withLock and withLockSync lose no update', async (t) => {
  const file = path.join(tempDir(t), 'counter');
  fs.writeFileSync(file, '0');
  await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      runFixture('lock-counter', [file, '500', i % 2 ? 'write-sync' : 'write']),
    ),
  );
  assert.equal(fs.readFileSync(file, 'utf8'), '4000');
});

test('4 processes that replaceFile a counter 200 times each under withLock lose no update', async (t) => {
  // A lock on the counter itself would fail here: each replaceFile puts a new inode under the name, and the
  // next writer locks that one while the previous holder still works on the old.
  const file = path.join(tempDir(t), 'counter');
  fs.writeFileSync(file, '0');
  await Promise.all(Array.from({ length: 4 }, () => runFixture('lock-counter', [file, '200', 'replace'])));
  assert.equal(fs.readFileSync(file, 'utf8'), '800');
});
