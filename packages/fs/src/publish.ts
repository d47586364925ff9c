import path from 'node:path';
import { type Content, type Data, type SyncData, toContent } from './data.js';
import { errnoCode, invalidArg, QuireError, toQuireError } from './errors.js';
import { CounterProbe, checkSuffix, formatName, formatStamp, resolveTime, type TimeSource } from './names.js';
import { call, runAsync, runSync, type Steps } from './steps.js';
import { tempName } from './temp.js';

export interface WriteOptions {
  /**
   * Default true: the file is fsynced before it is published and its directory after, so the call returns only
   * once the content and the name survive a power cut. `false` skips every fsync: the file still appears complete
   * or not at all to concurrent readers, but a power cut may lose it or, for replaceFile, leave an empty or old
   * file under the name. Only for data you can rebuild (caches).
   */
  durable?: boolean;
  /**
   * Permission bits, set exactly (the umask does not apply). Default: 0o666 less the umask for a new file;
   * replaceFile keeps the mode of the file it replaces.
   */
  mode?: number;
  /**
   * Called once the data is complete in the temp file (and fsynced, when durable) and before the file takes its
   * name; the async calls wait for a returned promise. If it throws or rejects, nothing is published: the temp
   * is removed and the call rejects with ERR_BEFORE_PUBLISH, the hook's error as `cause`. Lets a caller run a
   * check of its own while the data is written and veto the publish (a comment service checks a retry's nonce
   * during the file's fsync instead of before it). Concurrent readers see nothing until the hook has returned.
   */
  beforePublish?: () => unknown;
}

export interface CreateUniqueOptions extends WriteOptions {
  /** Appended to the name, e.g. `.json`: '.' then 1-32 of [A-Za-z0-9_.-]. */
  suffix?: string;
  /** The moment the name records (to the second, UTC); default now. */
  time?: TimeSource;
}

export interface CreateUniqueResult {
  /** The record name, e.g. `20261126T101500Z-3.json`. */
  name: string;
  /** `dir` joined with `name`. */
  path: string;
  /** How many link(2) calls it took to find a free name (1 when uncontended). */
  attempts: number;
}

interface Plan {
  durable: boolean;
  mode: number | undefined;
  beforePublish: (() => unknown) | undefined;
}

function plan(opts: WriteOptions | undefined): Plan {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null))
    throw invalidArg('options must be an object');
  const mode = opts?.mode;
  if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)) {
    throw invalidArg(`mode must be an integer from 0 to 0o7777, got ${String(mode)}`);
  }
  const beforePublish = opts?.beforePublish;
  if (beforePublish !== undefined && typeof beforePublish !== 'function') {
    throw invalidArg('beforePublish must be a function');
  }
  return { durable: opts?.durable !== false, mode, beforePublish };
}

function checkPath(p: unknown, what: string): string {
  if (typeof p !== 'string' || p === '') throw invalidArg(`${what} must be a non-empty string`);
  if (p.includes('\0')) throw invalidArg(`${what} must not contain NUL bytes`);
  return path.resolve(p);
}

/**
 * How the finished temp takes its name: linking (never overwrites; the temp is unlinked after) or renaming
 * (overwrites on purpose; the temp is consumed).
 */
interface Placement<T> {
  kind: 'link' | 'rename';
  place: (tmp: string) => Steps<{ name: string; result: T }>;
}

/**
 * The one publish protocol (Maildir's delivery, made durable; crash-consistency.md "The protocol"):
 * temp created exclusively in the target directory, written, fsynced, closed; then linked or renamed to its
 * name; the temp unlinked; the directory fsynced; only then success. On any failure the temp is removed and a
 * name already linked is taken back, so no caller ever finds a record that was reported as failed.
 */
