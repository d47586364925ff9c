import path from 'node:path';
import { validatePath } from './args.js';
import { errnoCode } from './errors.js';
import { call, type Steps, wrapAsync, wrapSync } from './steps.js';

// Network filesystems (NFS, GlusterFS) answer ESTALE when a name was replaced between lookup and open; the new
// file is there, so look it up again (docs/limits.md, "Many hosts on one directory":
// 0.1-1 % of opens failed this way on GlusterFS).
const STALE_RETRIES = 5;

function* readSteps(what: string, fileArg: unknown): Steps<Buffer | null> {
  const file = path.resolve(validatePath(fileArg, 'path', what));
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = yield* call({ op: 'open', path: file, flags: 'r' });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null;
      if (errnoCode(err) === 'ESTALE' && attempt < STALE_RETRIES) continue;
      throw err;
    }
    try {
      // The reader contract of the blog post quire started from: a file some writer holds a lock on is "not there
      // yet". The shared lock is held on the same fd we read through, so a lock-honouring writer cannot start
      // between check and read.
      if (!(yield* call({ op: 'tryLock', fd, offset: 0, length: 0, shared: true }))) return null;
      return yield* call({ op: 'readAll', fd });
    } catch (err) {
      if (errnoCode(err) === 'ESTALE' && attempt < STALE_RETRIES) continue;
      throw err;
    } finally {
      // Closing the only fd of the description drops its OFD lock too.
      yield* call({ op: 'close', fd });
    }
  }
}

/**
 * The whole content of `file`, or null when it does not exist or when a writer holds an advisory lock on it
 * (OFD or POSIX fcntl locks; flock(2) locks are not seen on Linux). Files published by this library are complete
 * whenever they are visible, so a reader never sees a part of one.
 */
export function readComplete(file: string): Promise<Buffer | null> {
  return wrapAsync('readComplete', () => readSteps('readComplete', file));
}

/** readComplete, blocking. */
export function readCompleteSync(file: string): Buffer | null {
  return wrapSync('readCompleteSync', () => readSteps('readCompleteSync', file));
}
