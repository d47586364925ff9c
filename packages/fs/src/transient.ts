/**
 * What a network filesystem (GlusterFS, NFS, CephFS) adds to the errors of a local disk, and the one place that
 * decides which calls may be tried again (docs/durability.md, "Network filesystems").
 *
 * ESTALE: the client's handle for a name no longer names a file on the server, because another host replaced or
 * removed it after this host looked it up; a fresh lookup finds what is there now. ENOTCONN: the client lost its
 * connection to (some of) the servers, which it re-establishes on its own. Both say nothing about the data, so a
 * call that only reads can simply be made again. A call that changes something cannot: the server may have done
 * it before the error came back, and doing it again could publish a record twice (link), report a done rename
 * as failed, or write data twice. EIO is not retried either: on a local disk it means lost data, and GlusterFS
 * reports split-brain with it; neither is cured by waiting.
 */
import { errnoCode, QuireError } from './errors.js';
import { call, type Op, type Steps } from './steps.js';

/** Error codes that a read-only call retries (and isTransientError reports as worth trying later). */
const TRANSIENT = new Set(['ESTALE', 'ENOTCONN', 'ERR_INCOMPLETE_READ']);

/**
 * The bound on retries of one read-only call: at most `attempts` tries, none started after `budgetMs`, sleeping
 * between them from `firstDelayMs` doubling up to `maxDelayMs`, each sleep a random time between half and all
 * of that (jitter, so that many readers that failed together do not come back together). About 1-2 s of sleep
 * in all: GlusterFS's default client caches keep an entry or attributes for 1 s, so a read that found a stale
 * entry succeeds once it has expired.
 */
export const READ_RETRY = { attempts: 10, budgetMs: 3000, firstDelayMs: 10, maxDelayMs: 500 } as const;

/**
 * Whether `err` means "the filesystem could not answer now; the same call later may succeed": ESTALE and
 * ENOTCONN (from a network filesystem; read-only calls have already retried them) and ERR_INCOMPLETE_READ.
 * A write that failed this way published nothing, or (a rename whose answer was lost) the whole new file: a
 * caller retrying it needs an idempotency key of its own, as the comment service's nonce is.
 */
export function isTransientError(err: unknown): boolean {
  const code = err instanceof QuireError ? err.code : errnoCode(err);
  return code !== undefined && TRANSIENT.has(code);
}

/** `err`, marked with how many attempts were made, for toQuireError to report. */
function withAttempts(err: unknown, attempts: number): unknown {
  if (err instanceof QuireError) {
    return new QuireError(err.code, `${err.message} after ${attempts} attempts`, {
      attempts,
      cause: err.cause,
      ...(err.path === undefined ? {} : { path: err.path }),
    });
  }
  if (typeof err === 'object' && err !== null) Object.assign(err, { attempts });
  return err;
}

/**
 * Runs `body` (steps that only read) until it succeeds, fails with an error that is not `retryable` (default:
 * isTransientError), or the READ_RETRY bound is spent; then its last error, with `attempts` set, is thrown. `body` must start afresh each time (open the
 * file again): a stale descriptor stays stale.
 */
export function* retryRead<T>(
  body: () => Steps<T>,
  retryable: (err: unknown) => boolean = isTransientError,
): Steps<T> {
  const start = performance.now();
  let step: number = READ_RETRY.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return yield* body();
    } catch (err) {
      if (!retryable(err)) throw err;
      const ms = step / 2 + (Math.random() * step) / 2;
      step = Math.min(step * 2, READ_RETRY.maxDelayMs);
      if (attempt >= READ_RETRY.attempts || performance.now() - start + ms > READ_RETRY.budgetMs) {
        throw withAttempts(err, attempt);
      }
      yield* call({ op: 'sleep', ms });
    }
  }
}

/**
 * One syscall, retried as retryRead does: for calls that change nothing (stat, lstat, readdir, open for
 * reading), or whose repetition changes nothing more than the first call (opening a lock file with O_CREAT and
 * without O_EXCL).
 */
export function retrying<O extends Op>(op: O): ReturnType<typeof call<O>> {
  return retryRead(() => call(op));
}

/**
 * close(2) of a descriptor opened read-only. Linux releases the descriptor whatever close returns, and nothing
 * was written through it, so nothing can be lost: an error here (GlusterFS answers ESTALE or ENOENT to the flush
 * that close sends, when another host replaced the file meanwhile) does not undo the read. EBADF alone is
 * reported, as it means a bug (the descriptor was closed twice).
 */
export function* closeReadOnly(fd: number): Steps<void> {
  try {
    yield* call({ op: 'close', fd });
  } catch (err) {
    const code = errnoCode(err);
    if (code === undefined || code === 'EBADF') throw err;
  }
}
