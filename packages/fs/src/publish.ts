import path from 'node:path';
import { optionFields, resolvePath, validatePath } from './args.js';
import { type Content, type Data, type SyncData, toContent } from './data.js';
import { makeDirSteps } from './dir.js';
import { errnoCode, invalidArg, preconditionFailed, QuireError } from './errors.js';
import { CounterProbe, checkSuffix, formatName, formatStamp, resolveTime, type TimeSource } from './names.js';
import { missingDir, type Plan, planSteps, runsNatively, writeAsync } from './publish-native.js';
import { call, type Steps, wrapSync } from './steps.js';
import { tempName } from './temp.js';
import { retrying } from './transient.js';

/** Options of every writer. */
export interface WriteOptions {
  /**
   * Default true: the file is fsynced before it is published and its directory after, so the call returns only
   * once the content and the name survive a power cut. `false` skips every fsync: the file still appears complete
   * or not at all to concurrent readers, but a power cut may lose it or, for replaceFile, leave an empty or old
   * file under the name. Only for data you can rebuild (caches).
   */
  durable?: boolean;
  /**
   * Default true. `false` (with `durable`) fsyncs the file before it takes its name, as always, but not the
   * directory after: when the call returns, the content is durable and the name may still be lost in a power
   * cut until the caller runs syncDir on the directory. For batches that publish many files and then fsync each
   * directory once before they report success (Spool.appendBatch does). Readers see the same either way.
   */
  syncDir?: boolean;
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
  /**
   * A path that must not exist when the file takes its name: looked at (lstat) after the data is complete and
   * fsynced and after beforePublish, just before the name is placed; if it exists, nothing is published (the
   * temp is dropped) and the call rejects with ERR_PRECONDITION. One look, not a transaction: it means something
   * only when the caller holds a lock that whoever makes the path holds too (a comment service looks for a
   * retry's marker this way, under the nonce's lock, in the same trip to the threadpool as the publish). A
   * missing parent directory counts as absent. Relative paths are resolved against the working directory.
   */
  ifAbsent?: string;
  /**
   * Create the directory (and its parents) when it is missing; durably, when the write is durable (each new
   * directory's parent is fsynced, see makeDir). Default false: a missing directory rejects with ENOENT naming
   * the directory.
   */
  mkdir?: boolean;
}

/** Options of createUnique and createUniqueSync. */
export interface CreateUniqueOptions extends WriteOptions {
  /** Appended to the name, e.g. `.json`: '.' then 1-32 of [A-Za-z0-9_.-]. */
  suffix?: string;
  /** The moment the name records (to the second, UTC); default now. */
  time?: TimeSource;
}

/** What every writer resolves to: where the file was published. */
export interface WriteResult {
  /** The file's name in its directory, e.g. `20261126T101500Z-3.json`. */
  name: string;
  /** The file's absolute path: its directory (resolved) joined with `name`. */
  path: string;
  /** How many link(2) calls it took to find a free name: 1 except for createUnique under contention. */
  attempts: number;
}

/** WriteOptions, checked, for one call named `what`. */
interface WriteSettings {
  what: string;
  durable: boolean;
  /** fsync the directory after the name is placed: durable, unless syncDir: false. */
  syncDir: boolean;
  mkdir: boolean;
  mode: number | undefined;
  beforePublish: (() => unknown) | undefined;
  ifAbsent: string | undefined;
}

/** A path made absolute: resolved only when relative (a new path each call, so resolvePath's memory would not serve). */
const absolute = (p: string) => (path.isAbsolute(p) ? p : path.resolve(p));

function checkWriteOptions(what: string, opts: WriteOptions | undefined): WriteSettings {
  const { durable, syncDir, mkdir, mode, beforePublish, ifAbsent } = optionFields(what, opts);
  if (mode !== undefined && (!Number.isInteger(mode) || Number(mode) < 0 || Number(mode) > 0o7777)) {
    throw invalidArg(`mode must be an integer from 0 to 0o7777, got ${String(mode)}`);
  }
  if (beforePublish !== undefined && typeof beforePublish !== 'function') {
    throw invalidArg('beforePublish must be a function');
  }
  if (mkdir !== undefined && typeof mkdir !== 'boolean') throw invalidArg(`${what}: mkdir must be a boolean`);
  if (syncDir !== undefined && typeof syncDir !== 'boolean') {
    throw invalidArg(`${what}: syncDir must be a boolean`);
  }
  return {
    what,
    durable: durable !== false,
    syncDir: durable !== false && syncDir !== false,
    mkdir: mkdir === true,
    mode: mode as number | undefined,
    beforePublish: beforePublish as (() => unknown) | undefined,
    ifAbsent: ifAbsent === undefined ? undefined : absolute(validatePath(ifAbsent, 'ifAbsent', what)),
  };
}

