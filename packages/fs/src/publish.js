import path from 'node:path';
import { optionFields, validatePath } from './args.js';
import { toContent } from './data.js';
import { makeDirSteps } from './dir.js';
import { errnoCode, invalidArg, QuireError } from './errors.js';
import { CounterProbe, checkSuffix, formatName, formatStamp, resolveTime } from './names.js';
import { missingDir, nativeSteps, runsNatively } from './publish-native.js';
import { call, wrapAsync, wrapSync } from './steps.js';
import { tempName } from './temp.js';
import { retrying } from './transient.js';
function checkWriteOptions(what, opts) {
    const { durable, mkdir, mode, beforePublish } = optionFields(what, opts);
    if (mode !== undefined && (!Number.isInteger(mode) || Number(mode) < 0 || Number(mode) > 0o7777)) {
        throw invalidArg(`mode must be an integer from 0 to 0o7777, got ${String(mode)}`);
    }
    if (beforePublish !== undefined && typeof beforePublish !== 'function') {
        throw invalidArg('beforePublish must be a function');
    }
    if (mkdir !== undefined && typeof mkdir !== 'boolean')
        throw invalidArg(`${what}: mkdir must be a boolean`);
    return {
        what,
        durable: durable !== false,
        mkdir: mkdir === true,
        mode: mode,
        beforePublish: beforePublish,
    };
}
/**
 * Opens a new temp in `dir`. A missing directory is named as such (the temp's name would only confuse), or,
 * with `mkdir`, created with its parents (durably when the write is durable) and the open tried again.
 */
function* openTemp(dir, settings) {
    for (let retried = false;; retried = true) {
        const tmp = path.join(dir, tempName());
        try {
            return { tmp, fd: yield* call({ op: 'open', path: tmp, flags: 'wx', mode: 0o666 }) };
        }
        catch (err) {
            if (errnoCode(err) !== 'ENOENT' || retried)
                throw err;
            if (!settings.mkdir) {
                throw missingDir(settings.what, dir, err);
            }
            yield* makeDirSteps(dir, settings.durable, settings.what);
        }
    }
}
/**
 * The one publish protocol (Maildir's delivery, made durable; docs/durability.md, "The rules"): temp created
 * exclusively in the target directory, written, fsynced, closed; then linked or renamed to its name; the temp
 * unlinked; the directory fsynced; only then success. On any failure the temp is removed and a name already
 * linked is taken back, so no caller ever finds a record that was reported as failed. `adoptOwner` gives the
 * temp the ownership and mode of the file it replaces.
 */
