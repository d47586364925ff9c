/**
 * Every error @quire/fs throws is a QuireError with a stable `code`:
 * - an errno name (`EEXIST`, `ENOSPC`, `EACCES`, `EMFILE`, `ENAMETOOLONG`, `EIO`, `ENOENT`, ...) when the operating
 *   system refused, with `syscall` and `path` telling where;
 * - `ERR_INVALID_ARG` for arguments of the wrong type or shape;
 * - `ERR_DATA_SOURCE` when the caller's chunk iterator threw (the original error is `cause`);
 * - `ERR_BEFORE_PUBLISH` when the caller's `beforePublish` hook threw or rejected (its error is `cause`);
 * - `ERR_LOCK_TIMEOUT` and `ERR_ABORTED` for locks that were not granted in time or whose wait was aborted.
 * Whatever the code, a failed call leaves no partial file under a published name and no temp behind.
 */
export type QuireErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_DATA_SOURCE'
  | 'ERR_BEFORE_PUBLISH'
  | 'ERR_LOCK_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_INVALID_ID'
  | (string & {});

/** Where a failure happened, as Node's system errors tell it. */
export interface QuireErrorDetails {
  syscall?: string;
  path?: string;
  dest?: string;
  errno?: number;
  cause?: unknown;
}

/** Every error of this library: a stable `code`, and for system errors `syscall`, `path` and `cause`. */
export class QuireError extends Error {
  override readonly name = 'QuireError';
  readonly code: QuireErrorCode;
  readonly syscall?: string;
  readonly path?: string;
  readonly dest?: string;
  readonly errno?: number;

  constructor(code: QuireErrorCode, message: string, details: QuireErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.syscall !== undefined) this.syscall = details.syscall;
    if (details.path !== undefined) this.path = details.path;
    if (details.dest !== undefined) this.dest = details.dest;
    if (details.errno !== undefined) this.errno = details.errno;
  }
}

/** Whether `err` is a QuireError, and when `code` is given, one with that code. */
export function isQuireError(err: unknown, code?: QuireErrorCode): err is QuireError {
  return err instanceof QuireError && (code === undefined || err.code === code);
}

/** The errno name of a Node system error (`'EEXIST'`), or undefined for anything else. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code;
  return undefined;
}

/** ERR_INVALID_ARG with `message`. */
export function invalidArg(message: string): QuireError {
  return new QuireError('ERR_INVALID_ARG', message);
}

/** Turns whatever a step threw into a QuireError, keeping the errno name as the code. */
export function toQuireError(err: unknown, what: string): QuireError {
  if (err instanceof QuireError) return err;
  const e = err as NodeJS.ErrnoException & { dest?: string };
  const code = errnoCode(err);
  if (code === undefined) return new QuireError('ERR_UNEXPECTED', `${what}: ${String(err)}`, { cause: err });
  const where = e.dest ? `${e.path} -> ${e.dest}` : e.path;
  const details: QuireErrorDetails = { cause: err };
  if (e.syscall) details.syscall = e.syscall;
  if (e.path) details.path = e.path;
  if (e.dest) details.dest = e.dest;
  if (typeof e.errno === 'number') details.errno = e.errno;
  return new QuireError(
    code,
    `${what} failed: ${code}${e.syscall ? ` in ${e.syscall}` : ''}${where ? ` (${where})` : ''}`,
    details,
  );
}