function* publish<T>(
  dir: string,
  target: string,
  content: Content,
  o: Plan,
  how: Placement<T>,
  prep?: (fd: number) => Steps<void>,
) {
  const tmp = path.join(dir, tempName());
  const fd = yield* call({ op: 'open', path: tmp, flags: 'wx', mode: 0o666 });
  let tmpExists = true;
  let linked: string | undefined;
  try {
    try {
      yield* call({ op: 'write', fd, content });
      // Ownership and mode after the data: the kernel clears setuid/setgid on an unprivileged write and on any
      // chown (chown(2), write(2)), so chown first, chmod last.
      if (prep) yield* prep(fd);
      if (o.mode !== undefined) yield* call({ op: 'fchmod', fd, mode: o.mode });
      // fsync before link/rename, or the name can reach the disk before the data (ALICE, OSDI'14; Ts'o on ext4).
      // A failed fsync is not retried: the pages may be marked clean (Rebello et al., ATC'20); the temp is dropped.
      if (o.durable) yield* call({ op: 'fsync', fd });
    } catch (err) {
      try {
        yield* call({ op: 'close', fd });
      } catch {}
      throw err;
    }
    yield* call({ op: 'close', fd });
    if (o.beforePublish) yield* call({ op: 'hook', fn: o.beforePublish });
    const placed = yield* how.place(tmp);
    if (how.kind === 'link') {
      linked = placed.name;
      yield* call({ op: 'unlink', path: tmp });
    }
    tmpExists = false;
    // One directory fsync makes the new name (and the temp's removal) durable; fsync(2) on the file does not.
    if (o.durable) yield* call({ op: 'syncDir', dir });
    return placed.result;
  } catch (err) {
    // Errors on an fd (write, fsync) carry no path; name the file being published so the message says where.
    if (errnoCode(err) !== undefined && (err as { path?: string }).path === undefined) {
      (err as { path?: string }).path = target;
    }
    if (tmpExists) {
      try {
        yield* call({ op: 'unlink', path: tmp });
      } catch {}
    }
    if (linked !== undefined) {
      try {
        yield* call({ op: 'unlink', path: linked });
      } catch {}
    }
    throw err;
  }
}

function* uniqueSteps(
  dirIn: unknown,
  data: unknown,
  opts: CreateUniqueOptions | undefined,
  allowAsync: boolean,
) {
  const dir = checkPath(dirIn, 'dir');
  const o = plan(opts);
  const suffix = checkSuffix(opts?.suffix);
  const stamp = formatStamp(resolveTime(opts?.time));
  const content = toContent(data, allowAsync);
  return yield* publish<CreateUniqueResult>(dir, dir, content, o, {
    kind: 'link',
    *place(tmp) {
      const probe = new CounterProbe(`${dir}\0${suffix}`, stamp);
      let counter = probe.first();
      for (let attempts = 1; ; attempts++) {
        const name = formatName(stamp, counter, suffix);
        const to = path.join(dir, name);
        try {
          // link(2) fails with EEXIST instead of overwriting: the kernel alone decides who owns a name.
          yield* call({ op: 'link', from: tmp, to });
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw err;
          // The same temp is linked again under the next name; the data is never rewritten.
          counter = probe.next(counter);
          continue;
        }
        probe.won(counter, attempts);
        return { name: to, result: { name, path: to, attempts } };
      }
    },
  });
}

function* exclusiveSteps(
  fileIn: unknown,
  data: unknown,
  opts: WriteOptions | undefined,
  allowAsync: boolean,
) {
  const file = checkPath(fileIn, 'path');
  const o = plan(opts);
  const content = toContent(data, allowAsync);
  return yield* publish<void>(path.dirname(file), file, content, o, {
    kind: 'link',
    *place(tmp) {
      try {
        yield* call({ op: 'link', from: tmp, to: file });
      } catch (err) {
        if (errnoCode(err) === 'EEXIST') {
          throw new QuireError('EEXIST', `createExclusive: ${file} already exists`, {
            path: file,
            syscall: 'link',
            cause: err,
          });
        }
        throw err;
      }
      return { name: file, result: undefined };
    },
  });
}

