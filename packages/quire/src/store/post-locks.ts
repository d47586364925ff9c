import { createHash } from 'node:crypto';
import path from 'node:path';
import { isQuireError, type Lock, type LockFile, openLockFile } from '@quire/fs';

const POST_LOCK = '.post.lock';
/** Nonce locks live in the upper half of `.post.lock`'s 32-bit offsets, text locks in the lower half. */
const NONCE_LOCKS = 2 ** 31;
/**
 * Post lock files kept open, and idle descriptors each keeps. A post holds its lock until its record is
 * durable, so a thread with 32 posts in flight holds 32 locks: keeping fewer descriptors than that opened and
 * closed one per post (4% of the event loop's time at 2800 POSTs/s, measured).
 */
const LOCK_FILES = 8;
const LOCK_FDS_KEPT = 32;

const HEX_PREFIX = /^[0-9a-f]{8}/;

/**
 * A 31-bit offset for `s`. The nonces and text hashes locked on are hex digests (HMAC, SHA-256), already spread
 * evenly, so their first 8 digits serve; anything else is hashed.
 */
function lockHash(s: string): number {
  const hex = HEX_PREFIX.test(s) ? s : createHash('sha256').update(s).digest('hex');
  return Number.parseInt(hex.slice(0, 8), 16) >>> 1;
}

/**
 * A byte of a thread's `.post.lock`. Uncontended (nearly always: only the same nonce or text contends), one try
 * on the spot: an fcntl on a descriptor kept open from an earlier post (openLockFile), a microsecond, where the
 * threadpool would queue it behind the fsyncs of other posts, and where opening the file anew would contend on
 * the thread directory's inode lock with the posts creating files there (measured on ext4 with a journal: 15% of
 * POSTs per second). Contended, the usual wait, which blocks nothing.
 */
async function lockByte(file: LockFile, offset: number): Promise<Lock> {
  const range = { offset, length: 1 };
  try {
    return file.acquireSync({ range, timeoutMs: 0 });
  } catch (err) {
    if (!isQuireError(err, 'ERR_LOCK_TIMEOUT')) throw err;
  }
  return file.acquire({ range });
}

/**
 * The byte-range locks of posts, in each thread's `.post.lock`: one byte per text hash (identical texts exclude
 * each other, others do not) and one per nonce (a retry and its first attempt). The files of the threads posted
 * to last stay open (least recently used first), each keeping its descriptors (the file is never removed, so
 * they may be kept): at most LOCK_FILES × LOCK_FDS_KEPT idle descriptors.
 */
export class PostLocks {
  private readonly files = new Map<string, LockFile>();

  /** The lock of a text hash in the thread directory `dir`. */
  text(dir: string, textHash: string): Promise<Lock> {
    return lockByte(this.file(dir), lockHash(textHash));
  }

  /** The lock of a nonce in the thread directory `dir`, above every text lock's byte. */
  nonce(dir: string, nonce: string): Promise<Lock> {
    return lockByte(this.file(dir), NONCE_LOCKS + lockHash(nonce));
  }

  private file(dir: string): LockFile {
    let file = this.files.get(dir);
    if (file === undefined) {
      file = openLockFile(path.join(dir, POST_LOCK), { keep: LOCK_FDS_KEPT });
      for (const [old, f] of this.files) {
        if (this.files.size < LOCK_FILES) break;
        // Its held locks stay held; their descriptors are closed on release.
        f.close();
        this.files.delete(old);
      }
    } else {
      this.files.delete(dir);
    }
    this.files.set(dir, file);
    return file;
  }
}
