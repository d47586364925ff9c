import { constants } from 'node:os';

/**
 * Every error @quire/fs throws is a QuireError with a stable `code`:
 * - an errno name (`EEXIST`, `ENOSPC`, `EACCES`, `EMFILE`, `ENAMETOOLONG`, `EIO`, `ENOENT`, ...) when the operating
 *   system refused, with `syscall` and `path` telling where;
 * - `ERR_INVALID_ARG` for arguments of the wrong type or shape;
 * - `ERR_DATA_SOURCE` when the caller's chunk iterator threw (the original error is `cause`);
 * - `ERR_BEFORE_PUBLISH` when the caller's `beforePublish` hook threw or rejected (its error is `cause`);
 * - `ERR_PRECONDITION` when a writer's `ifAbsent` path existed just before the name would have been placed;
 * - `ERR_LOCK_TIMEOUT` and `ERR_ABORTED` for locks that were not granted in time or whose wait was aborted;
 * - `ERR_INCOMPLETE_READ` when a read kept being refused by the caller's `accept` check (see readComplete).
 * Network filesystems add `ESTALE` and `ENOTCONN`: reads retry them for a while first (`attempts` tells how
 * often), writes never do; isTransientError tells these apart (docs/durability.md, "Network filesystems").
 * Whatever the code, a failed call leaves no partial file under a published name and no temp behind.
 */
export type QuireErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_DATA_SOURCE'
  | 'ERR_BEFORE_PUBLISH'
  | 'ERR_PRECONDITION'
  | 'ERR_LOCK_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_INVALID_ID'
  | 'ERR_INCOMPLETE_READ'
  | (string & {});

/** Where a failure happened, as Node's system errors tell it. */
export interface QuireErrorDetails {
  syscall?: string;
  path?: string;
  dest?: string;
  errno?: number;
  cause?: unknown;
  /** How many times a read-only call was tried before it gave up (retried network-filesystem errors). */
  attempts?: number;
}

/** Every error of this library: a stable `code`, and for system errors `syscall`, `path` and `cause`. */
export class QuireError extends Error {
  override readonly name = 'QuireError';
  readonly code: QuireErrorCode;
  readonly syscall?: string;
  readonly path?: string;
  readonly dest?: string;
  readonly errno?: number;
  /** Set when a read-only call was tried more than once (ESTALE, ENOTCONN) before this error. */
  readonly attempts?: number;

  constructor(code: QuireErrorCode, message: string, details: QuireErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.syscall !== undefined) this.syscall = details.syscall;
    if (details.path !== undefined) this.path = details.path;
    if (details.dest !== undefined) this.dest = details.dest;
    if (details.errno !== undefined) this.errno = details.errno;
    if (details.attempts !== undefined) this.attempts = details.attempts;
  }
}

/** Whether `err` is a QuireError, and when `code` is given, one with that code. */
export function isQuireError(err: unknown, code?: QuireErrorCode): err is QuireError {
  return err instanceof QuireError && (code === undefined || err.code === code);
}

// libuv names only the errnos it knows; others come out as code 'Unknown system error -116' (ESTALE on Linux, the
// one a network filesystem gives most), from node:fs with `errno` set, from fs-native-extensions' fcntl with the
// code alone. The OS's own table names them.
const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [-n, name]));
const UNKNOWN = /^Unknown system error (-?\d+)$/;

/** The errno name of a Node system error (`'EEXIST'`, `'ESTALE'`), or undefined for anything else. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err) || typeof err.code !== 'string')
    return undefined;
  const unknown = UNKNOWN.exec(err.code);
  if (unknown) return errnoNames.get(Number(unknown[1])) ?? err.code;
  return err.code;
}

/** ERR_INVALID_ARG with `message`. */
export function invalidArg(message: string): QuireError {
  return new QuireError('ERR_INVALID_ARG', message);
}

/** A writer's `ifAbsent` path was there just before the name would have been placed: nothing was published. */
export function preconditionFailed(what: string, file: string, cause?: unknown): QuireError {
  return new QuireError('ERR_PRECONDITION', `${what}: ${file} exists (ifAbsent): nothing was published`, {
    path: file,
    syscall: 'lstat',
    ...(cause === undefined ? {} : { cause }),
  });
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
  const attempts = (err as { attempts?: unknown }).attempts;
  if (typeof attempts === 'number' && attempts > 1) details.attempts = attempts;
  return new QuireError(
    code,
    `${what} failed: ${code}${e.syscall ? ` in ${e.syscall}` : ''}${where ? ` (${where})` : ''}${
      details.attempts ? ` after ${details.attempts} attempts` : ''
    }`,
    details,
  );
}
