/**
 * Advisory locks that die with their holder: OFD fcntl locks on Linux (flock on macOS, LockFileEx on Windows)
 * through fs-native-extensions. An OFD lock belongs to the open file description, so it excludes another fd
 * of the same thread, other threads and other processes alike, and the kernel drops it when the fd is closed
 * or the holder dies, even by SIGKILL: no stale lock, no heartbeat, no stealing
 * (../shared/research/crash-consistency.md, "Locks"). A worker thread's locks go when it exits or is
 * terminated, as Node closes the fds a worker opened (Worker option trackUnmanagedFds, on by default). Node
 * opens every fd with O_CLOEXEC, so a child process never inherits (and so never keeps) a lock. A Lock that
 * is dropped without release() stays held until the process exits: closing it on garbage collection could
 * free it in the middle of the work it guards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { optionFields, validatePath } from './args.js';
import { invalidArg, isQuireError, QuireError, toQuireError } from './errors.js';
import { native } from './native.js';

// `await using` (TypeScript's downlevel emit included) looks up Symbol.asyncDispose at run time. Node 20.4+
// defines it as Symbol.for('nodejs.asyncDispose'), and Symbol.dispose likewise; earlier 20.x lack both.
// Defining the very same registered symbols there makes those versions indistinguishable from later ones, and
// this must happen before the class below evaluates its computed method names.
for (const name of ['dispose', 'asyncDispose'] as const) {
  if (!(name in Symbol)) Object.defineProperty(Symbol, name, { value: Symbol.for(`nodejs.${name}`) });
}

export interface LockOptions {
  /** A shared (read) lock: any number of shared holders at once, no exclusive one. Default: exclusive. */
  shared?: boolean;
  /**
   * Give up with ERR_LOCK_TIMEOUT when the lock is not granted within this many milliseconds (counted from
   * the call). 0 tries exactly once. Default: wait as long as it takes.
   */
  timeoutMs?: number;
  /**
   * Give up with ERR_ABORTED (its `cause` is `signal.reason`) when this signal aborts before the lock is
   * granted.
   */
  signal?: AbortSignal;
  /**
   * Lock only these bytes of the file (fcntl byte-range locks; `length` 0 means to the end). Ranges that do
   * not overlap are independent locks, so one lock file can serve many keys: a spool locks one byte per record.
   * Offsets may lie beyond the end of the file. Default: the whole file.
   */
  range?: { offset: number; length: number };
}

/** A blocked thread cannot be woken by a signal, so the sync calls take no `signal`. */
export type LockSyncOptions = Omit<LockOptions, 'signal'>;

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
// a reused fd number if the fd was closed before the thread got going. Worse, worker.terminate() hangs until
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

interface Checked {
  range: { offset: number; length: number };
  shared: boolean;
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
}

function checkOptions(what: string, opts: unknown, allowSignal: boolean): Checked {
  const { shared, timeoutMs, signal, range } = optionFields(what, opts);
  if (range !== undefined && !isRange(range)) {
    throw invalidArg(`${what}: range must be { offset, length } of whole numbers >= 0`);
  }
  if (shared !== undefined && typeof shared !== 'boolean')
    throw invalidArg(`${what}: shared must be a boolean`);
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
    throw invalidArg(`${what}: timeoutMs must be a number >= 0`);
  }
  if (signal !== undefined) {
    if (!allowSignal) throw invalidArg(`${what}: takes no signal, since nothing can wake a blocked thread`);
    if (!(signal instanceof AbortSignal)) throw invalidArg(`${what}: signal must be an AbortSignal`);
  }
  return {
    range: range ?? WHOLE,
    shared: shared ?? false,
    timeoutMs: timeoutMs === Number.POSITIVE_INFINITY ? undefined : timeoutMs,
    signal,
  };
}

function timedOut(what: string, file: string, timeoutMs: number): QuireError {
  return new QuireError('ERR_LOCK_TIMEOUT', `${what}: lock on ${file} not granted within ${timeoutMs} ms`, {
    path: file,
  });
}

function aborted(what: string, file: string, signal: AbortSignal): QuireError {
  return new QuireError('ERR_ABORTED', `${what}: wait for the lock on ${file} was aborted`, {
    path: file,
    cause: signal.reason,
  });
}

// O_RDWR because an exclusive fcntl lock needs an fd open for writing; O_CREAT so that locking a file that
// does not exist yet just works (proper-lockfile's ENOENT, anchors.md). Shared locks use the same flags, so a
// lock file is always opened the same way.
const LOCK_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;
const openAsync = promisify(fs.open);
const closeAsync = promisify(fs.close);

const WHOLE = { offset: 0, length: 0 };

function isRange(r: unknown): r is { offset: number; length: number } {
  if (typeof r !== 'object' || r === null) return false;
  const { offset, length } = r as Record<string, unknown>;
  return (
    Number.isSafeInteger(offset) && Number.isSafeInteger(length) && Number(offset) >= 0 && Number(length) >= 0
  );
}

