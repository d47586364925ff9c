import path from 'node:path';
import { validatePath } from './args.js';
import { errnoCode, invalidArg } from './errors.js';
import { call, type Steps, wrapAsync, wrapSync } from './steps.js';
import { isProcessAlive, parseTempName, thisHost } from './temp.js';

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

function* sweepSteps(what: string, dirArg: unknown, opts: SweepOptions | undefined): Steps<SweptTemp[]> {
  const dir = path.resolve(validatePath(dirArg, 'dir', what));
  const olderThanMs = opts?.olderThanMs ?? 3_600_000;
  if (typeof olderThanMs !== 'number' || !(olderThanMs >= 0))
    throw invalidArg('olderThanMs must be a number >= 0');
  const now = opts?.now ?? Date.now();
  const swept: SweptTemp[] = [];
  for (const name of yield* call({ op: 'readdir', path: dir })) {
    const temp = parseTempName(name);
    if (!temp) continue;
    const file = path.join(dir, name);
    let reason: SweptTemp['reason'] | undefined;
    if (temp.host === thisHost()) {
      // Never a live writer's temp, however old: a large write may take its time. A recycled pid keeps a dead
      // writer's temp until that process is gone too, which costs space, never data.
      if (temp.pid !== process.pid && !isProcessAlive(temp.pid)) reason = 'writer-dead';
    } else {
      try {
        const st = yield* call({ op: 'lstat', path: file });
        if (now - st.mtimeMs > olderThanMs) reason = 'too-old';
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw err;
      }
    }
    if (!reason) continue;
    try {
      yield* call({ op: 'unlink', path: file });
      swept.push({ name, path: file, reason });
    } catch (err) {
      // Another sweeper, or the writer finishing, got there first.
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  return swept;
}

/**
 * Removes temps left behind by writers that died mid-publish: those of this host whose writer process is gone,
 * and those of other hosts older than `olderThanMs`. Never a live writer's temp on this host. Returns what it removed.
 */
export function sweepTemps(dir: string, opts?: SweepOptions): Promise<SweptTemp[]> {
  return wrapAsync('sweepTemps', () => sweepSteps('sweepTemps', dir, opts));
}

/** sweepTemps, blocking. */
export function sweepTempsSync(dir: string, opts?: SweepOptions): SweptTemp[] {
  return wrapSync('sweepTempsSync', () => sweepSteps('sweepTempsSync', dir, opts));
}