function* publish(dir, { target, settings, content }, placement, adoptOwner) {
    const { tmp, fd } = yield* openTemp(dir, settings);
    let tmpExists = true;
    let linked;
    try {
        try {
            yield* call({ op: 'write', fd, content });
            // Ownership and mode after the data: the kernel clears setuid/setgid on an unprivileged write and on any
            // chown (chown(2), write(2)), so chown first, chmod last.
            if (adoptOwner)
                yield* adoptOwner(fd);
            if (settings.mode !== undefined)
                yield* call({ op: 'fchmod', fd, mode: settings.mode });
            // fsync before link/rename, or the name can reach the disk before the data (ALICE, OSDI'14; Ts'o on ext4).
            // A failed fsync is not retried: the pages may be marked clean (Rebello et al., ATC'20); the temp is dropped.
            if (settings.durable)
                yield* call({ op: 'fsync', fd });
        }
        catch (err) {
            try {
                yield* call({ op: 'close', fd });
            }
            catch { }
            throw err;
        }
        yield* call({ op: 'close', fd });
        if (settings.beforePublish)
            yield* call({ op: 'hook', fn: settings.beforePublish });
        const placed = yield* placement.place(tmp);
        if (placement.kind === 'link') {
            linked = placed.path;
            yield* call({ op: 'unlink', path: tmp });
        }
        tmpExists = false;
        // One directory fsync makes the new name (and the temp's removal) durable; fsync(2) on the file does not.
        if (settings.durable)
            yield* call({ op: 'syncDir', dir });
        return placed;
    }
    catch (err) {
        // Errors on an fd (write, fsync) carry no path; name the file being published so the message says where.
        if (errnoCode(err) !== undefined && err.path === undefined) {
            err.path = target;
        }
        if (tmpExists) {
            try {
                yield* call({ op: 'unlink', path: tmp });
            }
            catch { }
        }
        if (linked !== undefined) {
            try {
                yield* call({ op: 'unlink', path: linked });
            }
            catch { }
        }
        throw err;
    }
}
function writeRequest(what, targetName, targetArg, data, opts, allowAsync) {
    const target = path.resolve(validatePath(targetArg, targetName, what));
    const settings = checkWriteOptions(what, opts);
    return { what, target, settings, content: toContent(data, allowAsync) };
}
function* uniqueSteps(request, opts) {
    const dir = request.target;
    const suffix = checkSuffix(opts?.suffix);
    const stamp = formatStamp(resolveTime(opts?.time));
    if (runsNatively(request))
        return yield* nativeSteps('unique', dir, request, { stamp, suffix });
    return yield* publish(dir, request, {
        kind: 'link',
        *place(tmp) {
            const probe = new CounterProbe(`${dir}\0${suffix}`, stamp);
            let counter = probe.first();
            for (let attempts = 1;; attempts++) {
                const name = formatName(stamp, counter, suffix);
                const to = path.join(dir, name);
                try {
                    // link(2) fails with EEXIST instead of overwriting: the kernel alone decides who owns a name.
                    yield* call({ op: 'link', from: tmp, to });
                }
                catch (err) {
                    if (errnoCode(err) !== 'EEXIST')
                        throw err;
                    // The same temp is linked again under the next name; the data is never rewritten.
                    counter = probe.next(counter);
                    continue;
                }
                probe.won(counter, attempts);
                return { name, path: to, attempts };
            }
        },
    });
}
function* exclusiveSteps(request) {
    const { what, target: file } = request;
    if (runsNatively(request))
        return yield* nativeSteps('exclusive', path.dirname(file), request);
    return yield* publish(path.dirname(file), request, {
        kind: 'link',
        *place(tmp) {
            try {
                yield* call({ op: 'link', from: tmp, to: file });
            }
            catch (err) {
                if (errnoCode(err) === 'EEXIST') {
                    throw new QuireError('EEXIST', `${what}: ${file} already exists`, {
                        path: file,
                        syscall: 'link',
                        cause: err,
                    });
                }
                throw err;
            }
            return { name: path.basename(file), path: file, attempts: 1 };
        },
    });
}
function* replaceSteps(request) {
    const { target: file, settings } = request;
    if (runsNatively(request))
        return yield* nativeSteps('replace', path.dirname(file), request);
    let existing;
    try {
        const st = yield* retrying({ op: 'stat', path: file });
        existing = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    }
    catch (err) {
        if (errnoCode(err) !== 'ENOENT')
            throw err;
    }
    const old = existing;
    const adoptOwner = old === undefined
        ? undefined
        : function* (fd) {
            // Root rewriting another user's file would otherwise hand it to root.
            if (process.getuid?.() === 0 && (old.uid !== 0 || old.gid !== 0)) {
                yield* call({ op: 'fchown', fd, uid: old.uid, gid: old.gid });
            }
            if (settings.mode === undefined)
                yield* call({ op: 'fchmod', fd, mode: old.mode });
        };
    const placement = {
        kind: 'rename',
        *place(tmp) {
            // rename(2) swaps the name atomically: a reader opens the old file or the new one, never a mix.
            yield* call({ op: 'rename', from: tmp, to: file });
            return { name: path.basename(file), path: file, attempts: 1 };
        },
    };
    return yield* publish(path.dirname(file), request, placement, adoptOwner);
}
/**
 * Writes `data` to a new file in `dir` named `YYYYMMDDTHHMMSSZ-N[suffix]`, never overwriting anything.
 * A concurrent reader sees no file under the name, then the complete file; never a part of it.
 * When the promise resolves (durable, the default), content and name survive a power cut.
 */
export function createUnique(dir, data, opts) {
    return wrapAsync('createUnique', () => uniqueSteps(writeRequest('createUnique', 'dir', dir, data, opts, true), opts));
}
/** Sync createUnique. Takes bytes or a sync iterable of chunks. */
export function createUniqueSync(dir, data, opts) {
    return wrapSync('createUniqueSync', () => uniqueSteps(writeRequest('createUniqueSync', 'dir', dir, data, opts, false), opts));
}
/**
 * Writes `data` to `file`, which must not exist: rejects with code `EEXIST` (and writes nothing there) if it does.
 * A concurrent reader sees no file, then the complete file.
 */
export function createExclusive(file, data, opts) {
    return wrapAsync('createExclusive', () => exclusiveSteps(writeRequest('createExclusive', 'path', file, data, opts, true)));
}
/** Sync createExclusive. Takes bytes or a sync iterable of chunks. */
export function createExclusiveSync(file, data, opts) {
    return wrapSync('createExclusiveSync', () => exclusiveSteps(writeRequest('createExclusiveSync', 'path', file, data, opts, false)));
}
/** Per resolved path, the settled tail of this process's replaceFile calls, so they complete in call order. */
const replaceQueues = new Map();
/**
 * Atomically replaces `file` (or creates it) with `data`. A concurrent reader sees the old content or the new,
 * complete, never a mix and never no file. Async calls from one process to one path complete in call order.
 */
export function replaceFile(file, data, opts) {
    const key = typeof file === 'string' ? path.resolve(file) : '';
    // The queue's tail never rejects, so each call starts once the one before it has settled either way.
    const before = replaceQueues.get(key) ?? Promise.resolve();
    const mine = before.then(() => wrapAsync('replaceFile', () => replaceSteps(writeRequest('replaceFile', 'path', file, data, opts, true))));
    const tail = mine.catch(() => { });
    replaceQueues.set(key, tail);
    void tail.then(() => {
        if (replaceQueues.get(key) === tail)
            replaceQueues.delete(key);
    });
    return mine;
}
/** Sync replaceFile. Takes bytes or a sync iterable of chunks. */
export function replaceFileSync(file, data, opts) {
    return wrapSync('replaceFileSync', () => replaceSteps(writeRequest('replaceFileSync', 'path', file, data, opts, false)));
}
//# sourceMappingURL=publish.js.map