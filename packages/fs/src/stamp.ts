import fs from 'node:fs';
import { validatePath } from './args.js';

/**
 * What a cached thing was read from: the stat(2) of a file or directory, taken *before* reading it. A cache
 * entry stays valid while every stamp it was read under is unchanged and the entry is settled (below).
 *
 * A stamp is device, inode, size, mtime and ctime in nanoseconds. A directory's mtime and ctime change whenever
 * an entry in it is created, linked, renamed or removed, which is how this library writes every file (link(2),
 * rename(2): no file is modified in place). replaceFile gives the file a new
 * inode and a new ctime, and changes its directory's stamps too.
 */
export interface Stamp {
  readonly path: string;
  /** undefined: the path did not exist (exact: creating it makes a stat). null: stat failed otherwise. */
  readonly st: fs.BigIntStats | undefined | null;
  /** The later of mtime and ctime (ns since the epoch); 0 for a missing path. */
  readonly newestNs: bigint;
}

function statOf(file: string): fs.BigIntStats | undefined | null {
  try {
    return fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return null;
  }
}

/** stat(2), synchronously: a couple of microseconds for an inode in the cache, cheaper than a threadpool trip. */
export function stampOf(file: string): Stamp {
  return stampFrom(validatePath(file, 'file', 'stampOf'), statOf(file));
}

function stampFrom(file: string, st: fs.BigIntStats | undefined | null): Stamp {
  if (st === undefined || st === null) return { path: file, st, newestNs: 0n };
  // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
  return { path: file, st, newestNs: st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs };
}

/** True while `s` still describes its path. A failed stat never validates anything. */
export function unchanged(s: Stamp): boolean {
  return s.st !== null && sameStat(s.st, statOf(s.path));
}

/**
 * Whether two stamps of the same path, taken at different times, describe the same version of it (neither
 * failed): a read made under the later one sees what a read under the earlier one saw, if that one was settled.
 */
export function sameStamp(a: Stamp, b: Stamp): boolean {
  return a.path === b.path && a.st !== null && sameStat(a.st, b.st);
}

/** Whether a stamp's stat `a` (not failed) and a new one `b` describe the same version of the path. */
function sameStat(a: fs.BigIntStats | undefined, b: fs.BigIntStats | undefined | null): boolean {
  if (a === undefined || b === undefined || b === null) return a === b;
  return (
    a.ctimeNs === b.ctimeNs &&
    a.mtimeNs === b.mtimeNs &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.dev === b.dev
  );
}

/**
 * The racy-timestamp rule (git's "racily clean" entries). Filesystem timestamps are coarse: on Linux a change
 * is stamped with the clock as of the last tick (1-10 ms; kernels from 6.13 stamp finely only once someone has
 * looked), some filesystems keep whole seconds (ext4 with 128-byte inodes) or two (FAT). So a change made just
 * after a cache entry was read may carry the very stamp the entry was read under, and would go unnoticed. It
 * cannot when the stamp was already older than the filesystem's granularity when the read began: every later
 * change is stamped at least `started - granularity`, so strictly newer. A stamp with sub-millisecond digits
 * comes from a clock that ticks at least every 10 ms; a whole-millisecond one may come from a filesystem that
 * keeps seconds. An entry read under a younger stamp is still served to the request that read it, but the next
 * request reads again.
 */
export function settled(stamps: readonly Stamp[], startedMs: number): boolean {
  for (const s of stamps) {
    if (s.st === null) return false;
    if (s.st === undefined) continue;
    const marginMs = s.newestNs % 1_000_000n === 0n ? SETTLE_COARSE_MS : SETTLE_MS;
    if (s.newestNs >= BigInt(startedMs - marginMs) * 1_000_000n) return false;
  }
  return true;
}

/** How old a stamp with sub-millisecond digits must be, when a read begins, to count as settled. */
export const SETTLE_MS = 100;
/** The same for a whole-millisecond stamp, which may come from a filesystem that keeps (two) seconds. */
export const SETTLE_COARSE_MS = 2_100;

/**
 * statOf on the threadpool. By fs.stat's callback, not fs.promises.stat: a missing path is a common answer here
 * (a marker not made, a file not yet written), and fs.promises gives each failure a stack trace with its async
 * frames, which cost more of the event loop than the stat (measured: 4-5 % of a POST's main-thread CPU).
 */
function statOfAsync(file: string): Promise<fs.BigIntStats | undefined | null> {
  return new Promise((resolve) => {
    fs.stat(file, { bigint: true }, (err, st) => {
      if (err === null) resolve(st);
      else resolve(err.code === 'ENOENT' ? undefined : null);
    });
  });
}

/**
 * stampOf on the threadpool: for callers on an event loop that a slow filesystem (a network one, where a stat
 * may be a round trip to the server; a local disk, for an inode not in the cache) must not stall.
 */
export async function stampAsync(file: string): Promise<Stamp> {
  validatePath(file, 'file', 'stampAsync');
  return stampFrom(file, await statOfAsync(file));
}

/** unchanged on the threadpool (as stampAsync). */
export async function unchangedAsync(s: Stamp): Promise<boolean> {
  return s.st !== null && sameStat(s.st, await statOfAsync(s.path));
}
