import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { acquireLock, acquireLockSync, openLockFile } from '@quire/fs';
import { fdsOpenOn, locksOn, spawnFixture, tempDir, waitExit } from './helpers.js';
const timedOut = { name: 'QuireError', code: 'ERR_LOCK_TIMEOUT' };
const aborted = { name: 'QuireError', code: 'ERR_ABORTED' };
const invalid = { name: 'QuireError', code: 'ERR_INVALID_ARG' };
const byte = (offset) => ({ range: { offset, length: 1 } });
/** A temp dir holding `db`, by its real path, as /proc/self/fd names files. */
function lockFilePath(t) {
    return path.join(fs.realpathSync(tempDir(t)), 'db');
}
/** Another process holding acquireLock(file) until release(); killed when the test ends. */
async function holdInProcess(t, file) {
    const child = spawnFixture('lock-hold', [file, 'exclusive']);
    t.after(() => {
        if (child.exitCode === null && child.signalCode === null)
            child.kill('SIGKILL');
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    assert.equal((await lines.next()).value, 'locked');
    return {
        async release() {
            child.kill('SIGUSR2');
            assert.equal((await lines.next()).value, 'released');
        },
    };
}
const fsModule = new URL('../src/index.js', import.meta.url).href;
/** Has another process try acquireLock(file) once; resolves to 'granted' or the error code. */
async function tryInProcess(file) {
    const script = `
    const { acquireLock } = await import(${JSON.stringify(fsModule)});
    try {
      await (await acquireLock(process.argv[1], { timeoutMs: 0 })).release();
      console.log('granted');
    } catch (err) {
      console.log(err.code);
    }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, file], {
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = await waitExit(child);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
}
test('two locks from one LockFile on the same byte exclude each other, and different bytes do not', async (t) => {
    const file = lockFilePath(t);
    const lf = openLockFile(file);
    t.after(() => lf.close());
    const first = await lf.acquire(byte(0));
    await assert.rejects(lf.acquire({ ...byte(0), timeoutMs: 0 }), timedOut);
    assert.throws(() => lf.acquireSync({ ...byte(0), timeoutMs: 0 }), timedOut);
    const other = lf.acquireSync({ ...byte(1), timeoutMs: 0 });
    // A waiter gets the byte once the first lock lets go (its timeout only turns a bug into a failure).
    const waiting = lf.acquire({ ...byte(0), timeoutMs: 10_000 });
    await first.release();
    const second = await waiting;
    assert.throws(() => lf.acquireSync({ ...byte(0), timeoutMs: 0 }), timedOut);
    await second.release();
    other.releaseSync();
    lf.acquireSync({ ...byte(0), timeoutMs: 0 }).releaseSync();
});
test('a LockFile lock and an acquireLock lock in another process exclude each other', async (t) => {
    const file = lockFilePath(t);
    const lf = openLockFile(file);
    t.after(() => lf.close());
    const holder = await holdInProcess(t, file);
    await assert.rejects(lf.acquire({ timeoutMs: 0 }), timedOut);
    assert.throws(() => lf.acquireSync({ timeoutMs: 0 }), timedOut);
    await holder.release();
    const mine = await lf.acquire({ timeoutMs: 0 });
    assert.equal(await tryInProcess(file), 'ERR_LOCK_TIMEOUT');
    await mine.release();
    // Its fd is idle now, and holds nothing.
    assert.equal(fdsOpenOn(file), 1);
    assert.equal(await tryInProcess(file), 'granted');
});
test('200 acquire and release cycles keep one descriptor open, and close() closes it', async (t) => {
    const file = lockFilePath(t);
    const lf = openLockFile(file);
    for (let i = 0; i < 100; i++) {
        await (await lf.acquire()).release();
        lf.acquireSync({ shared: true }).releaseSync();
    }
    assert.equal(fdsOpenOn(file), 1);
    lf.close();
    assert.equal(fdsOpenOn(file), 0);
});
test('an acquire reuses an idle descriptor instead of opening the file again', async (t) => {
    const file = lockFilePath(t);
    const lf = openLockFile(file);
    t.after(() => lf.close());
    await (await lf.acquire()).release();
    // Why the file must never be removed while a LockFile is open: the idle fd still locks the old inode.
    fs.unlinkSync(file);
    const lock = lf.acquireSync({ timeoutMs: 0 });
    assert.equal(fs.existsSync(file), false, 'an open(O_CREAT) would have created the file again');
    assert.equal(fdsOpenOn(file), 1);
    lock.releaseSync();
});
test('timed-out and aborted acquires leak no descriptor and hold no lock', async (t) => {
    const file = lockFilePath(t);
    const lf = openLockFile(file);
    const held = await lf.acquire();
    assert.throws(() => lf.acquireSync({ timeoutMs: 0 }), timedOut);
    const controller = new AbortController();
    const failures = [
        assert.rejects(lf.acquire({ timeoutMs: 30 }), timedOut),
        assert.rejects(lf.acquire({ signal: AbortSignal.timeout(30) }), aborted),
        assert.rejects(lf.acquire({ signal: controller.signal, timeoutMs: 60_000 }), aborted),
    ];
    setImmediate(() => controller.abort());
    await Promise.all(failures);
    await assert.rejects(lf.acquire({ signal: AbortSignal.abort() }), aborted);
    // The failed tries' fds (the sync try's, reused by the first async one, and two more opened while it was
    // busy) wait, idle, for the next acquire...
    assert.equal(fdsOpenOn(file), 4);
    assert.equal(locksOn(file), 1, 'only the held lock');
    // ...and once they are closed, only the held lock's fd is left.
    lf.close();
    assert.equal(fdsOpenOn(file), 1);
    await held.release();
    assert.equal(fdsOpenOn(file), 0);
    assert.equal(locksOn(file), 0);
});
test('shared locks from one LockFile coexist and keep an exclusive one out', async (t) => {
    const file = lockFilePath(t);
    const lf = openLockFile(file);
    t.after(() => lf.close());
    const a = await lf.acquire({ shared: true, timeoutMs: 0 });
    const b = lf.acquireSync({ shared: true, timeoutMs: 0 });
    assert.equal(a.shared && b.shared, true);
    assert.equal(locksOn(file), 2);
    await assert.rejects(lf.acquire({ timeoutMs: 0 }), timedOut);
    assert.throws(() => acquireLockSync(file, { timeoutMs: 0 }), timedOut);
    await a.release();
    assert.throws(() => lf.acquireSync({ timeoutMs: 0 }), timedOut);
    b.releaseSync();
    lf.acquireSync({ timeoutMs: 0 }).releaseSync();
});
test('keep 0 closes every descriptor on release', async (t) => {
    const file = lockFilePath(t);
    const lf = openLockFile(file, { keep: 0 });
    const a = await lf.acquire(byte(0));
    const b = lf.acquireSync(byte(1));
    assert.equal(fdsOpenOn(file), 2);
    await a.release();
    assert.equal(fdsOpenOn(file), 1);
    b.releaseSync();
    assert.equal(fdsOpenOn(file), 0);
});
test('idle descriptors beyond keep are closed on release', async (t) => {
    const file = lockFilePath(t);
    const lf = openLockFile(file, { keep: 2 });
    t.after(() => lf.close());
    const locks = await Promise.all([0, 1, 2, 3, 4].map((i) => lf.acquire(byte(i))));
    assert.equal(fdsOpenOn(file), 5);
    await Promise.all(locks.map((l) => l.release()));
    assert.equal(fdsOpenOn(file), 2);
    assert.equal(locksOn(file), 0);
});
test('after close a held lock still excludes others, its release closes its descriptor, and new acquires work', async (t) => {
    const file = lockFilePath(t);
    const lf = openLockFile(file);
    const held = lf.acquireSync();
    lf.close();
    lf.close();
    assert.throws(() => acquireLockSync(file, { timeoutMs: 0 }), timedOut);
    assert.throws(() => lf.acquireSync({ timeoutMs: 0 }), timedOut);
    assert.equal(fdsOpenOn(file), 1);
    await held.release();
    assert.equal(fdsOpenOn(file), 0);
    const again = await lf.acquire({ timeoutMs: 0 });
    assert.equal(fdsOpenOn(file), 1);
    again.releaseSync();
    assert.equal(fdsOpenOn(file), 0);
    (await acquireLock(file, { timeoutMs: 0 })).releaseSync();
});
test('bad arguments are refused with ERR_INVALID_ARG, before anything is created', async (t) => {
    const file = lockFilePath(t);
    const loose = openLockFile;
    for (const args of [[''], [42], ['a\0b'], [file, 'x'], [file, { keep: -1 }], [file, { keep: 1.5 }]]) {
        assert.throws(() => loose(...args), invalid, JSON.stringify(args));
    }
    const lf = openLockFile(file);
    const acquire = lf.acquire.bind(lf);
    const acquireSync = lf.acquireSync.bind(lf);
    for (const opts of [
        'exclusive',
        { timeoutMs: -1 },
        { shared: 'yes' },
        { range: { offset: -1, length: 1 } },
    ]) {
        await assert.rejects(acquire(opts), invalid, JSON.stringify(opts));
        assert.throws(() => acquireSync(opts), invalid, JSON.stringify(opts));
    }
    assert.throws(() => acquireSync({ signal: new AbortController().signal }), invalid);
    assert.equal(fs.existsSync(file), false);
});
//# sourceMappingURL=lockfile.test.js.map