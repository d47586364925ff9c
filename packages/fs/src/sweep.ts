import path from 'node:path';
import { validatePath } from './args.js';
import { errnoCode, invalidArg } from './errors.js';
import { call, type Steps, wrapAsync, wrapSync } from './steps.js';
import { hostId, isProcessAlive, parseTempName, type TempName } from './temp.js';
import { retrying } from './transient.js';

/**
 * How old a temp of another host must be before it counts as a dead writer's: an hour by default. A writer on
 * another host cannot be asked whether it lives, and a temp's mtime is its last write, so this must exceed the
 * longest pause within one publish (writing, fsync, the beforePublish hook), which is seconds; an hour leaves
 * room for slow disks and clocks that disagree by minutes.
 */
export const FOREIGN_TEMP_MS = 3_600_000;

/** Options of sweepTemps and sweepTempsSync. */
export interface SweepOptions {
  /**
   * A temp written on another host (its writer cannot be asked whether it is alive) is removed once its last
   * write is older than this. Default one hour. Temps of this host are judged by their writer's pid alone.
   */
  olderThanMs?: number;
  /** The time to judge ages against; default now. */
  now?: number;
}

/** A temp that sweepTemps removed, and why. */
export interface SweptTemp {
  name: string;
  path: string;
  reason: 'writer-dead' | 'too-old';
}

/** How the sweep rule judges one temp. */
export interface TempVerdict {
  temp: TempName;
  /** Whether sweepTemps removes it. */
  dead: boolean;
  /** `mine`: written by a process of this host (same host id), judged by its pid; else by `ageMs`. */
  mine: boolean;
  ageMs?: number;
}

/**
 * The sweep rule, for the temp `name` in `dir`: one of this host's (same host id) is dead when its writer's pid
 * is; any other (another host id, or a name of an earlier version, which carries a host name that two hosts may
 * share) when its last write is older than `olderThanMs`. null for a name this library does not make, or a temp
 * gone meanwhile.
 */
export function* judgeTemp(
  dir: string,
  name: string,
  now: number,
  olderThanMs: number,
): Steps<TempVerdict | null> {
  const temp = parseTempName(name);
  if (!temp) return null;
  if (temp.hostId === hostId()) {
    // Never a live writer's temp, however old: a large write may take its time. A recycled pid keeps a dead
    // writer's temp until that process is gone too, which costs space, never data.
    return { temp, mine: true, dead: temp.pid !== process.pid && !isProcessAlive(temp.pid) };
  }
  try {
    const ageMs = now - (yield* retrying({ op: 'lstat', path: path.join(dir, name) })).mtimeMs;
    return { temp, mine: false, dead: ageMs > olderThanMs, ageMs };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}

function* sweepSteps(what: string, dirArg: unknown, opts: SweepOptions | undefined): Steps<SweptTemp[]> {
  const dir = path.resolve(validatePath(dirArg, 'dir', what));
  const olderThanMs = opts?.olderThanMs ?? FOREIGN_TEMP_MS;
  if (typeof olderThanMs !== 'number' || !(olderThanMs >= 0))
    throw invalidArg('olderThanMs must be a number >= 0');
  const now = opts?.now ?? Date.now();
  const swept: SweptTemp[] = [];
  for (const name of yield* retrying({ op: 'readdir', path: dir })) {
    const verdict = yield* judgeTemp(dir, name, now, olderThanMs);
    if (!verdict?.dead) continue;
    const file = path.join(dir, name);
    try {
      yield* call({ op: 'unlink', path: file });
      swept.push({ name, path: file, reason: verdict.mine ? 'writer-dead' : 'too-old' });
    } catch (err) {
      // Another sweeper, or the writer finishing, got there first.
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  return swept;
}

/**
 * Removes temps left behind by writers that died mid-publish: those of this host (same host id: one boot, one pid
 * namespace) whose writer process is gone, and any other older than `olderThanMs` (default an hour), including
 * temps named by earlier versions. Never a live writer's temp on this host. Returns what it removed.
 */
export function sweepTemps(dir: string, opts?: SweepOptions): Promise<SweptTemp[]> {
  return wrapAsync('sweepTemps', () => sweepSteps('sweepTemps', dir, opts));
}

/** sweepTemps, blocking. */
export function sweepTempsSync(dir: string, opts?: SweepOptions): SweptTemp[] {
  return wrapSync('sweepTempsSync', () => sweepSteps('sweepTempsSync', dir, opts));
}
