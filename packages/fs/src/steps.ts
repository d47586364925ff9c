/**
 * Each protocol (publish, replace, read, sweep, mkdir -p, marker) is written once, as a generator that yields the
 * syscalls it needs; a sync driver and an async driver carry them out. So the sync and async APIs cannot drift
 * apart, and the order of syscalls that the tests check with strace is the order written here.
 */
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { type Content, toBytes } from './data.js';
import { QuireError, toQuireError } from './errors.js';
import {
  fdAsync,
  fsyncDirShared,
  fsyncDirSync,
  pullChunks,
  pullChunksAsync,
  readAll,
  runHookAsync,
  runHookSync,
  writeAll,
  writeAllSync,
} from './io.js';
import { locksAreLocal } from './local-fs.js';
import { tryLockOffThread } from './lock-thread.js';
import { native } from './native.js';
import {
  type NativeRequest,
  type NativeResult,
  nativeAbort,
  nativePlace,
  nativePlaceSync,
  nativePrepare,
  nativePrepareSync,
  nativePublish,
  nativePublishSync,
  type Prepared,
} from './native-publish.js';
import { nativeRead, nativeReadSync } from './native-read.js';

/** One system call (or one caller's hook) that a protocol needs done. */
export type Op =
  | { op: 'open'; path: string; flags: string | number; mode?: number }
  | { op: 'write'; fd: number; content: Content }
  | { op: 'fsync'; fd: number }
  | { op: 'fchmod'; fd: number; mode: number }
  | { op: 'fchown'; fd: number; uid: number; gid: number }
  | { op: 'close'; fd: number }
  | { op: 'link'; from: string; to: string }
  | { op: 'rename'; from: string; to: string }
  | { op: 'unlink'; path: string }
  | { op: 'mkdir'; path: string }
  | { op: 'stat'; path: string }
  | { op: 'lstat'; path: string }
  | { op: 'readdir'; path: string }
  | { op: 'readAll'; fd: number }
  | { op: 'syncDir'; dir: string }
  | { op: 'hook'; fn: () => unknown }
  | { op: 'sleep'; ms: number }
  /** `path`: the file `fd` is open on, to tell where the async call may run (local-fs.ts). */
  | { op: 'tryLock'; fd: number; path: string; offset: number; length: number; shared: boolean }
  | { op: 'native'; req: NativeRequest }
  | { op: 'nativePrepare'; req: NativeRequest }
  | { op: 'nativePlace'; req: NativeRequest; handle: Prepared }
  | { op: 'nativeAbort'; handle: Prepared }
  /** One readComplete attempt in the addon: the data, or null (no file, or a writer's lock on it). */
  | { op: 'nativeRead'; path: string };

interface Results {
  open: number;
  write: undefined;
  fsync: undefined;
  fchmod: undefined;
  fchown: undefined;
  close: undefined;
  link: undefined;
  rename: undefined;
  unlink: undefined;
  mkdir: undefined;
  stat: fs.Stats;
  lstat: fs.Stats;
  readdir: string[];
  readAll: Buffer;
  syncDir: undefined;
  hook: undefined;
  sleep: undefined;
  tryLock: boolean;
  native: NativeResult;
  nativePrepare: Prepared;
  nativePlace: NativeResult;
  nativeAbort: undefined;
  nativeRead: Buffer | null;
}

/** A protocol: yields Ops, is resumed with each one's result (or its error thrown in), returns a T. */
export type Steps<T> = Generator<Op, T, unknown>;

