/**
 * The system calls behind the drivers in steps.ts that take more than one node:fs call: writing and reading a
 * whole buffer, drawing the caller's chunks, running the caller's hook, and fsyncing a directory.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import { Coalescer } from './coalescer.js';
import { invalidArg, QuireError } from './errors.js';
/** node:fs's callback calls as promises, without the FileHandle objects of fs.promises (an fd is all we keep). */
export const fdAsync = {
    open: promisify(fs.open),
    fsync: promisify(fs.fsync),
    fchmod: promisify(fs.fchmod),
    fchown: promisify(fs.fchown),
    close: promisify(fs.close),
    fstat: promisify(fs.fstat),
};
/** Writes all of `buf` at the fd's offset, blocking. */
export function writeAllSync(fd, buf) {
    // write(2) may write less than asked (signals, quotas); loop until every byte is in.
    for (let off = 0; off < buf.length;)
        off += fs.writeSync(fd, buf, off, buf.length - off);
}
function writeSome(fd, buf, off) {
    return new Promise((resolve, reject) => fs.write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
}
/** Writes all of `buf` at the fd's offset, on the threadpool. */
export async function writeAll(fd, buf) {
    for (let off = 0; off < buf.length;)
        off += await writeSome(fd, buf, off);
}
function readSome(fd, buf, off) {
    return new Promise((resolve, reject) => fs.read(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
}
/**
 * Reads `fd` to its end. Not fs.readFile(fd): given an fd, it reports a failed read(2) as end of file, and an EIO
 * became an empty record (nodejs/node#64367; found by the power-cut campaign on xfs).
 */
export async function readAll(fd) {
    const size = (await fdAsync.fstat(fd)).size;
    let buf = Buffer.allocUnsafe(size > 0 ? size + 1 : 8192);
    let len = 0;
    for (;;) {
        if (len === buf.length)
            buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)], buf.length * 2);
        const n = await readSome(fd, buf, len);
        if (n === 0)
            return buf.subarray(0, len);
        len += n;
    }
}
/** An error thrown by the caller's beforePublish hook, told apart from the filesystem's. */
function hookError(err) {
    return new QuireError('ERR_BEFORE_PUBLISH', 'the beforePublish hook threw', { cause: err });
}
/** Runs beforePublish for the sync API: a thrown error is ERR_BEFORE_PUBLISH, a returned promise refused. */
export function runHookSync(fn) {
    let r;
    try {
        r = fn();
    }
    catch (err) {
        throw hookError(err);
    }
    if (typeof r?.then === 'function') {
        throw invalidArg('beforePublish returned a promise, which the sync API cannot wait for; use the async one');
    }
    return undefined;
}
/** Runs beforePublish for the async API, awaiting what it returns. */
export async function runHookAsync(fn) {
    try {
        await fn();
    }
    catch (err) {
        throw hookError(err);
    }
    return undefined;
}
/** An error thrown by the caller's own chunk iterator, told apart from the filesystem's. */
function sourceError(err) {
    return err instanceof QuireError
        ? err
        : new QuireError('ERR_DATA_SOURCE', 'the data iterator threw', { cause: err });
}
/** The caller's chunks, one by one; an error their iterator throws becomes ERR_DATA_SOURCE. */
export function* pullChunks(chunks) {
    const it = chunks[Symbol.iterator]();
    for (;;) {
        let r;
        try {
            r = it.next();
        }
        catch (err) {
            throw sourceError(err);
        }
        if (r.done)
            return;
        yield r.value;
    }
}
/** pullChunks for an async iterable. */
export async function* pullChunksAsync(chunks) {
    const it = chunks[Symbol.asyncIterator]();
    for (;;) {
        let r;
        try {
            r = await it.next();
        }
        catch (err) {
            throw sourceError(err);
        }
        if (r.done)
            return;
        yield r.value;
    }
}
const DIR_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_DIRECTORY ?? 0);
/**
 * fsync(2) of a directory: what makes the names created, renamed or removed in it survive a power cut (fsync of
 * a file does not make its name durable; Pillai et al., "All File Systems Are Not Created Equal", OSDI'14).
 */
export function fsyncDirSync(dir) {
    const fd = fs.openSync(dir, DIR_FLAGS);
    try {
        fs.fsyncSync(fd);
    }
    finally {
        fs.closeSync(fd);
    }
}
async function fsyncDirOnce(dir) {
    const fd = await fdAsync.open(dir, DIR_FLAGS);
    try {
        await fdAsync.fsync(fd);
    }
    finally {
        await fdAsync.close(fd);
    }
}
const dirCommits = new Map();
/**
 * Group commit: concurrent async calls that need the same directory fsynced share one fsync, as long as that
 * fsync began after the caller's call, so after its own link or rename (a Coalescer's rule: an fsync already
 * running may have started before it, so a caller arriving then waits for the next one, which everyone arriving
 * meanwhile shares). With N calls in flight a directory sees about two fsyncs per round instead of N.
 */
export function fsyncDirShared(dir) {
    let commit = dirCommits.get(dir);
    if (!commit) {
        const created = new Coalescer(() => fsyncDirOnce(dir), () => {
            if (dirCommits.get(dir) === created)
                dirCommits.delete(dir);
        });
        commit = created;
        dirCommits.set(dir, commit);
    }
    return commit.next();
}
//# sourceMappingURL=io.js.map