import path from 'node:path';
import { createMarker, listNames, pathExists, removeFile } from '@quire/fs';
import type { Hmacs } from './secret.js';

/**
 * State that changes how a request is answered, kept in the data directory so that every instance on it
 * (other processes, other hosts) sees one picture (issue 13). Layout:
 *
 *   DATA/limits/<bucket>/<window>.<client>.<n>   the n-th hit of a client in a rate-limit window (SharedLimits)
 *   DATA/sessions/ended/<expiry>.<token>          an admin session ended by logging out (EndedSessions)
 *
 * `<client>` and `<token>` are HMACs (DATA/secret), never an address or a token; `<window>` and `<expiry>` are
 * base 36. Every entry is a marker of @quire/fs (a hard link to an empty anchor: no inode, no data), made
 * exclusively, so two instances can never both make one.
 */

/** Client names (HMACs) kept; all forgotten when full. */
const NAMES_KEPT = 10_000;

/** Sweep a bucket's expired windows at most this often per process. */
const SWEEP_EVERY_MS = 60_000;

/** What this process knows of one client's window. */
interface Known {
  window: number;
  /** Blocks seen taken, by anyone: the next block to try is taken + 1. */
  taken: number;
  /** Hits this process may still grant from the blocks it made. */
  left: number;
  /** The claim of a block under way: concurrent hits wait for it instead of each claiming one. */
  claiming: Promise<void> | undefined;
}

/**
 * Hits per block: limits of up to BLOCKS hits are counted one by one, larger ones in max / BLOCKS blocks, so a hit
 * costs at most 1/BLOCKS of max link(2)s: the default 600 requests a minute cost a link every 9 requests.
 */
const BLOCKS = 64;

/** Hits in each block of a limit of `max`; the last block holds the remainder. */
export function blockSize(max: number): number {
  return Math.max(1, Math.floor(max / BLOCKS));
}

/**
 * Fixed-window rate-limit counters shared through the data directory. A window's `max` hits are cut into blocks
 * of blockSize(max) (one hit each up to 64), and a process grants hits from blocks it took: a block is the
 * marker `<window>.<client>.<n>`, taken by exclusive creation, so a block taken by any instance fails the
 * others' creation (EEXIST), and all instances together grant at most `max` hits per window; past the last
 * block the hit is refused without creating anything. Each process remembers the blocks it saw taken, so a
 * block costs one link(2) (non-durable: a power cut forgets counts, which only forgives a client), a refused hit
 * within a known-full window none, and a process new to a window tries each block name at most once.
 *
 * Bounds. Overshoot: none across instances sharing one clock. Windows are numbered by each host's clock, so a
 * host whose clock is off by s ms counts hits made within s ms of a window's end into the next window: a client
 * may then get up to 2 × max hits in the s ms around a boundary, the same as a single instance's fixed window
 * allows across any boundary. Undershoot: a block's hits not yet granted by the instance holding it are lost to
 * the others, so a client whose requests are spread over N instances may be refused after max - (N - 1) ×
 * (blockSize - 1) hits: limits of 64 or less are exact, larger ones lose at most 1/64 of max per other instance.
 * Instances on one directory must share their limits (the blocks' sizes follow from max). Disk: at most 64
 * markers per client and bucket for the current and the previous window; older windows are removed by the next
 * sweep (at most once a minute per bucket and process).
 */
