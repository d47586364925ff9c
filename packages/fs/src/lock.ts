/**
 * Advisory locks that die with their holder: OFD fcntl locks on Linux (flock on macOS, LockFileEx on Windows)
 * through fs-native-extensions. An OFD lock belongs to the open file description, so it excludes another fd
 * of the same thread, other threads and other processes alike, and the kernel drops it when the fd is closed
 * or the holder dies, even by SIGKILL: no stale lock, no heartbeat, no stealing (fcntl(2); J. Layton, "File-private
 * POSIX locks", LWN 2014; docs/durability.md, "What the kernel gives us"). A worker thread's locks go when it exits or is
 * terminated, as Node closes the fds a worker opened (Worker option trackUnmanagedFds, on by default). Node
 * opens every fd with O_CLOEXEC, so a child process never inherits (and so never keeps) a lock. A Lock that
 * is dropped without release() stays held until the process exits: closing it on garbage collection could
 * free it in the middle of the work it guards.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { validatePath } from './args.js';
import { isQuireError, QuireError, toQuireError } from './errors.js';
import { locksAreLocal } from './local-fs.js';
import {
  aborted,
  checkLockOptions,
  type LockOptions,
  type LockSettings,
  type LockSyncOptions,
  timedOut,
} from './lock-options.js';
import { tryLockOffThread, unlockOffThread } from './lock-thread.js';
import { native } from './native.js';
import { wrapAsync, wrapSync } from './steps.js';
import { retrying } from './transient.js';

// `await using` (TypeScript's downlevel emit included) looks up Symbol.asyncDispose at run time. Node 20.4+
// defines it as Symbol.for('nodejs.asyncDispose'), and Symbol.dispose likewise; earlier 20.x lack both.
// Defining the very same registered symbols there makes those versions indistinguishable from later ones, and
// this must happen before the class below evaluates its computed method names.
for (const name of ['dispose', 'asyncDispose'] as const) {
  if (!(name in Symbol)) Object.defineProperty(Symbol, name, { value: Symbol.for(`nodejs.${name}`) });
}

/**
 * A held lock. Use `await using lock = await acquireLock(p)`, `using lock = acquireLockSync(p)`, or
 * release().
 */
export interface Lock extends AsyncDisposable, Disposable {
  /** The file that is locked, as given. */
  readonly path: string;
  readonly shared: boolean;
  /**
   * Unlocks and closes the fd (a LockFile's lock keeps it idle for reuse instead). Idempotent: later calls
   * return the first call's promise.
   */
  release(): Promise<void>;
  /** release(), synchronously. Idempotent too. */
  releaseSync(): void;
}

// Why poll rather than wait in the kernel: fs-native-extensions' waitForLock blocks a thread of its own (not
// a threadpool thread: binding.c starts one per call with uv_thread_create) in fcntl(F_OFD_SETLKW), and
// nothing can cancel that thread. A timeout or an abort would have to abandon it: it stays blocked, takes the
// lock for a moment on the orphaned open file description once the holder lets go, and may even run fcntl on
// a reused fd number if the fd was closed before the thread lockOrDelay going. Worse, worker.terminate() hangs until
// such a wait is granted (measured: a worker waiting on a lock held by its parent did not terminate until the
// parent let go). A kernel waiter also beats every sleeping poller at each release, so mixing the two starves
// the pollers. So every acquisition (async and sync, bounded or not) polls with tryLock, a ~2 µs syscall,
// sleeping between tries with exponential backoff and jitter so that waiters do not retry in lockstep.
// Measured on this machine type (2 vCPUs, ext4): 8 processes x 500 read-modify-write increments took the same
// 5-6 s (noisy) polled or waited in the kernel; the price is handoff latency after a long hold, median 18 ms
// with a 50 ms cap, 8 ms with 25 ms, 4 ms with 10 ms (kernel wait: 0.04 ms). 25 ms keeps that latency small
// at about 50 tries a second per waiter. Neither way is fair: a holder that releases and re-acquires at once
// usually wins again.
const MIN_DELAY_MS = 1;
const MAX_DELAY_MS = 25;

class Backoff {
  private step = MIN_DELAY_MS;
  private readonly deadline: number;

  constructor(timeoutMs: number | undefined) {
    this.deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
  }

  /** How long to sleep before the next try, or undefined once the deadline has passed. */
  next(): number | undefined {
    const left = this.deadline - performance.now();
    if (left <= 0) return undefined;
    const ms = this.step / 2 + (Math.random() * this.step) / 2;
    this.step = Math.min(this.step * 2, MAX_DELAY_MS);
    // Sleeping exactly up to the deadline leaves one last try at it.
    return Math.min(ms, left);
  }
}