function* replaceSteps(fileIn: unknown, data: unknown, opts: WriteOptions | undefined, allowAsync: boolean) {
  const file = checkPath(fileIn, 'path');
  const o = plan(opts);
  const content = toContent(data, allowAsync);
  let existing: { mode: number; uid: number; gid: number } | undefined;
  try {
    const st = yield* call({ op: 'stat', path: file });
    existing = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const keep = existing;
  const prep =
    keep === undefined
      ? undefined
      : function* (fd: number): Steps<void> {
          // Root rewriting another user's file would otherwise hand it to root.
          if (process.getuid?.() === 0 && (keep.uid !== 0 || keep.gid !== 0)) {
            yield* call({ op: 'fchown', fd, uid: keep.uid, gid: keep.gid });
          }
          if (o.mode === undefined) yield* call({ op: 'fchmod', fd, mode: keep.mode });
        };
  return yield* publish<void>(
    path.dirname(file),
    file,
    content,
    o,
    {
      kind: 'rename',
      *place(tmp) {
        // rename(2) swaps the name atomically: a reader opens the old file or the new one, never a mix.
        yield* call({ op: 'rename', from: tmp, to: file });
        return { name: file, result: undefined };
      },
    },
    prep,
  );
}

export function wrapSync<T>(what: string, steps: () => Steps<T>): T {
  try {
    return runSync(steps());
  } catch (err) {
    throw toQuireError(err, what);
  }
}

export async function wrapAsync<T>(what: string, steps: () => Steps<T>): Promise<T> {
  try {
    return await runAsync(steps());
  } catch (err) {
    throw toQuireError(err, what);
  }
}

/**
 * Writes `data` to a new file in `dir` named `YYYYMMDDTHHMMSSZ-N[suffix]`, never overwriting anything.
 * A concurrent reader sees no file under the name, then the complete file; never a part of it.
 * When the promise resolves (durable, the default), content and name survive a power cut.
 */
export function createUnique(
  dir: string,
  data: Data,
  opts?: CreateUniqueOptions,
): Promise<CreateUniqueResult> {
  return wrapAsync('createUnique', () => uniqueSteps(dir, data, opts, true));
}

/** Sync createUnique. Takes bytes or a sync iterable of chunks. */
export function createUniqueSync(
  dir: string,
  data: SyncData,
  opts?: CreateUniqueOptions,
): CreateUniqueResult {
  return wrapSync('createUniqueSync', () => uniqueSteps(dir, data, opts, false));
}

/**
 * Writes `data` to `file`, which must not exist: rejects with code `EEXIST` (and writes nothing there) if it does.
 * A concurrent reader sees no file, then the complete file.
 */
export function createExclusive(file: string, data: Data, opts?: WriteOptions): Promise<void> {
  return wrapAsync('createExclusive', () => exclusiveSteps(file, data, opts, true));
}

export function createExclusiveSync(file: string, data: SyncData, opts?: WriteOptions): void {
  wrapSync('createExclusiveSync', () => exclusiveSteps(file, data, opts, false));
}

const replaceQueues = new Map<string, Promise<unknown>>();

/**
 * Atomically replaces `file` (or creates it) with `data`. A concurrent reader sees the old content or the new,
 * complete, never a mix and never no file. Async calls from one process to one path complete in call order.
 */
export function replaceFile(file: string, data: Data, opts?: WriteOptions): Promise<void> {
  const key = typeof file === 'string' ? path.resolve(file) : '';
  // The queue's tail never rejects, so each call starts once the one before it has settled either way.
  const before = replaceQueues.get(key) ?? Promise.resolve();
  const mine = before.then(() => wrapAsync('replaceFile', () => replaceSteps(file, data, opts, true)));
  const tail = mine.catch(() => {});
  replaceQueues.set(key, tail);
  void tail.then(() => {
    if (replaceQueues.get(key) === tail) replaceQueues.delete(key);
  });
  return mine;
}

export function replaceFileSync(file: string, data: SyncData, opts?: WriteOptions): void {
  wrapSync('replaceFileSync', () => replaceSteps(file, data, opts, false));
}
