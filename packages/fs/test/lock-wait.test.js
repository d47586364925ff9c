var __addDisposableResource = (this && this.__addDisposableResource) || function (env, value, async) {
    if (value !== null && value !== void 0) {
        if (typeof value !== "object" && typeof value !== "function") throw new TypeError("Object expected.");
        var dispose, inner;
        if (async) {
            if (!Symbol.asyncDispose) throw new TypeError("Symbol.asyncDispose is not defined.");
            dispose = value[Symbol.asyncDispose];
        }
        if (dispose === void 0) {
            if (!Symbol.dispose) throw new TypeError("Symbol.dispose is not defined.");
            dispose = value[Symbol.dispose];
            if (async) inner = dispose;
        }
        if (typeof dispose !== "function") throw new TypeError("Object not disposable.");
        if (inner) dispose = function() { try { inner.call(this); } catch (e) { return Promise.reject(e); } };
        env.stack.push({ value: value, dispose: dispose, async: async });
    }
    else if (async) {
        env.stack.push({ async: true });
    }
    return value;
};
var __disposeResources = (this && this.__disposeResources) || (function (SuppressedError) {
    return function (env) {
        function fail(e) {
            env.error = env.hasError ? new SuppressedError(e, env.error, "An error was suppressed during disposal.") : e;
            env.hasError = true;
        }
        var r, s = 0;
        function next() {
            while (r = env.stack.pop()) {
                try {
                    if (!r.async && s === 1) return s = 0, env.stack.push(r), Promise.resolve().then(next);
                    if (r.dispose) {
                        var result = r.dispose.call(r.value);
                        if (r.async) return s |= 2, Promise.resolve(result).then(next, function(e) { fail(e); return next(); });
                    }
                    else s |= 1;
                }
                catch (e) {
                    fail(e);
                }
            }
            if (s === 1) return env.hasError ? Promise.reject(env.error) : Promise.resolve();
            if (env.hasError) throw env.error;
        }
        return next();
    };
})(typeof SuppressedError === "function" ? SuppressedError : function (error, suppressed, message) {
    var e = new Error(message);
    return e.name = "SuppressedError", e.error = error, e.suppressed = suppressed, e;
});
/** Waiting for a lock: timeouts, aborts, creation of the lock file, release, disposal and bad arguments. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { acquireLock, acquireLockSync, withLock, withLockSync } from '@quire/fs';
import { fdsOpenOn, locksOn, tempDir } from './helpers.js';
import { code, holdInProcess } from './lock-holders.js';
test('a timed-out acquire rejects with ERR_LOCK_TIMEOUT and leaves no fd and no lock behind', async (t) => {
    const file = path.join(tempDir(t), 'db');
    const holder = await holdInProcess(t, file);
    const t0 = performance.now();
    await assert.rejects(acquireLock(file, { timeoutMs: 80 }), (err) => {
        code('ERR_LOCK_TIMEOUT')(err);
        assert.equal(err.path, file);
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
        assert.equal(err.cause, signal.reason);
        return true;
    });
    // The same with a timeout that has not expired yet, aborted by hand once the wait has begun.
    const controller = new AbortController();
    const waiting = acquireLock(file, { signal: controller.signal, timeoutMs: 60_000 });
    const reason = new Error('shutting down');
    setImmediate(() => controller.abort(reason));
    await assert.rejects(waiting, (err) => {
        code('ERR_ABORTED')(err);
        assert.equal(err.cause, reason);
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
        assert.equal(err.cause, reason);
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
        const env_1 = { stack: [], error: void 0, hasError: false };
        try {
            const lock = __addDisposableResource(env_1, await acquireLock(file), true);
            assert.equal(lock.path, file);
            await assert.rejects(acquireLock(file, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
        }
        catch (e_1) {
            env_1.error = e_1;
            env_1.hasError = true;
        }
        finally {
            const result_1 = __disposeResources(env_1);
            if (result_1)
                await result_1;
        }
    }
    {
        const env_2 = { stack: [], error: void 0, hasError: false };
        try {
            const lock = __addDisposableResource(env_2, acquireLockSync(file, { timeoutMs: 0 }), false);
            assert.equal(lock.path, file);
            assert.throws(() => acquireLockSync(file, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
        }
        catch (e_2) {
            env_2.error = e_2;
            env_2.hasError = true;
        }
        finally {
            __disposeResources(env_2);
        }
    }
    const after = acquireLockSync(file, { timeoutMs: 0 });
    after.releaseSync();
});
test('bad arguments are refused with ERR_INVALID_ARG', async (t) => {
    const file = path.join(tempDir(t), 'db');
    const bad = [
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
    const loose = acquireLock;
    const looseSync = acquireLockSync;
    for (const args of bad) {
        await assert.rejects(loose(...args), code('ERR_INVALID_ARG'), JSON.stringify(args));
        assert.throws(() => looseSync(...args), code('ERR_INVALID_ARG'), JSON.stringify(args));
    }
    // A signal cannot wake a thread blocked in acquireLockSync, so it is refused rather than ignored.
    assert.throws(() => looseSync(file, { signal: new AbortController().signal }), code('ERR_INVALID_ARG'));
    await assert.rejects(withLock(file, 'not a function'), code('ERR_INVALID_ARG'));
    assert.throws(() => withLockSync(file), code('ERR_INVALID_ARG'));
    assert.equal(fs.existsSync(file), false);
    // Infinity means no timeout.
    (await acquireLock(file, { timeoutMs: Number.POSITIVE_INFINITY })).releaseSync();
});
//# sourceMappingURL=lock-wait.test.js.map