// O_RDWR because an exclusive fcntl lock needs an fd open for writing; O_CREAT so that locking a file that
// does not exist yet just works (proper-lockfile fails with ENOENT there; docs/design.md). Shared locks use the same flags, so a
// lock file is always opened the same way.
const LOCK_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;
const closeAsync = promisify(fs.close);

/** A failed fcntl: EBADF, ENOLCK (an NFS server without lock support), EINVAL: never "someone else holds it". */
function lockFailed(what: string, file: string, err: unknown): QuireError {
  const failed = toQuireError(err, what);
  return new QuireError(failed.code, `${what}: fcntl lock on ${file} failed: ${failed.code}`, {
    syscall: 'fcntl',
    path: file,
    cause: err,
  });
}

function tryLock(what: string, fd: number, file: string, settings: LockSettings): boolean {
  try {
    return native.tryLock(fd, settings.range.offset, settings.range.length, { shared: settings.shared });
  } catch (err) {
    throw lockFailed(what, file, err);
  }
}

/**
 * tryLock for the async API: on the lock thread (lock-thread.ts), where a lock call may be a network round trip;
 * on a local filesystem (`local`, local-fs.ts) on the caller's thread, as the non-blocking fcntl then costs a few
 * microseconds, less than handing it to another thread and back (measured: two hand-offs per post lock were 6 %
 * of the event loop's time at 800 POSTs/s).
 */
async function tryLockAsync(
  what: string,
  fd: number,
  file: string,
  settings: LockSettings,
  local: boolean,
): Promise<boolean> {
  if (local) return tryLock(what, fd, file, settings);
  const { offset, length } = settings.range;
  try {
    return await tryLockOffThread(fd, offset, length, settings.shared);
  } catch (err) {
    throw lockFailed(what, file, err);
  }
}

/** Closes `fd`, ignoring errors: for fds given up while another error is being reported. */
export function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // The error being reported matters more; the fd is gone either way.
  }
}

/**
 * Where a lock's fd comes from and where it goes when the lock is released or not granted: acquireLock opens
 * a fresh fd and closes it; a LockFile keeps idle ones for its next locks. An fd that take() hands out or
 * keep() is given holds no lock, so a reused fd never carries a lock into the next holder's hands.
 */
export interface FdPool {
  /** An open fd on the lock file, idle and holding no lock; undefined when a fresh one must be opened. */
  take(): number | undefined;
  /** Takes back an fd that holds no lock; false when it is not kept and the caller must close it. */
  keep(fd: number): boolean;
}

const CLOSE_EACH: FdPool = { take: () => undefined, keep: () => false };

class FileLock implements Lock {
  private released: Promise<void> | undefined;

  constructor(
    private readonly fd: number,
    readonly path: string,
    readonly shared: boolean,
    private readonly range: { offset: number; length: number },
    private readonly pool: FdPool,
    /** Whether locks of this file are taken on the caller's thread (tryLockAsync), and so let go there too. */
    private readonly local = false,
  ) {}

  // The lock file stays after release. Unlinking it would race: a waiter that has already opened the old
  // inode takes the lock on it after our unlink, while a newcomer creates a fresh file under the name and
  // locks that one; both then believe they hold "the" lock.
  release(): Promise<void> {
    this.released ??= this.letGo();
    return this.released;
  }

  releaseSync(): void {
    if (this.released) return;
    this.released = Promise.resolve();
    if (this.unlockAndKeep()) return;
    try {
      fs.closeSync(this.fd);
    } catch (err) {
      throw toQuireError(err, 'Lock.releaseSync');
    }
  }

  private async letGo(): Promise<void> {
    const { offset, length } = this.range;
    // Unlocked where it was locked (see tryLockAsync).
    try {
      if (this.local) native.unlock(this.fd, offset, length);
      else await unlockOffThread(this.fd, offset, length);
      if (this.pool.keep(this.fd)) return;
    } catch {
      // Closing the fd still drops the lock.
    }
    try {
      await closeAsync(this.fd);
    } catch (err) {
      throw toQuireError(err, 'Lock.release');
    }
  }

