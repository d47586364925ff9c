/**
 * The locks of a batch's keys (spool-keys.ts): the same byte ranges of the same lock files that SpoolContext.lock
 * takes for one key, so they exclude single appends and other batches in any process; but one open file
 * description per lock file for all of the batch's keys in it. OFD locks of one description never conflict with
 * each other, and all of them go when it is closed: N keys of one spool cost one open, N fcntl calls (on the lock
 * thread, as every async lock, so a network filesystem's round trip never stalls the event loop) and one close,
 * instead of an open, two fcntl calls and a close per key.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { toQuireError } from './errors.js';
import type { SpoolContext } from './spool-context.js';
import { call, runAsync } from './steps.js';

const open = promisify(fs.open);
const close = promisify(fs.close);
const FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;
const MAX_DELAY_MS = 25;

/** One key to lock: its spool and its hash (the name of its intent). */
export interface KeyToLock {
  spool: SpoolContext;
  h: string;
}

/** A batch's held key locks; release() closes their descriptors, which lets every one of them go. */
export class BatchLocks {
  private readonly fds = new Map<string, Promise<number>>();

  private fd(file: string): Promise<number> {
    let fd = this.fds.get(file);
    if (fd === undefined) {
      fd = open(file, FLAGS, 0o666);
      this.fds.set(file, fd);
    }
    return fd;
  }

  private async try(k: KeyToLock): Promise<boolean> {
    const { file, offset } = k.spool.keyLockRange(k.h);
    // Where the async API makes its lock calls: on the lock thread, or here on a local filesystem (local-fs.ts).
    const fd = await this.fd(file);
    return runAsync(call({ op: 'tryLock', fd, path: file, offset, length: 1, shared: false }));
  }

  /** Lets every lock go. */
  async release(): Promise<void> {
    const fds = await Promise.allSettled(this.fds.values());
    this.fds.clear();
    await Promise.all(fds.map((f) => (f.status === 'fulfilled' ? close(f.value).catch(() => {}) : null)));
  }

  /**
   * Locks every key of `keys` (sorted): all at once when none is taken (the usual case); else, all let go, one
   * after another in that order, waiting for each (polling, 1 to 25 ms apart), so two batches that share keys
   * wait for each other and never in a circle.
   */
  static async acquire(keys: readonly KeyToLock[]): Promise<BatchLocks> {
    let locks = new BatchLocks();
    try {
      if ((await Promise.all(keys.map((k) => locks.try(k)))).every(Boolean)) return locks;
      await locks.release();
      locks = new BatchLocks();
      for (const k of keys) {
        for (let step = 1; !(await locks.try(k)); step = Math.min(step * 2, MAX_DELAY_MS)) {
          await sleep(step / 2 + (Math.random() * step) / 2);
        }
      }
      return locks;
    } catch (err) {
      await locks.release();
      throw toQuireError(err, 'append');
    }
  }
}
