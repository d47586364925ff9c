import path from 'node:path';
import { optionFields, validatePath } from './args.js';
import { errnoCode, invalidArg, QuireError } from './errors.js';
import { hasNative } from './native-publish.js';
import { call, type Steps, wrapAsync, wrapSync } from './steps.js';
import { closeReadOnly, isTransientError, retryRead } from './transient.js';

/** Options of readComplete and readCompleteSync. */
export interface ReadOptions {
  /**
   * What a complete read of this file looks like, for files whose protocol can tell (a record never published
   * empty, a record that ends with a checksum). A read it refuses is taken for a stale view of another host's
   * publish and made again (the file opened afresh), within the bound of network-filesystem retries; if every
   * read is refused, the call fails with ERR_INCOMPLETE_READ. On a network filesystem a host may see a name
   * another host just linked while its cached attributes still give the size the temp had when it was created,
   * 0, and the kernel then reads 0 bytes (docs/durability.md, "Network filesystems"). Typical:
   * `{ accept: (b) => b.length > 0 }`.
   */
  accept?: (data: Buffer) => boolean;
}

function checkReadOptions(what: string, opts: unknown): ((data: Buffer) => boolean) | undefined {
  const { accept } = optionFields(what, opts);
  if (accept !== undefined && typeof accept !== 'function')
    throw invalidArg(`${what}: accept must be a function`);
  return accept as ((data: Buffer) => boolean) | undefined;
}

/** `data`, unless `accept` refuses it. */
function accepted(file: string, data: Buffer, accept: ((data: Buffer) => boolean) | undefined): Buffer {
  if (accept && !accept(data)) {
    throw new QuireError('ERR_INCOMPLETE_READ', `${file}: ${data.length} bytes read, refused by accept`, {
      path: file,
    });
  }
  return data;
}

function* readOnce(file: string, accept: ((data: Buffer) => boolean) | undefined): Steps<Buffer | null> {
  if (hasNative()) {
    // The same steps as below, in one call of the addon (native-read.ts): one trip to the pool, not four or five.
    const data = yield* call({ op: 'nativeRead', path: file });
    return data === null ? null : accepted(file, data, accept);
  }
  let fd: number;
  try {
    fd = yield* call({ op: 'open', path: file, flags: 'r' });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
  let data: Buffer;
  try {
    // The reader contract of the blog post quire started from: a file some writer holds a lock on is "not there
    // yet". The shared lock is held on the same fd we read through, so a lock-honouring writer cannot start
    // between check and read.
    if (!(yield* call({ op: 'tryLock', fd, path: file, offset: 0, length: 0, shared: true }))) return null;
    data = yield* call({ op: 'readAll', fd });
  } finally {
    // Closing the only fd of the description drops its OFD lock too.
    yield* closeReadOnly(fd);
  }
  return accepted(file, data, accept);
}

function* readSteps(what: string, fileArg: unknown, opts: unknown): Steps<Buffer | null> {
  const file = path.resolve(validatePath(fileArg, 'path', what));
  const accept = checkReadOptions(what, opts);
  // Network filesystems (NFS, GlusterFS) answer ESTALE when a name was replaced between lookup and open, lock or
  // read; the new file is there, so the whole read starts again with a fresh lookup (transient.ts). readOnce
  // answers a missing file itself, so an ENOENT it lets out came after the open: GlusterFS's answer when the
  // inode behind the open descriptor was removed meanwhile (replaced by another host), a stale handle too.
  return yield* retryRead(
    () => readOnce(file, accept),
    (err) => isTransientError(err) || errnoCode(err) === 'ENOENT',
  );
}

/**
 * The whole content of `file`, or null when it does not exist or when a writer holds an advisory lock on it
 * (OFD or POSIX fcntl locks; flock(2) locks are not seen on Linux). Files published by this library are complete
 * whenever they are visible, so a reader never sees a part of one. On a network filesystem ESTALE and ENOTCONN
 * are retried with backoff for a bounded time, then reported (with `attempts`); an error closing the read-only
 * descriptor is ignored, as it cannot affect what was read.
 */
export function readComplete(file: string, opts?: ReadOptions): Promise<Buffer | null> {
  return wrapAsync('readComplete', () => readSteps('readComplete', file, opts));
}

/** readComplete, blocking. */
export function readCompleteSync(file: string, opts?: ReadOptions): Buffer | null {
  return wrapSync('readCompleteSync', () => readSteps('readCompleteSync', file, opts));
}
