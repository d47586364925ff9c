/**
 * The native publish: the addon in native/ (built from source by scripts/build-native.mjs, or shipped prebuilt
 * by scripts/prebuild.mjs) runs a whole createUnique, createExclusive or replaceFile (open, write, fsync, link
 * or rename with counter probing, directory fsync) in one C function, so the async API makes one trip to one
 * of the addon's threads instead of about seven to libuv's pool, and on filesystems with O_TMPFILE no temp
 * name ever appears. It is loaded once; where it cannot be (not Linux, no binary that fits,
 * QUIRE_FS_PURE_JS=1) every call runs the JS protocol in publish.ts, which keeps every guarantee the same.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorName } from 'node:util';

/** The addon's functions; see native/addon.c for the argument order and `io`. */
export interface Binding {
  setup(io: Float64Array): void;
  publishSync(...args: unknown[]): void;
  publish(...args: unknown[]): void;
  prepareSync(...args: unknown[]): Prepared | undefined;
  prepare(...args: unknown[]): void;
  placeSync(handle: Prepared): void;
  place(handle: Prepared, cb: () => void): void;
  abort(handle: Prepared): void;
  readSync(file: string, out: Float64Array): Buffer | undefined;
  read(file: string, out: Float64Array, cb: (data: Buffer | undefined) => void): void;
}

/** A publish whose data is written and fsynced but not yet named (the addon's handle; opaque). */
export type Prepared = { readonly __prepared: unique symbol };

const require = createRequire(import.meta.url);
// dist/src/ -> the package root, where node-gyp leaves build/Release and the package ships prebuilds/.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The binary that fits, as node-gyp-build picks it: build/Release (built from source here) over the prebuilt
 * binary for this platform, architecture and libc (prebuilds/, shipped in the package, named by
 * scripts/prebuild.mjs), libc told the way node-gyp-build tells it. Where one of those two files is there,
 * node-gyp-build itself is not loaded: its require and its search cost every command that imports @quire/fs
 * about 2 ms of CPU, four times the addon's own load (bench: "Start-up"). Anywhere else it searches as always.
 */