export class SharedLimits {
  private readonly known = new Map<string, Known>();
  private readonly names = new Map<string, string>();
  private readonly lastSweep = new Map<string, number>();
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly hmacs: Hmacs,
  ) {
    this.dir = path.join(dataDir, 'limits');
  }

  /** Counts one hit of `client` in `bucket`; whether it is within `max` per `windowMs` (window of `nowMs`). */
  async hit(bucket: string, client: string, max: number, windowMs: number, nowMs: number): Promise<boolean> {
    const window = Math.floor(nowMs / windowMs);
    const who = this.nameOf(bucket, client);
    const key = `${bucket}\0${who}`;
    let k = this.known.get(key);
    if (k === undefined || k.window !== window) {
      k = { window, taken: 0, left: 0, claiming: undefined };
      this.known.set(key, k);
    }
    this.sweepLater(bucket, window, nowMs);
    const size = blockSize(max);
    const blocks = Math.ceil(max / size);
    const prefix = path.join(this.dir, bucket, `${window.toString(36)}.${who}.`);
    for (;;) {
      if (k.left > 0) {
        k.left--;
        return true;
      }
      if (k.claiming === undefined) {
        if (k.taken >= blocks) return false;
        const known = k;
        known.claiming = claimBlock(known, prefix, blocks, (n) =>
          Math.min(size, max - (n - 1) * size),
        ).finally(() => {
          known.claiming = undefined;
        });
      }
      await k.claiming;
    }
  }

  /** The client's name in `bucket`'s markers: an HMAC, kept for the clients seen lately (one per request). */
  private nameOf(bucket: string, client: string): string {
    const key = `${bucket}\0${client}`;
    let name = this.names.get(key);
    if (name === undefined) {
      if (this.names.size >= NAMES_KEPT) this.names.clear();
      name = this.hmacs.hex('ip', `limit\0${key}`, 24);
      this.names.set(key, name);
    }
    return name;
  }

  /** Starts a sweep of `bucket`'s windows before the previous one, unless one ran lately; never awaited. */
  private sweepLater(bucket: string, window: number, nowMs: number): void {
    if (nowMs - (this.lastSweep.get(bucket) ?? Number.NEGATIVE_INFINITY) < SWEEP_EVERY_MS) return;
    this.lastSweep.set(bucket, nowMs);
    for (const [key, k] of this.known) if (k.window < window - 1) this.known.delete(key);
    const dir = path.join(this.dir, bucket);
    sweep(dir, (name) => {
      const w = Number.parseInt(name.slice(0, name.indexOf('.')), 36);
      return Number.isSafeInteger(w) && w < window - 1;
    }).catch(() => {
      // A failed sweep leaves files for the next one; counting does not depend on it.
    });
  }
}

/**
 * Takes the first block after those `k` saw taken whose marker this process makes, adding its hits to `k.left`;
 * stops past the last block. One claim at a time per client and window (SharedLimits.hit): blocks are not taken
 * ahead of need, where their hits would be lost to other instances.
 */
async function claimBlock(k: Known, prefix: string, blocks: number, hitsOf: (n: number) => number) {
  for (let n = ++k.taken; n <= blocks; n = ++k.taken) {
    let made: boolean;
    try {
      made = await createMarker(`${prefix}${n}`, { durable: false });
    } catch (err) {
      // Not known to be taken: the next hit tries it again.
      k.taken = n - 1;
      throw err;
    }
    if (made) {
      k.left += hitsOf(n);
      return;
    }
  }
  k.taken = blocks;
}

/** Removes the names of `dir` that `expired` says are, anchors aside. */
async function sweep(dir: string, expired: (name: string) => boolean): Promise<void> {
  const names = await listNames(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith('.') && expired(name)) await removeFile(path.join(dir, name), { durable: false });
  }
}

/**
 * Admin sessions ended by logging out, for every instance. A session token carries its expiry, so its marker's
 * name does too: a check is one stat of a name known in advance; the marker is made durable (a logout must
 * survive a power cut), and removed by a sweep once the token has expired anyway (one file per logout, kept at
 * most adminSessionSeconds).
 */
export class EndedSessions {
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly hmacs: Hmacs,
  ) {
    this.dir = path.join(dataDir, 'sessions', 'ended');
  }

  private file(token: string, expiresMs: number): string {
    return path.join(this.dir, `${expiresMs.toString(36)}.${this.hmacs.hex('admin', `ended\0${token}`)}`);
  }

  /** Whether the session `token` (expiring at `expiresMs`) was ended, by any instance. */
  isEnded(token: string, expiresMs: number): Promise<boolean> {
    return pathExists(this.file(token, expiresMs));
  }

  /** Ends the session `token` for every instance; sweeps the markers of expired sessions. */
  async end(token: string, expiresMs: number, nowMs: number): Promise<void> {
    await createMarker(this.file(token, expiresMs), { durable: true });
    await sweep(this.dir, (name) => {
      const exp = Number.parseInt(name.slice(0, name.indexOf('.')), 36);
      return Number.isSafeInteger(exp) && exp < nowMs;
    });
  }
}