  // An explicit unlock frees the lock at once, before the fd is closed, even if something else shares the
  // open file description. Only an fd whose unlock succeeded may be kept, as a kept fd must hold no lock; if
  // unlock fails, closing the fd still drops the lock.
  private unlockAndKeep(): boolean {
    try {
      native.unlock(this.fd, this.range.offset, this.range.length);
    } catch {
      return false;
    }
    return this.pool.keep(this.fd);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  [Symbol.dispose](): void {
    this.releaseSync();
  }
}

// Without O_EXCL a second open creates nothing the first did not, so ESTALE and ENOTCONN are retried here.
const openLockFd = (what: string, file: string): Promise<number> =>
  wrapAsync(what, () => retrying({ op: 'open', path: file, flags: LOCK_FLAGS, mode: 0o666 }));

const openLockFdSync = (what: string, file: string): number =>
  wrapSync(what, () => retrying({ op: 'open', path: file, flags: LOCK_FLAGS, mode: 0o666 }));

/**
 * After one try on `fd` (`granted`): the Lock, or how long to sleep before the next try; ERR_LOCK_TIMEOUT once
 * time is up.
 */
function attempt(
  granted: boolean,
  what: string,
  file: string,
  fd: number,
  settings: LockSettings,
  backoff: Backoff,
  pool: FdPool,
  local = false,
): FileLock | number {
  if (granted) return new FileLock(fd, file, settings.shared, settings.range, pool, local);
  const ms = backoff.next();
  if (ms === undefined) throw timedOut(what, file, settings.timeoutMs ?? 0);
  return ms;
}

/** Disposes of the fd of an acquire that failed with `err`. */
function giveBack(pool: FdPool, fd: number, err: unknown): void {
  // After a timeout or an abort every try was refused, so the fd holds no lock and may serve again. After a
  // failed fcntl (EBADF, ENOLCK) it is suspect: closed, never kept.
  const idle = isQuireError(err, 'ERR_LOCK_TIMEOUT') || isQuireError(err, 'ERR_ABORTED');
  if (!(idle && pool.keep(fd))) closeQuietly(fd);
}

/** An acquire named `what` on `file`, polling until granted, timed out or aborted; fds from and back to `pool`. */
export async function lockAsync(what: string, file: string, opts: unknown, pool: FdPool): Promise<Lock> {
  const settings = checkLockOptions(what, opts, true);
  const { signal } = settings;
  if (signal?.aborted) throw aborted(what, file, signal);
  const backoff = new Backoff(settings.timeoutMs);
  const fd = pool.take() ?? (await openLockFd(what, file));
  try {
    const local = await locksAreLocal(file);
    for (;;) {
      if (signal?.aborted) throw aborted(what, file, signal);
      const granted = await tryLockAsync(what, fd, file, settings, local);
      const lockOrDelay = attempt(granted, what, file, fd, settings, backoff, pool, local);
      if (typeof lockOrDelay !== 'number') return lockOrDelay;
      try {
        await sleep(lockOrDelay, undefined, signal ? { signal } : undefined);
      } catch (err) {
        if (signal?.aborted) throw aborted(what, file, signal);
        throw err;
      }
    }
  } catch (err) {
    // Synchronously, so the fd is closed or idle again before anyone sees the rejection.
    giveBack(pool, fd, err);
    throw err;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** lockAsync, blocking the thread between tries. */
export function lockSync(what: string, file: string, opts: unknown, pool: FdPool): Lock {
  const settings = checkLockOptions(what, opts, false);
  const backoff = new Backoff(settings.timeoutMs);
  const fd = pool.take() ?? openLockFdSync(what, file);
  try {
    for (;;) {
      const granted = tryLock(what, fd, file, settings);
      const lockOrDelay = attempt(granted, what, file, fd, settings, backoff, pool);
      if (typeof lockOrDelay !== 'number') return lockOrDelay;
      Atomics.wait(sleeper, 0, 0, lockOrDelay);
    }
  } catch (err) {
    giveBack(pool, fd, err);
    throw err;
  }
}

/**
 * Locks `file` itself, creating it (mode 0o666 less the umask) when it does not exist, and resolves once the
 * lock is granted: exclusive by default, shared with `{ shared: true }`. Use it for a file that is never
 * replaced (a database file written in place, a dedicated lock file). To guard a file that is replaced by
 * rename(), as replaceFile does, use withLock, which locks a sidecar instead: a lock on a file that is later
 * renamed over protects the old inode only (docs/durability.md, rule 9), so the next writer would lock the new file
 * and not be excluded.
 *
 * Rejects with ERR_LOCK_TIMEOUT after `timeoutMs`, with ERR_ABORTED when `signal` aborts (at once if it
 * already has), with ERR_INVALID_ARG for bad arguments, with the errno name when the file cannot be opened or
 * locked. A rejected call holds no lock and no fd.
 */
export async function acquireLock(file: string, opts?: LockOptions): Promise<Lock> {
  validatePath(file, 'path', 'acquireLock');
  return lockAsync('acquireLock', file, opts, CLOSE_EACH);
}

/** acquireLock, blocking the calling thread while it waits (it sleeps between tries, using no CPU). */
export function acquireLockSync(file: string, opts?: LockSyncOptions): Lock {
  validatePath(file, 'path', 'acquireLockSync');
  return lockSync('acquireLockSync', file, opts, CLOSE_EACH);
}