function tryLock(what: string, fd: number, file: string, c: Checked): boolean {
  try {
    return native.tryLock(fd, c.range.offset, c.range.length, { shared: c.shared });
  } catch (err) {
    // EBADF, ENOLCK (an NFS server without lock support), EINVAL: never "someone else holds it".
    const q = toQuireError(err, what);
    throw new QuireError(q.code, `${what}: fcntl lock on ${file} failed: ${q.code}`, {
      syscall: 'fcntl',
      path: file,
      cause: err,
    });
  }
}

function closeQuietly(fd: number): void {
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
interface FdPool {
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
    if (this.unlockAndKeep()) return;
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

async function openLockFd(what: string, file: string): Promise<number> {
  try {
    return await openAsync(file, LOCK_FLAGS, 0o666);
  } catch (err) {
    throw toQuireError(err, what);
  }
}

function openLockFdSync(what: string, file: string): number {
  try {
    return fs.openSync(file, LOCK_FLAGS, 0o666);
  } catch (err) {
    throw toQuireError(err, what);
  }
}

/** One try on `fd`: the Lock, or how long to sleep before the next try; ERR_LOCK_TIMEOUT once time is up. */
function attempt(
  what: string,
  file: string,
  fd: number,
  c: Checked,
  backoff: Backoff,
  pool: FdPool,
): FileLock | number {
  if (tryLock(what, fd, file, c)) return new FileLock(fd, file, c.shared, c.range, pool);
  const ms = backoff.next();
  if (ms === undefined) throw timedOut(what, file, c.timeoutMs ?? 0);
  return ms;
}

/** Disposes of the fd of an acquire that failed with `err`. */
function giveBack(pool: FdPool, fd: number, err: unknown): void {
  // After a timeout or an abort every try was refused, so the fd holds no lock and may serve again. After a
  // failed fcntl (EBADF, ENOLCK) it is suspect: closed, never kept.
  const idle = isQuireError(err, 'ERR_LOCK_TIMEOUT') || isQuireError(err, 'ERR_ABORTED');
  if (!(idle && pool.keep(fd))) closeQuietly(fd);
}

async function lockAsync(what: string, file: string, opts: unknown, pool: FdPool): Promise<Lock> {
  const checked = checkOptions(what, opts, true);
  const { signal } = checked;
  if (signal?.aborted) throw aborted(what, file, signal);
  const backoff = new Backoff(checked.timeoutMs);
  const fd = pool.take() ?? (await openLockFd(what, file));
  try {
    for (;;) {
      if (signal?.aborted) throw aborted(what, file, signal);
      const got = attempt(what, file, fd, checked, backoff, pool);
      if (typeof got !== 'number') return got;
      try {
        await sleep(got, undefined, signal ? { signal } : undefined);
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

function lockSync(what: string, file: string, opts: unknown, pool: FdPool): Lock {
  const checked = checkOptions(what, opts, false);
  const backoff = new Backoff(checked.timeoutMs);
  const fd = pool.take() ?? openLockFdSync(what, file);
  try {
    for (;;) {
      const got = attempt(what, file, fd, checked, backoff, pool);
      if (typeof got !== 'number') return got;
      Atomics.wait(sleeper, 0, 0, got);
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
 * renamed over protects the old inode only (crash-consistency.md), so the next writer would lock the new file
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

/**
 * The sidecar lock file that withLock uses for `file`: `<dir>/.<basename>.lock`. The leading dot keeps record
 * readers (isRecordName) from taking it for a record. It is created on first use and never removed.
 */
export function lockPathFor(file: string): string {
  validatePath(file, 'path', 'lockPathFor');
  const base = path.basename(file);
  if (base === '' || base === '.' || base === '..') {
    throw invalidArg(`lockPathFor: ${file} names no file`);
  }
  return path.join(path.dirname(file), `.${base}.lock`);
}

function checkFn(what: string, fn: unknown): void {
  if (typeof fn !== 'function') throw invalidArg(`${what}: fn must be a function`);
}

/**
 * Runs `fn` while holding the lock for `file` and releases it however `fn` ends; resolves to what `fn`
 * returns and rejects with what it throws. The lock is taken on the sidecar lockPathFor(file), never on
 * `file`: `file` may be replaced by rename() under the lock (replaceFile), and a lock on the replaced inode
 * would exclude nobody who opens the new one. The sidecar is never replaced, so everyone who calls
 * withLock(file) contends for one inode. `file` need not exist. Options and errors as acquireLock.
 */
export async function withLock<T>(
  file: string,
  fn: () => T | PromiseLike<T>,
  opts?: LockOptions,
): Promise<T> {
  checkFn('withLock', fn);
  const lock = await acquireLock(lockPathFor(file), opts);
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    await lock.release().catch(() => {});
    throw err;
  }
  await lock.release();
  return result;
}

/** withLock for a synchronous `fn`, blocking the calling thread while it waits. */
export function withLockSync<T>(file: string, fn: () => T, opts?: LockSyncOptions): T {
  checkFn('withLockSync', fn);
  const lock = acquireLockSync(lockPathFor(file), opts);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    try {
      lock.releaseSync();
    } catch {}
    throw err;
  }
  lock.releaseSync();
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    // The lock is already gone while the promised work goes on: say so rather than pretend it was protected.
    throw invalidArg('withLockSync: fn returned a promise, which ran partly without the lock; use withLock');
  }
  return result;
}
