import path from 'node:path';
import { optionFields, validatePath } from './args.js';
import { errnoCode, invalidArg, QuireError } from './errors.js';
import { call, type Steps, wrapAsync, wrapSync } from './steps.js';
import { retrying } from './transient.js';

/** Options of makeDir and makeDirSync. */
export interface MakeDirOptions {
  /**
   * Default true: the parent of every directory created is fsynced before the call returns, so the new names
   * survive a power cut. false: no fsync (for directories you can make again).
   */
  durable?: boolean;
  /**
   * Default true: missing parents are created too (mkdir -p). false: only `dir` itself, and a missing parent
   * is an ENOENT error, for callers to whom a vanished parent means something is wrong (a data directory
   * removed while a service runs must not come back empty).
   */
  parents?: boolean;
}

/** A checked `parents` option: default true. */
function parentsOption(what: string, opts: unknown): boolean {
  const { parents } = optionFields(what, opts);
  if (parents !== undefined && typeof parents !== 'boolean')
    throw invalidArg(`${what}: parents must be a boolean`);
  return parents !== false;
}

/** A checked `durable` option: default true. */
export function durableOption(what: string, opts: unknown): boolean {
  const { durable } = optionFields(what, opts);
  if (durable !== undefined && typeof durable !== 'boolean')
    throw invalidArg(`${what}: durable must be a boolean`);
  return durable !== false;
}

/**
 * mkdir -p, by hand: each directory it creates is an entry in its parent, so with `durable` that parent is
 * fsynced (fsync of the new directory itself would not make its name durable). Node's recursive mkdir would
 * also loop forever where a parent refuses new entries (/proc). Another process creating the same directories
 * at the same time is fine: EEXIST counts as there. Returns the first directory it created.
 */
export function* makeDirSteps(
  dir: string,
  durable: boolean,
  what: string,
  parents = true,
): Steps<string | undefined> {
  // Up until a mkdir succeeds or finds its directory there, then down, creating what was missing.
  const missing: string[] = [];
  let first: string | undefined;
  for (let at = dir; ; ) {
    try {
      yield* call({ op: 'mkdir', path: at });
      first = at;
      if (durable) yield* call({ op: 'syncDir', dir: path.dirname(at) });
      break;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EEXIST') {
        if (at === dir) yield* checkIsDir(dir, what);
        break;
      }
      const parent = path.dirname(at);
      if (code !== 'ENOENT' || parent === at || !parents) throw err;
      missing.push(at);
      at = parent;
    }
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    const at = missing[i] as string;
    try {
      yield* call({ op: 'mkdir', path: at });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      // Made by someone else meanwhile; a file under the name makes the next mkdir fail with ENOTDIR.
      if (i === 0) yield* checkIsDir(dir, what);
      continue;
    }
    first ??= at;
    if (durable) yield* call({ op: 'syncDir', dir: path.dirname(at) });
  }
  return first;
}

function* checkIsDir(dir: string, what: string): Steps<void> {
  const st = yield* retrying({ op: 'stat', path: dir });
  if (!st.isDirectory()) {
    throw new QuireError('ENOTDIR', `${what}: ${dir} exists and is not a directory`, {
      path: dir,
      syscall: 'mkdir',
    });
  }
}

/**
 * Creates `dir` and any missing parents (mkdir -p). With `durable` (the default) it fsyncs the parent of every
 * directory it created, so the new names survive a power cut. Resolves to the first directory it created
 * (absolute), or undefined if `dir` existed. Rejects with ENOTDIR if `dir` or a parent is a file.
 */
export function makeDir(dir: string, opts?: MakeDirOptions): Promise<string | undefined> {
  return wrapAsync('makeDir', () => {
    const durable = durableOption('makeDir', opts);
    const parents = parentsOption('makeDir', opts);
    return makeDirSteps(path.resolve(validatePath(dir, 'dir', 'makeDir')), durable, 'makeDir', parents);
  });
}

/** makeDir, blocking. */
export function makeDirSync(dir: string, opts?: MakeDirOptions): string | undefined {
  return wrapSync('makeDirSync', () => {
    const durable = durableOption('makeDirSync', opts);
    const parents = parentsOption('makeDirSync', opts);
    const target = path.resolve(validatePath(dir, 'dir', 'makeDirSync'));
    return makeDirSteps(target, durable, 'makeDirSync', parents);
  });
}

/**
 * fsync(2) of the directory `dir`, which makes the names created, renamed or removed in it survive a power
 * cut. Concurrent calls for one directory share an fsync that began after each of them was called (a group
 * commit: about two fsyncs for any number of callers), which is as good as one fsync each.
 */
export function syncDir(dir: string): Promise<void> {
  return wrapAsync('syncDir', () =>
    call({ op: 'syncDir', dir: path.resolve(validatePath(dir, 'dir', 'syncDir')) }),
  );
}

/** fsync(2) of the directory `dir`, blocking: one fsync per call. */
export function syncDirSync(dir: string): void {
  wrapSync('syncDirSync', () =>
    call({ op: 'syncDir', dir: path.resolve(validatePath(dir, 'dir', 'syncDirSync')) }),
  );
}

function* listSteps(dir: string): Steps<string[]> {
  try {
    return yield* retrying({ op: 'readdir', path: dir });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/**
 * The names in `dir` (readdir(3): every entry but `.` and `..`, in no particular order), or [] when `dir` does
 * not exist. A name created or removed while the call runs may or may not be listed; every name present
 * throughout is.
 */
export function listNames(dir: string): Promise<string[]> {
  return wrapAsync('listNames', () => listSteps(path.resolve(validatePath(dir, 'dir', 'listNames'))));
}

function* existsSteps(file: string): Steps<boolean> {
  try {
    yield* retrying({ op: 'stat', path: file });
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}

/**
 * Whether `file` exists (following symlinks: a dangling one does not). Unlike fs.exists, an error other than
 * "no such file" (EACCES, EIO) rejects instead of answering false.
 */
export function pathExists(file: string): Promise<boolean> {
  return wrapAsync('pathExists', () => existsSteps(validatePath(file, 'path', 'pathExists')));
}

/** pathExists, blocking. */
export function pathExistsSync(file: string): boolean {
  return wrapSync('pathExistsSync', () => existsSteps(validatePath(file, 'path', 'pathExistsSync')));
}
