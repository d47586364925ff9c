import { optionFields, validatePath } from './args.js';
import { invalidArg } from './errors.js';
import { closeQuietly, type FdPool, type Lock, lockAsync, lockSync } from './lock.js';
import type { LockOptions, LockSyncOptions } from './lock-options.js';

/** Options of openLockFile. */
export interface LockFileOptions {
  /** Idle descriptors kept open for reuse (default 16). 0 = close each on release. */
  keep?: number;
}

/**
 * One lock file whose locks reuse their descriptors: see openLockFile. It belongs to the thread that opened it;
 * do not hand it to another thread.
 */
export interface LockFile {
  /** The lock file, as given. */
  readonly path: string;
  /** As acquireLock(path, opts), on a descriptor reused from earlier locks when one is idle. */
  acquire(opts?: LockOptions): Promise<Lock>;
  /** As acquireLockSync(path, opts). */
  acquireSync(opts?: LockSyncOptions): Lock;
  /**
   * Closes the idle descriptors. Locks still held keep theirs until released (then it is closed). Later
   * acquires still work but keep nothing. Idempotent.
   */
  close(): void;
}

const DEFAULT_KEEP = 16;

/** A LIFO stack, so that a steady one-at-a-time workload keeps reusing one fd. */
class IdleFds implements FdPool {
  private readonly fds: number[] = [];

  constructor(private limit: number) {}

  take(): number | undefined {
    return this.fds.pop();
  }

  keep(fd: number): boolean {
    if (this.fds.length >= this.limit) return false;
    this.fds.push(fd);
    return true;
  }

  close(): void {
    this.limit = 0;
    for (const fd of this.fds.splice(0)) closeQuietly(fd);
  }
}

class ReusingLockFile implements LockFile {
  private readonly idle: IdleFds;

  constructor(
    readonly path: string,
    keep: number,
  ) {
    this.idle = new IdleFds(keep);
  }

  acquire(opts?: LockOptions): Promise<Lock> {
    return lockAsync('LockFile.acquire', this.path, opts, this.idle);
  }

  acquireSync(opts?: LockSyncOptions): Lock {
    return lockSync('LockFile.acquireSync', this.path, opts, this.idle);
  }

  close(): void {
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
export function openLockFile(file: string, opts?: LockFileOptions): LockFile {
  const what = 'openLockFile';
  validatePath(file, 'path', what);
  const { keep = DEFAULT_KEEP } = optionFields(what, opts);
  if (!Number.isSafeInteger(keep) || (keep as number) < 0) {
    throw invalidArg(`${what}: keep must be a whole number >= 0`);
  }
  return new ReusingLockFile(file, keep as number);
}
