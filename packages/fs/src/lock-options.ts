import { optionFields } from './args.js';
import { invalidArg, QuireError } from './errors.js';

/** Options of acquireLock, LockFile.acquire and withLock. */
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

/** LockOptions, checked. */
export interface LockSettings {
  range: { offset: number; length: number };
  shared: boolean;
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
}

/** Checks the options of a lock call named `what`; the sync calls take no signal. */
export function checkLockOptions(what: string, opts: unknown, allowSignal: boolean): LockSettings {
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

/** ERR_LOCK_TIMEOUT for `file`. */
export function timedOut(what: string, file: string, timeoutMs: number): QuireError {
  return new QuireError('ERR_LOCK_TIMEOUT', `${what}: lock on ${file} not granted within ${timeoutMs} ms`, {
    path: file,
  });
}

/** ERR_ABORTED for `file`, with the signal's reason as cause. */
export function aborted(what: string, file: string, signal: AbortSignal): QuireError {
  return new QuireError('ERR_ABORTED', `${what}: wait for the lock on ${file} was aborted`, {
    path: file,
    cause: signal.reason,
  });
}

/** A range that locks the whole file. */
const WHOLE = { offset: 0, length: 0 };

function isRange(r: unknown): r is { offset: number; length: number } {
  if (typeof r !== 'object' || r === null) return false;
  const { offset, length } = r as Record<string, unknown>;
  return (
    Number.isSafeInteger(offset) && Number.isSafeInteger(length) && Number(offset) >= 0 && Number(length) >= 0
  );
}
