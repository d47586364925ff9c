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

/** Sweep a bucket's expired windows at most this often per process. */
const SWEEP_EVERY_MS = 60_000;

/** What this process knows of one client's window: the hits it saw taken (by anyone). */
interface Known {
  window: number;
  taken: number;
}

/**
 * Fixed-window rate-limit counters shared through the data directory. A hit takes the first free slot
 * `<window>.<client>.<n>`, n = 1..max, by exclusive creation: a slot taken by any instance fails the others'
 * creation (EEXIST), so all instances together grant at most `max` hits per window; no slot is free past max,
 * and the hit is refused without creating anything. Each process remembers the slots it saw taken, so a hit
 * costs one link(2) (non-durable: a power cut forgets counts, which only forgives a client), a refused hit
 * within a known-full window none, and a process new to a window tries at most max + 1 names once.
 *
 * Overshoot bound: none across instances sharing one clock. Windows are numbered by each host's clock, so a
 * host whose clock is off by s ms counts hits made within s ms of a window's end into the next window: a
 * client may then get up to 2 × max hits in the s ms around a boundary, the same as a single instance's fixed
 * window allows across any boundary. Disk: at most max slots per client and bucket for the current and the
 * previous window; older windows are removed by the next sweep (at most once a minute per bucket and process).
 */
export class SharedLimits {
  private readonly known = new Map<string, Known>();
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
    const who = this.hmacs.hex('ip', `limit\0${bucket}\0${client}`, 24);
    const key = `${bucket}\0${who}`;
    let k = this.known.get(key);
    if (k === undefined || k.window !== window) {
      k = { window, taken: 0 };
      this.known.set(key, k);
    }
    this.sweepLater(bucket, window, nowMs);
    const prefix = path.join(this.dir, bucket, `${window.toString(36)}.${who}.`);
    // Each slot is claimed in this process before the await: concurrent hits of one client then try distinct
    // slots, one link each. Trying from the first free one, all in flight raced for the same slot and every loser
    // went on to the next: about one failed link per hit in flight, 20 per POST at 32 connections.
    for (let n = ++k.taken; n <= max; n = ++k.taken) {
      if (await createMarker(`${prefix}${n}`, { durable: false })) return true;
    }
    k.taken = max;
    return false;
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
