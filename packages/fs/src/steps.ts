/**
 * Each protocol (publish, replace, read, sweep) is written once, as a generator that yields the syscalls it
 * needs; a sync driver and an async driver carry them out. So the sync and async APIs cannot drift apart, and the
 * order of syscalls that the tests check with strace is the order written here.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import { type Content, toBytes } from './data.js';
import { invalidArg, QuireError } from './errors.js';

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
  | { op: 'stat'; path: string }
  | { op: 'lstat'; path: string }
  | { op: 'readdir'; path: string }
  | { op: 'readAll'; fd: number }
  | { op: 'syncDir'; dir: string }
  | { op: 'hook'; fn: () => unknown };

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
  stat: fs.Stats;
  lstat: fs.Stats;
  readdir: string[];
  readAll: Buffer;
  syncDir: undefined;
  hook: undefined;
}

export type Steps<T> = Generator<Op, T, unknown>;

/** Yields one syscall and returns its result, typed. */
export function* call<O extends Op>(op: O): Generator<Op, Results[O['op']], unknown> {
  return (yield op) as Results[O['op']];
}

const DIR_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_DIRECTORY ?? 0);

function writeAllSync(fd: number, buf: Buffer): void {
  // write(2) may write less than asked (signals, quotas); loop until every byte is in.
  for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off, buf.length - off);
}

/** An error thrown by the caller's beforePublish hook, told apart from the filesystem's. */
function hookError(err: unknown): QuireError {
  return new QuireError('ERR_BEFORE_PUBLISH', 'the beforePublish hook threw', { cause: err });
}

function runHookSync(fn: () => unknown): undefined {
  let r: unknown;
  try {
    r = fn();
  } catch (err) {
    throw hookError(err);
  }
  if (typeof (r as { then?: unknown } | null)?.then === 'function') {
    throw invalidArg(
      'beforePublish returned a promise, which the sync API cannot wait for; use the async one',
    );
  }
  return undefined;
}

async function runHookAsync(fn: () => unknown): Promise<undefined> {
  try {
    await fn();
  } catch (err) {
    throw hookError(err);
  }
  return undefined;
}

function runSyncOp(op: Op): unknown {
  switch (op.op) {
    case 'open':
      return fs.openSync(op.path, op.flags, op.mode);
    case 'write': {
      const c = op.content;
      if (c.kind === 'bytes') return writeAllSync(op.fd, c.bytes);
      if (c.kind === 'async')
        throw new QuireError('ERR_INVALID_ARG', 'an async iterable needs the async API');
      for (const chunk of drawing(c.chunks)) writeAllSync(op.fd, toBytes(chunk));
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
    case 'syncDir': {
      const fd = fs.openSync(op.dir, DIR_FLAGS);
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      return;
    }
  }
}

const p = {
  open: promisify(fs.open),
  fsync: promisify(fs.fsync),
  fchmod: promisify(fs.fchmod),
  fchown: promisify(fs.fchown),
  close: promisify(fs.close),
  fstat: promisify(fs.fstat),
};

function writeSome(fd: number, buf: Buffer, off: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

async function writeAll(fd: number, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) off += await writeSome(fd, buf, off);
}

function readSome(fd: number, buf: Buffer, off: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

/**
 * Reads `fd` to its end. Not fs.readFile(fd): given an fd, it reports a failed read(2) as end of file, and an EIO
 * became an empty record (nodejs/node#64367; found by the power-cut campaign on xfs).
 */
async function readAll(fd: number): Promise<Buffer> {
  const size = (await p.fstat(fd)).size;
  let buf = Buffer.allocUnsafe(size > 0 ? size + 1 : 8192);
  let len = 0;
  for (;;) {
    if (len === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)], buf.length * 2);
    const n = await readSome(fd, buf, len);
    if (n === 0) return buf.subarray(0, len);
    len += n;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fd = await p.open(dir, DIR_FLAGS);
  try {
    await p.fsync(fd);
  } finally {
    await p.close(fd);
  }
}

/**
 * Group commit: concurrent async calls that need the same directory fsynced share one fsync, as long as that
 * fsync began after the caller's own link or rename (an fsync already running may have started before it, so a
 * caller arriving then waits for the next one, which everyone arriving meanwhile shares). With N calls in flight
 * a directory sees about two fsyncs per round instead of N.
 */
class DirCommit {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly groups: Map<string, DirCommit>,
  ) {}

  request(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    this.queued = this.running
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    return this.queued;
  }

  private start(): Promise<void> {
    const run: Promise<void> = fsyncDir(this.dir).finally(() => {
      if (this.running !== run) return;
      this.running = undefined;
      if (!this.queued) this.groups.delete(this.dir);
    });
    this.running = run;
    return run;
  }
}

const dirCommits = new Map<string, DirCommit>();

function syncDirShared(dir: string): Promise<void> {
  let g = dirCommits.get(dir);
  if (!g) {
    g = new DirCommit(dir, dirCommits);
    dirCommits.set(dir, g);
  }
  return g.request();
}

async function runAsyncOp(op: Op): Promise<unknown> {
  switch (op.op) {
    case 'open':
      return p.open(op.path, op.flags, op.mode);
    case 'write': {
      const c = op.content;
      if (c.kind === 'bytes') return writeAll(op.fd, c.bytes);
      for await (const chunk of c.kind === 'async' ? drawingAsync(c.chunks) : drawing(c.chunks)) {
        await writeAll(op.fd, toBytes(chunk));
      }
      return;
    }
    case 'fsync':
      return p.fsync(op.fd);
    case 'fchmod':
      return p.fchmod(op.fd, op.mode);
    case 'fchown':
      return p.fchown(op.fd, op.uid, op.gid);
    case 'close':
      return p.close(op.fd);
    case 'link':
      return fs.promises.link(op.from, op.to);
    case 'rename':
      return fs.promises.rename(op.from, op.to);
    case 'unlink':
      return fs.promises.unlink(op.path);
    case 'stat':
      return fs.promises.stat(op.path);
    case 'lstat':
      return fs.promises.lstat(op.path);
    case 'readdir':
      return fs.promises.readdir(op.path);
    case 'readAll':
      return readAll(op.fd);
    case 'syncDir':
      return syncDirShared(op.dir);
    case 'hook':
      return runHookAsync(op.fn);
  }
}

/** An error thrown by the caller's own chunk iterator, told apart from the filesystem's. */
function sourceError(err: unknown): QuireError {
  return err instanceof QuireError
    ? err
    : new QuireError('ERR_DATA_SOURCE', 'the data iterator threw', { cause: err });
}

function* drawing(chunks: Iterable<unknown>): Generator<unknown> {
  const it = chunks[Symbol.iterator]();
  for (;;) {
    let r: IteratorResult<unknown>;
    try {
      r = it.next();
    } catch (err) {
      throw sourceError(err);
    }
    if (r.done) return;
    yield r.value;
  }
}

async function* drawingAsync(chunks: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  const it = chunks[Symbol.asyncIterator]();
  for (;;) {
    let r: IteratorResult<unknown>;
    try {
      r = await it.next();
    } catch (err) {
      throw sourceError(err);
    }
    if (r.done) return;
    yield r.value;
  }
}

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

export async function runAsync<T>(steps: Steps<T>): Promise<T> {
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
}