/** Yields one syscall and returns its result, typed. */
export function* call<O extends Op>(op: O): Generator<Op, Results[O['op']], unknown> {
  return (yield op) as Results[O['op']];
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function runSyncOp(op: Op): unknown {
  switch (op.op) {
    case 'open':
      return fs.openSync(op.path, op.flags, op.mode);
    case 'write': {
      const c = op.content;
      if (c.kind === 'bytes') return writeAllSync(op.fd, c.bytes);
      if (c.kind === 'async')
        throw new QuireError('ERR_INVALID_ARG', 'an async iterable needs the async API');
      for (const chunk of pullChunks(c.chunks)) writeAllSync(op.fd, toBytes(chunk));
      return;
    }
    case 'fsync':
      return fs.fsyncSync(op.fd);
    case 'fchmod':
      return fs.fchmodSync(op.fd, op.mode);
    case 'fchown':
      return fs.fchownSync(op.fd, op.uid, op.gid);
    case 'close':
      return fs.closeSync(op.fd);
    case 'link':
      return fs.linkSync(op.from, op.to);
    case 'rename':
      return fs.renameSync(op.from, op.to);
    case 'unlink':
      return fs.unlinkSync(op.path);
    case 'mkdir':
      return fs.mkdirSync(op.path);
    case 'stat':
      return fs.statSync(op.path);
    case 'lstat':
      return fs.lstatSync(op.path);
    case 'readdir':
      return fs.readdirSync(op.path);
    case 'readAll':
      return fs.readFileSync(op.fd);
    case 'hook':
      return runHookSync(op.fn);
    case 'tryLock':
      return native.tryLock(op.fd, op.offset, op.length, { shared: op.shared });
    case 'syncDir':
      return fsyncDirSync(op.dir);
    case 'sleep':
      // The sync API blocks its thread anyway; Atomics.wait sleeps without spinning.
      Atomics.wait(sleeper, 0, 0, op.ms);
      return;
    case 'native':
      return nativePublishSync(op.req);
    case 'nativePrepare':
      return nativePrepareSync(op.req);
    case 'nativePlace':
      return nativePlaceSync(op.req, op.handle);
    case 'nativeAbort':
      return nativeAbort(op.handle);
    case 'nativeRead':
      return nativeReadSync(op.path);
  }
}

async function writeChunks(fd: number, c: Content): Promise<void> {
  if (c.kind === 'bytes') return writeAll(fd, c.bytes);
  for await (const chunk of c.kind === 'async' ? pullChunksAsync(c.chunks) : pullChunks(c.chunks)) {
    await writeAll(fd, toBytes(chunk));
  }
}

/**
 * One step for the async driver: its result or a promise of it. Not an async function: the driver awaits what
 * it returns (and catches what it throws) anyway, and an async function's own promise, adopting the step's,
 * would cost every step two more turns of the microtask queue.
 */
function runAsyncOp(op: Op): unknown {
  switch (op.op) {
    case 'open':
      return fdAsync.open(op.path, op.flags, op.mode);
    case 'write':
      return writeChunks(op.fd, op.content);
    case 'fsync':
      return fdAsync.fsync(op.fd);
    case 'fchmod':
      return fdAsync.fchmod(op.fd, op.mode);
    case 'fchown':
      return fdAsync.fchown(op.fd, op.uid, op.gid);
    case 'close':
      return fdAsync.close(op.fd);
    case 'link':
      return fs.promises.link(op.from, op.to);
    case 'rename':
      return fs.promises.rename(op.from, op.to);
    case 'unlink':
      return fs.promises.unlink(op.path);
    case 'mkdir':
      return fs.promises.mkdir(op.path);
    case 'stat':
      return fs.promises.stat(op.path);
    case 'lstat':
      return fs.promises.lstat(op.path);
    case 'readdir':
      return fs.promises.readdir(op.path);
    case 'readAll':
      return readAll(op.fd);
    case 'syncDir':
      return fsyncDirShared(op.dir);
    case 'hook':
      return runHookAsync(op.fn);
    case 'sleep':
      return delay(op.ms);
    case 'tryLock':
      // On the lock thread where a lock call may be a round trip to a network filesystem's server; here, where it
      // costs microseconds (lock.ts, tryLockAsync).
      return locksAreLocal(op.path).then((local) =>
        local
          ? native.tryLock(op.fd, op.offset, op.length, { shared: op.shared })
          : tryLockOffThread(op.fd, op.offset, op.length, op.shared),
      );
    case 'native':
      return nativePublish(op.req);
    case 'nativePrepare':
      return nativePrepare(op.req);
    case 'nativePlace':
      return nativePlace(op.req, op.handle);
    case 'nativeAbort':
      return nativeAbort(op.handle);
    case 'nativeRead':
      return nativeRead(op.path);
  }
}

/** Carries out `steps` with blocking syscalls. */
export function runSync<T>(steps: Steps<T>): T {
  let r = steps.next();
  while (!r.done) {
    let value: unknown;
    try {
      value = runSyncOp(r.value);
    } catch (err) {
      r = steps.throw(err);
      continue;
    }
    r = steps.next(value);
  }
  return r.value;
}

/**
 * The async driver: makes the steps and carries them out; with `what`, whatever it rejects with comes out a
 * QuireError. One async function for both (wrapAsync is on every async call's path: one promise and one await
 * fewer per call than runAsync inside wrapAsync).
 */
async function drive<T>(what: string | undefined, make: () => Steps<T>): Promise<T> {
  try {
    const steps = make();
    let r = steps.next();
    while (!r.done) {
      let value: unknown;
      try {
        value = await runAsyncOp(r.value);
      } catch (err) {
        r = steps.throw(err);
        continue;
      }
      r = steps.next(value);
    }
    return r.value;
  } catch (err) {
    throw what === undefined ? err : toQuireError(err, what);
  }
}

/** Carries out `steps` on the threadpool (and directory fsyncs by group commit). */
export function runAsync<T>(steps: Steps<T>): Promise<T> {
  return drive(undefined, () => steps);
}

/** runSync for a public call named `what`: whatever it throws comes out a QuireError. */
export function wrapSync<T>(what: string, steps: () => Steps<T>): T {
  try {
    return runSync(steps());
  } catch (err) {
    throw toQuireError(err, what);
  }
}

/** runAsync for a public call named `what`: whatever it rejects with (or `steps` throws) comes out a QuireError. */
export function wrapAsync<T>(what: string, steps: () => Steps<T>): Promise<T> {
  return drive(what, steps);
}