function locate(): string {
  const libc = process.env.LIBC || (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
  const prebuild = path.join(
    root,
    'prebuilds',
    `${process.platform}-${process.arch}`,
    `@quire+fs.${libc}.node`,
  );
  const built = process.env.PREBUILDS_ONLY ? [] : [path.join(root, 'build', 'Release', 'quire_fs.node')];
  for (const file of [...built, prebuild]) if (fs.existsSync(file)) return file;
  return (require('node-gyp-build') as { path(dir: string): string }).path(root);
}

/**
 * The addon and the file it came from (see locate). A binary that is there but does not load (corrupt, or
 * built for another libc) is reported once as a warning.
 */
function load(): { binding: Binding; file: string } | undefined {
  if (process.env.QUIRE_FS_PURE_JS === '1' || process.platform !== 'linux') return undefined;
  let file: string;
  try {
    file = locate();
  } catch {
    return undefined; // neither built nor prebuilt for this machine: the install said so
  }
  try {
    return { binding: require(file) as Binding, file };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    process.emitWarning(`${file} did not load (${why}); the pure-JS protocol is used`, {
      code: 'QUIRE_FS_NATIVE_UNAVAILABLE',
    });
    return undefined;
  }
}

const loaded = load();
/** The addon's functions (undefined: the pure-JS protocol); native-read.ts uses its read calls. */
export const binding = loaded?.binding;

/**
 * The numbers a publish call takes and the results it gives, in the slots addon.c lists: one array for every
 * call, given to the addon once. The addon writes the results just before a sync call returns or an async
 * call's callback runs, and the callback reads them first, so no two calls ever need it at once; it reads it
 * from memory it holds, where a Float64Array of each call's own cost Node-API calls and, for the async API,
 * a reference held while the call runs.
 */
const io = new Float64Array(8);
binding?.setup(io);

/**
 * Which publish protocol this process runs: 'native' (the addon, one job on its own threads per call,
 * O_TMPFILE where the filesystem has it) or 'js' (the pure-JS protocol: not Linux, no binary that fits and
 * loads, or QUIRE_FS_PURE_JS=1). Both keep every guarantee of the README.
 */
export const implementation: 'native' | 'js' = binding ? 'native' : 'js';

/**
 * The addon file this process loaded: under the package's prebuilds/ for a shipped prebuilt binary, under
 * build/Release for one built from source; undefined when `implementation` is 'js'.
 */
export const nativeBinary: string | undefined = loaded?.file;

// Named temps instead of O_TMPFILE on every filesystem: how the tests reach the fallback on filesystems that
// have O_TMPFILE. Not part of the API.
const noTmpfile = process.env.QUIRE_FS_NO_TMPFILE === '1';

/** One publish for the addon; all paths absolute. */
export interface NativeRequest {
  kind: 'unique' | 'exclusive' | 'replace';
  dir: string;
  /** The file (exclusive, replace); the directory for unique. */
  target: string;
  /** The named temp, used by replace and wherever O_TMPFILE is refused. */
  tmp: string;
  stamp: string;
  suffix: string;
  bytes: Buffer;
  durable: boolean;
  /** fsync the directory once the name is placed. */
  syncDir: boolean;
  mode: number | undefined;
  /** unique: the first counter to try, the highest known taken, and the probe's spread. */
  counter: number;
  taken: number;
  spread: number;
  /** Nothing is placed while this path exists (WriteOptions.ifAbsent). */
  ifAbsent: string | undefined;
}

/** What a native publish did. */
export interface NativeResult {
  attempts: number;
  /** The counter it linked (unique), the highest it found taken, and the spread it ended with. */
  counter: number;
  taken: number;
  spread: number;
  /** Whether the data went through an unnamed O_TMPFILE inode. */
  tmpfile: boolean;
}

const KINDS = { unique: 0, exclusive: 1, replace: 2 } as const;
const SYSCALLS = [
  '',
  'open',
  'write',
  'fsync',
  'fchmod',
  'fchown',
  'close',
  'link',
  'rename',
  'unlink',
  'stat',
  'lstat',
];

/**
 * Calls one of the addon's publish functions with `req`'s arguments in the order addon.c reads them, then `cb`
 * for the async ones: as a plain call, since an array spread into the call would be built on every call. The
 * numbers go in through `io`.
 */
function start<R>(
  fn: (...args: unknown[]) => R,
  req: NativeRequest,
  cb?: (handle: Prepared | undefined) => void,
): R {
  io[0] = KINDS[req.kind];
  io[1] = req.durable ? 1 : 0;
  io[2] = req.syncDir ? 1 : 0;
  io[3] = req.mode ?? -1;
  io[4] = noTmpfile ? 1 : 0;
  io[5] = req.counter;
  io[6] = req.taken;
  io[7] = req.spread;
  return fn(req.dir, req.target, req.tmp, req.stamp, req.suffix, req.ifAbsent ?? '', req.bytes, cb);
}

/** An errno from the addon as Node's own fs errors look: code, errno, syscall, path. */
export function systemError(err: number, syscall: string, at: string | undefined): Error {
  const code = getSystemErrorName(-err);
  return Object.assign(new Error(`${code}: ${syscall} '${at}'`), { code, errno: -err, syscall, path: at });
}

/** The result the call just reported in `io`, or the failure (systemError). */
function settle(req: NativeRequest): NativeResult {
  // Indexed, not destructured: destructuring a typed array runs its iterator, on every call's path.
  const err = io[0] as number;
  if (err) {
    const where = io[2] as number;
    const named = path.join(req.dir, `${req.stamp}-${io[5]}${req.suffix}`);
    const at = [req.target, req.dir, req.tmp, named, req.dir, req.ifAbsent][where];
    const error = systemError(err, SYSCALLS[io[1] as number] ?? 'unknown', at);
    // The directory fsync after the name was placed (and taken back): not a missing directory to create.
    if (where === 4) Object.defineProperty(error, 'afterPlace', { value: true });
    // The caller's ifAbsent path was there: not a failure of the filesystem (publish-native.ts says so).
    if (where === 5) Object.defineProperty(error, 'ifAbsent', { value: true });
    throw error;
  }
  return {
    attempts: io[3] as number,
    tmpfile: io[4] === 1,
    counter: io[5] as number,
    taken: io[6] as number,
    spread: io[7] as number,
  };
}

/** Whether the addon is loaded. */
export function hasNative(): boolean {
  return binding !== undefined;
}

/** A whole publish on this thread. */
export function nativePublishSync(req: NativeRequest): NativeResult {
  start((binding as Binding).publishSync, req);
  return settle(req);
}

/**
 * A whole publish as one job on the addon's threads; `then` gets its result, or undefined and the failure, on
 * the event loop. `then` must not throw: the addon would report it as an uncaught exception.
 */
export function nativePublishThen(
  req: NativeRequest,
  then: (done: NativeResult | undefined, err?: unknown) => void,
): void {
  start((binding as Binding).publish, req, () => {
    let done: NativeResult;
    try {
      done = settle(req);
    } catch (err) {
      then(undefined, err);
      return;
    }
    then(done);
  });
}

/** nativePublishThen as a promise. */
export function nativePublish(req: NativeRequest): Promise<NativeResult> {
  return new Promise((resolve, reject) => {
    nativePublishThen(req, (done, err) => (done ? resolve(done) : reject(err)));
  });
}

/** The first half of a publish, for a beforePublish hook: the data written and fsynced, no name yet. */
export function nativePrepareSync(req: NativeRequest): Prepared {
  const handle = start((binding as Binding).prepareSync, req);
  settle(req);
  return handle as Prepared;
}

/** nativePrepareSync as one job on the addon's threads. */
export function nativePrepare(req: NativeRequest): Promise<Prepared> {
  return new Promise((resolve, reject) => {
    start((binding as Binding).prepare, req, (handle) => {
      try {
        settle(req);
        resolve(handle as Prepared);
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** The second half: the prepared file takes its name (with the counter probing), then the directory fsync. */
export function nativePlaceSync(req: NativeRequest, handle: Prepared): NativeResult {
  (binding as Binding).placeSync(handle);
  return settle(req);
}

/** nativePlaceSync as one job on the addon's threads. */
export function nativePlace(req: NativeRequest, handle: Prepared): Promise<NativeResult> {
  return new Promise((resolve, reject) => {
    (binding as Binding).place(handle, () => {
      try {
        resolve(settle(req));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Drops a prepared publish the hook vetoed: the file is closed and (a named temp) removed; nothing is left. */
export function nativeAbort(handle: Prepared): void {
  (binding as Binding).abort(handle);
}
