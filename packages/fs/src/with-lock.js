import path from 'node:path';
import { validatePath } from './args.js';
import { invalidArg } from './errors.js';
import { acquireLock, acquireLockSync } from './lock.js';
/**
 * The sidecar lock file that withLock uses for `file`: `<dir>/.<basename>.lock`. The leading dot keeps record
 * readers (isRecordName) from taking it for a record. It is created on first use and never removed.
 */
export function lockPathFor(file) {
    validatePath(file, 'path', 'lockPathFor');
    const base = path.basename(file);
    if (base === '' || base === '.' || base === '..') {
        throw invalidArg(`lockPathFor: ${file} names no file`);
    }
    return path.join(path.dirname(file), `.${base}.lock`);
}
function checkFn(what, fn) {
    if (typeof fn !== 'function')
        throw invalidArg(`${what}: fn must be a function`);
}
/**
 * Runs `fn` while holding the lock for `file` and releases it however `fn` ends; resolves to what `fn`
 * returns and rejects with what it throws. The lock is taken on the sidecar lockPathFor(file), never on
 * `file`: `file` may be replaced by rename() under the lock (replaceFile), and a lock on the replaced inode
 * would exclude nobody who opens the new one. The sidecar is never replaced, so everyone who calls
 * withLock(file) contends for one inode. `file` need not exist. Options and errors as acquireLock.
 */
export async function withLock(file, fn, opts) {
    checkFn('withLock', fn);
    const lock = await acquireLock(lockPathFor(file), opts);
    let result;
    try {
        result = await fn();
    }
    catch (err) {
        await lock.release().catch(() => { });
        throw err;
    }
    await lock.release();
    return result;
}
/** withLock for a synchronous `fn`, blocking the calling thread while it waits. */
export function withLockSync(file, fn, opts) {
    checkFn('withLockSync', fn);
    const lock = acquireLockSync(lockPathFor(file), opts);
    let result;
    try {
        result = fn();
    }
    catch (err) {
        try {
            lock.releaseSync();
        }
        catch { }
        throw err;
    }
    lock.releaseSync();
    if (typeof result?.then === 'function') {
        // The lock is already gone while the promised work goes on: say so rather than pretend it was protected.
        throw invalidArg('withLockSync: fn returned a promise, which ran partly without the lock; use withLock');
    }
    return result;
}
//# sourceMappingURL=with-lock.js.map