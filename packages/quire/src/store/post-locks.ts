import { createHash } from 'node:crypto';
import path from 'node:path';
import { type Lock, type LockFile, openLockFile } from '@quire/fs';

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
 * A byte of a thread's `.post.lock`, waited for at most `waitMs` (then ERR_LOCK_TIMEOUT). The fcntl runs on
 * @quire/fs's lock thread, never on the event loop: on a network filesystem every lock call is a round trip to
 * the server, which would stall every other request (issue 13).
 */
function lockByte(file: LockFile, offset: number, waitMs: number): Promise<Lock> {
  return file.acquire({ range: { offset, length: 1 }, timeoutMs: waitMs });
}

/**
 * The byte-range locks of posts, in each thread's `.post.lock`: one byte per text hash (identical texts exclude
 * each other, others do not) and one per nonce (a retry and its first attempt). The files of the threads posted
 * to last stay open (least recently used first), each keeping its descriptors (the file is never removed, so
 * they may be kept): at most LOCK_FILES × LOCK_FDS_KEPT idle descriptors.
 */
export class PostLocks {
  private readonly files = new Map<string, LockFile>();

  /** `waitMs`: how long a post waits for one of its locks before it gives up (ERR_LOCK_TIMEOUT). */
  constructor(private readonly waitMs: number) {}

  /** The lock of a text hash in the thread directory `dir`. */
  text(dir: string, textHash: string): Promise<Lock> {
    return lockByte(this.file(dir), lockHash(textHash), this.waitMs);
  }

  /** The lock of a nonce in the thread directory `dir`, above every text lock's byte. */
  nonce(dir: string, nonce: string): Promise<Lock> {
    return lockByte(this.file(dir), NONCE_LOCKS + lockHash(nonce), this.waitMs);
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