/**
 * How the finished temp takes its name: linking (never overwrites; the temp is unlinked after) or renaming
 * (overwrites on purpose; the temp is consumed). place() returns the path it published.
 */
interface Placement {
  kind: 'link' | 'rename';
  place: (tmp: string) => Steps<WriteResult>;
}

/**
 * Opens a new temp in `dir`. A missing directory is named as such (the temp's name would only confuse), or,
 * with `mkdir`, created with its parents (durably when the write is durable) and the open tried again.
 */
function* openTemp(dir: string, settings: WriteSettings): Steps<{ tmp: string; fd: number }> {
  for (let retried = false; ; retried = true) {
    const tmp = path.join(dir, tempName());
    try {
      return { tmp, fd: yield* call({ op: 'open', path: tmp, flags: 'wx', mode: 0o666 }) };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' || retried) throw err;
      if (!settings.mkdir) {
        throw missingDir(settings.what, dir, err);
      }
      yield* makeDirSteps(dir, settings.durable, settings.what);
    }
  }
}

/** WriteOptions.ifAbsent, in the JS protocol (native/publish.c does the same in its job): one lstat. */
function* requireAbsent(what: string, file: string): Steps<void> {
  try {
    yield* call({ op: 'lstat', path: file });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw err;
  }
  throw preconditionFailed(what, file);
}

/**
 * The one publish protocol (Maildir's delivery, made durable; docs/durability.md, "The rules"): temp created
 * exclusively in the target directory, written, fsynced, closed; then linked or renamed to its name; the temp
 * unlinked; the directory fsynced; only then success. On any failure the temp is removed and a name already
 * linked is taken back, so no caller ever finds a record that was reported as failed. `adoptOwner` gives the
 * temp the ownership and mode of the file it replaces.
 */
