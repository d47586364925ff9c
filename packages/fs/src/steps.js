/**
 * Each protocol (publish, replace, read, sweep, mkdir -p, marker) is written once, as a generator that yields the
 * syscalls it needs; a sync driver and an async driver carry them out. So the sync and async APIs cannot drift
 * apart, and the order of syscalls that the tests check with strace is the order written here.
 */
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { toBytes } from './data.js';
import { QuireError, toQuireError } from './errors.js';
import { fdAsync, fsyncDirShared, fsyncDirSync, pullChunks, pullChunksAsync, readAll, runHookAsync, runHookSync, writeAll, writeAllSync, } from './io.js';
import { nativeAbort, nativePlace, nativePlaceSync, nativePrepare, nativePrepareSync, nativePublish, nativePublishSync, } from './native-publish.js';
/** Yields one syscall and returns its result, typed. */
export function* call(op) {
    return (yield op);
}
const sleeper = new Int32Array(new SharedArrayBuffer(4));
function runSyncOp(op) {
    switch (op.op) {
        case 'open':
            return fs.openSync(op.path, op.flags, op.mode);
        case 'write': {
            const c = op.content;
            if (c.kind === 'bytes')
                return writeAllSync(op.fd, c.bytes);
            if (c.kind === 'async')
                throw new QuireError('ERR_INVALID_ARG', 'an async iterable needs the async API');
            for (const chunk of pullChunks(c.chunks))
                writeAllSync(op.fd, toBytes(chunk));
            return;
        }
        case 'fsync':
            return fs.fsyncSync(op.fd);
        case 'fchmod':
            return fs.fchmodSync(op.fd, op.mode);
        case 'fchown':
            return fs.fchownSync(op.fd, op.uid, op.gid);
        case 'close':
            return fs.closeSync(op.fd);
        case 'link':
            return fs.linkSync(op.from, op.to);
        case 'rename':
            return fs.renameSync(op.from, op.to);
        case 'unlink':
            return fs.unlinkSync(op.path);
        case 'mkdir':
            return fs.mkdirSync(op.path);
        case 'stat':
            return fs.statSync(op.path);
        case 'lstat':
            return fs.lstatSync(op.path);
        case 'readdir':
            return fs.readdirSync(op.path);
        case 'readAll':
            return fs.readFileSync(op.fd);
        case 'hook':
            return runHookSync(op.fn);
        case 'syncDir':
            return fsyncDirSync(op.dir);
        case 'sleep':
            // The sync API blocks its thread anyway; Atomics.wait sleeps without spinning.
            Atomics.wait(sleeper, 0, 0, op.ms);
            return;
        case 'native':
            return nativePublishSync(op.req);
        case 'nativePrepare':
            return nativePrepareSync(op.req);
        case 'nativePlace':
            return nativePlaceSync(op.req, op.handle);
        case 'nativeAbort':
            return nativeAbort(op.handle);
    }
}
async function runAsyncOp(op) {
    switch (op.op) {
        case 'open':
            return fdAsync.open(op.path, op.flags, op.mode);
        case 'write': {
            const c = op.content;
            if (c.kind === 'bytes')
                return writeAll(op.fd, c.bytes);
            for await (const chunk of c.kind === 'async' ? pullChunksAsync(c.chunks) : pullChunks(c.chunks)) {
                await writeAll(op.fd, toBytes(chunk));
            }
            return;
        }
        case 'fsync':
            return fdAsync.fsync(op.fd);
        case 'fchmod':
            return fdAsync.fchmod(op.fd, op.mode);
        case 'fchown':
            return fdAsync.fchown(op.fd, op.uid, op.gid);
        case 'close':
            return fdAsync.close(op.fd);
        case 'link':
            return fs.promises.link(op.from, op.to);
        case 'rename':
            return fs.promises.rename(op.from, op.to);
        case 'unlink':
            return fs.promises.unlink(op.path);
        case 'mkdir':
            return fs.promises.mkdir(op.path);
        case 'stat':
            return fs.promises.stat(op.path);
        case 'lstat':
            return fs.promises.lstat(op.path);
        case 'readdir':
            return fs.promises.readdir(op.path);
        case 'readAll':
            return readAll(op.fd);
        case 'syncDir':
            return fsyncDirShared(op.dir);
        case 'hook':
            return runHookAsync(op.fn);
        case 'sleep':
            return delay(op.ms);
        case 'native':
            return nativePublish(op.req);
        case 'nativePrepare':
            return nativePrepare(op.req);
        case 'nativePlace':
            return nativePlace(op.req, op.handle);
        case 'nativeAbort':
            return nativeAbort(op.handle);
    }
}
/** Carries out `steps` with blocking syscalls. */
export function runSync(steps) {
    let r = steps.next();
    while (!r.done) {
        let value;
        try {
            value = runSyncOp(r.value);
        }
        catch (err) {
            r = steps.throw(err);
            continue;
        }
        r = steps.next(value);
    }
    return r.value;
}
/** Carries out `steps` on the threadpool (and directory fsyncs by group commit). */
export async function runAsync(steps) {
    let r = steps.next();
    while (!r.done) {
        let value;
        try {
            value = await runAsyncOp(r.value);
        }
        catch (err) {
            r = steps.throw(err);
            continue;
        }
        r = steps.next(value);
    }
    return r.value;
}
/** runSync for a public call named `what`: whatever it throws comes out a QuireError. */
export function wrapSync(what, steps) {
    try {
        return runSync(steps());
    }
    catch (err) {
        throw toQuireError(err, what);
    }
}
/** runAsync for a public call named `what`: whatever it rejects with comes out a QuireError. */
export async function wrapAsync(what, steps) {
    try {
        return await runAsync(steps());
    }
    catch (err) {
        throw toQuireError(err, what);
    }
}
//# sourceMappingURL=steps.js.map