/** Locks across threads and processes: who is excluded, and how a holder's end frees the lock. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { acquireLock, acquireLockSync } from '@quire/fs';
import { fixturesDir, tempDir } from './helpers.js';
import { code, holdInProcess } from './lock-holders.js';
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
//# sourceMappingURL=lock.test.js.map