function* publish(
  dir: string,
  { target, settings, content }: WriteRequest,
  placement: Placement,
  adoptOwner?: (fd: number) => Steps<void>,
): Steps<WriteResult> {
  const { tmp, fd } = yield* openTemp(dir, settings);
  let tmpExists = true;
  let linked: string | undefined;
  try {
    try {
      yield* call({ op: 'write', fd, content });
      // Ownership and mode after the data: the kernel clears setuid/setgid on an unprivileged write and on any
      // chown (chown(2), write(2)), so chown first, chmod last.
      if (adoptOwner) yield* adoptOwner(fd);
      if (settings.mode !== undefined) yield* call({ op: 'fchmod', fd, mode: settings.mode });
      // fsync before link/rename, or the name can reach the disk before the data (ALICE, OSDI'14; Ts'o on ext4).
      // A failed fsync is not retried: the pages may be marked clean (Rebello et al., ATC'20); the temp is dropped.
      if (settings.durable) yield* call({ op: 'fsync', fd });
    } catch (err) {
      try {
        yield* call({ op: 'close', fd });
      } catch {}
      throw err;
    }
    yield* call({ op: 'close', fd });
    if (settings.beforePublish) yield* call({ op: 'hook', fn: settings.beforePublish });
    if (settings.ifAbsent !== undefined) yield* requireAbsent(settings.what, settings.ifAbsent);
    const placed = yield* placement.place(tmp);
    if (placement.kind === 'link') {
      linked = placed.path;
      yield* call({ op: 'unlink', path: tmp });
    }
    tmpExists = false;
    // One directory fsync makes the new name (and the temp's removal) durable; fsync(2) on the file does not.
    if (settings.syncDir) yield* call({ op: 'syncDir', dir });
    return placed;
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

/** One writer call's arguments, checked: the target (a directory for createUnique, else the file), resolved. */
interface WriteRequest {
  what: string;
  target: string;
  settings: WriteSettings;
  content: Content;
}

function writeRequest(
  what: string,
  targetName: 'dir' | 'path',
  targetArg: unknown,
  data: unknown,
  opts: WriteOptions | undefined,
  allowAsync: boolean,
): WriteRequest {
  const target = resolvePath(validatePath(targetArg, targetName, what));
  const settings = checkWriteOptions(what, opts);
  return { what, target, settings, content: toContent(data, allowAsync) };
}

/** What a createUnique does: one native publish, or the JS protocol's steps (so for the other writers). */
function uniquePlan(request: WriteRequest, opts: CreateUniqueOptions | undefined): Plan {
  const dir = request.target;
  const suffix = checkSuffix(opts?.suffix);
  const stamp = formatStamp(resolveTime(opts?.time));
  if (runsNatively(request)) return { kind: 'unique', dir, request, unique: { stamp, suffix } };
  return publish(dir, request, {
    kind: 'link',
    *place(tmp) {
      const probe = new CounterProbe(dir, suffix, stamp);
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
        return { name, path: to, attempts };
      }
    },
  });
}

function exclusivePlan(request: WriteRequest): Plan {
  const { what, target: file } = request;
  if (runsNatively(request)) return { kind: 'exclusive', dir: path.dirname(file), request };
  return publish(path.dirname(file), request, {
    kind: 'link',
    *place(tmp) {
      try {
        yield* call({ op: 'link', from: tmp, to: file });
      } catch (err) {
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

function replacePlan(request: WriteRequest): Plan {
  if (runsNatively(request)) return { kind: 'replace', dir: path.dirname(request.target), request };
  return replaceSteps(request);
}

function* replaceSteps(request: WriteRequest): Steps<WriteResult> {
  const { target: file, settings } = request;
  let existing: { mode: number; uid: number; gid: number } | undefined;
  try {
    const st = yield* retrying({ op: 'stat', path: file });
    existing = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const old = existing;
  const adoptOwner =
    old === undefined
      ? undefined
      : function* (fd: number): Steps<void> {
          // Root rewriting another user's file would otherwise hand it to root.
          if (process.getuid?.() === 0 && (old.uid !== 0 || old.gid !== 0)) {
            yield* call({ op: 'fchown', fd, uid: old.uid, gid: old.gid });
          }
          if (settings.mode === undefined) yield* call({ op: 'fchmod', fd, mode: old.mode });
        };
  const placement: Placement = {
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
export function createUnique(dir: string, data: Data, opts?: CreateUniqueOptions): Promise<WriteResult> {
  return writeAsync('createUnique', () =>
    uniquePlan(writeRequest('createUnique', 'dir', dir, data, opts, true), opts),
  );
}

/** Sync createUnique. Takes bytes or a sync iterable of chunks. */
export function createUniqueSync(dir: string, data: SyncData, opts?: CreateUniqueOptions): WriteResult {
  return wrapSync('createUniqueSync', () =>
    planSteps(uniquePlan(writeRequest('createUniqueSync', 'dir', dir, data, opts, false), opts)),
  );
}

/**
 * Writes `data` to `file`, which must not exist: rejects with code `EEXIST` (and writes nothing there) if it does.
 * A concurrent reader sees no file, then the complete file.
 */
export function createExclusive(file: string, data: Data, opts?: WriteOptions): Promise<WriteResult> {
  return writeAsync('createExclusive', () =>
    exclusivePlan(writeRequest('createExclusive', 'path', file, data, opts, true)),
  );
}

/** Sync createExclusive. Takes bytes or a sync iterable of chunks. */
export function createExclusiveSync(file: string, data: SyncData, opts?: WriteOptions): WriteResult {
  return wrapSync('createExclusiveSync', () =>
    planSteps(exclusivePlan(writeRequest('createExclusiveSync', 'path', file, data, opts, false))),
  );
}

/** Per resolved path, the last of this process's replaceFile calls, so they complete in call order. */
const replaceQueues = new Map<string, Promise<unknown>>();

/**
 * Atomically replaces `file` (or creates it) with `data`. A concurrent reader sees the old content or the new,
 * complete, never a mix and never no file. Async calls from one process to one path complete in call order.
 */
export function replaceFile(file: string, data: Data, opts?: WriteOptions): Promise<WriteResult> {
  // resolvePath: the same path writeRequest resolves then, so that one is remembered, not computed twice.
  const key = typeof file === 'string' ? resolvePath(file) : '';
  const run = () =>
    writeAsync('replaceFile', () => replacePlan(writeRequest('replaceFile', 'path', file, data, opts, true)));
  // Each call starts once the one before it has settled either way; with none pending for the path, at once (a
  // turn of the microtask queue less for a caller one call at a time). One reaction per call forgets the path
  // once its last call has settled (it also marks the call's rejection handled, as the queue always has).
  const before = replaceQueues.get(key);
  const mine = before === undefined ? run() : before.then(run, run);
  replaceQueues.set(key, mine);
  const forget = () => {
    if (replaceQueues.get(key) === mine) replaceQueues.delete(key);
  };
  void mine.then(forget, forget);
  return mine;
}

/** Sync replaceFile. Takes bytes or a sync iterable of chunks. */
export function replaceFileSync(file: string, data: SyncData, opts?: WriteOptions): WriteResult {
  return wrapSync('replaceFileSync', () =>
    planSteps(replacePlan(writeRequest('replaceFileSync', 'path', file, data, opts, false))),
  );
}
