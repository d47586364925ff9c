import { optionFields, validatePath } from './args.js';
import { invalidArg } from './errors.js';
import { closeQuietly, lockAsync, lockSync } from './lock.js';
const DEFAULT_KEEP = 16;
/** A LIFO stack, so that a steady one-at-a-time workload keeps reusing one fd. */
class IdleFds {
    limit;
    fds = [];
    constructor(limit) {
        this.limit = limit;
    }
    take() {
        return this.fds.pop();
    }
    keep(fd) {
        if (this.fds.length >= this.limit)
            return false;
        this.fds.push(fd);
        return true;
    }
    close() {
        this.limit = 0;
        for (const fd of this.fds.splice(0))
            closeQuietly(fd);
    }
}
class ReusingLockFile {
    path;
    idle;
    constructor(path, keep) {
        this.path = path;
        this.idle = new IdleFds(keep);
    }
    acquire(opts) {
        return lockAsync('LockFile.acquire', this.path, opts, this.idle);
    }
    acquireSync(opts) {
        return lockSync('LockFile.acquireSync', this.path, opts, this.idle);
    }
    close() {
        this.idle.close();
    }
}
/**
 * Locks on one lock file, without an open() and close() per lock: a released lock's fd, unlocked, waits for
 * the next acquire instead of being closed (up to `keep` of them). That saves two syscalls per lock, and the
 * open(O_CREAT) that contends on the directory's inode lock with every thread creating files there. Nothing is
 * opened or created until the first acquire.
 *
 * What another holder sees is exactly what acquireLock gives. Every lock has an open file description of its
 * own (an idle fd, else a fresh one opened as acquireLock opens it) that no other live lock shares, and OFD
 * locks on different descriptions conflict: two locks from one LockFile exclude each other as two acquireLock
 * calls do, in this thread, in other threads and in other processes. Release unlocks the lock's range before
 * its fd goes idle, so an idle fd holds no lock, and a failed, timed-out or aborted acquire holds no lock and
 * leaks no fd. Options, errors, timeouts, aborts and the polling backoff are those of acquireLock and
 * acquireLockSync; bad arguments to openLockFile throw ERR_INVALID_ARG.
 *
 * The lock file must never be removed, renamed or replaced while the LockFile is open: an idle fd still names
 * the old inode, so its next lock would exclude nobody who opens the new file. A LockFile belongs to the
 * thread that opened it: fds are shared by the whole process, but Node closes the fds a worker thread opened
 * when the worker exits, which would silently end another thread's lock on one of them.
 */
export function openLockFile(file, opts) {
    const what = 'openLockFile';
    validatePath(file, 'path', what);
    const { keep = DEFAULT_KEEP } = optionFields(what, opts);
    if (!Number.isSafeInteger(keep) || keep < 0) {
        throw invalidArg(`${what}: keep must be a whole number >= 0`);
    }
    return new ReusingLockFile(file, keep);
}
//# sourceMappingURL=lock-file.js.map