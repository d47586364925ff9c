import path from 'node:path';
import { validatePath } from './args.js';
import { errnoCode, invalidArg } from './errors.js';
import { call, wrapAsync, wrapSync } from './steps.js';
import { hostId, isProcessAlive, parseTempName } from './temp.js';
import { retrying } from './transient.js';
/**
 * How old a temp of another host must be before it counts as a dead writer's: an hour by default. A writer on
 * another host cannot be asked whether it lives, and a temp's mtime is its last write, so this must exceed the
 * longest pause within one publish (writing, fsync, the beforePublish hook), which is seconds; an hour leaves
 * room for slow disks and clocks that disagree by minutes.
 */
export const FOREIGN_TEMP_MS = 3_600_000;
/**
 * The sweep rule, for the temp `name` in `dir`: one of this host's (same host id) is dead when its writer's pid
 * is; any other (another host id, or a name of an earlier version, which carries a host name that two hosts may
 * share) when its last write is older than `olderThanMs`. null for a name this library does not make, or a temp
 * gone meanwhile.
 */
export function* judgeTemp(dir, name, now, olderThanMs) {
    const temp = parseTempName(name);
    if (!temp)
        return null;
    if (temp.hostId === hostId()) {
        // Never a live writer's temp, however old: a large write may take its time. A recycled pid keeps a dead
        // writer's temp until that process is gone too, which costs space, never data.
        return { temp, mine: true, dead: temp.pid !== process.pid && !isProcessAlive(temp.pid) };
    }
    try {
        const ageMs = now - (yield* retrying({ op: 'lstat', path: path.join(dir, name) })).mtimeMs;
        return { temp, mine: false, dead: ageMs > olderThanMs, ageMs };
    }
    catch (err) {
        if (errnoCode(err) === 'ENOENT')
            return null;
        throw err;
    }
}
function* sweepSteps(what, dirArg, opts) {
    const dir = path.resolve(validatePath(dirArg, 'dir', what));
    const olderThanMs = opts?.olderThanMs ?? FOREIGN_TEMP_MS;
    if (typeof olderThanMs !== 'number' || !(olderThanMs >= 0))
        throw invalidArg('olderThanMs must be a number >= 0');
    const now = opts?.now ?? Date.now();
    const swept = [];
    for (const name of yield* retrying({ op: 'readdir', path: dir })) {
        const verdict = yield* judgeTemp(dir, name, now, olderThanMs);
        if (!verdict?.dead)
            continue;
        const file = path.join(dir, name);
        try {
            yield* call({ op: 'unlink', path: file });
            swept.push({ name, path: file, reason: verdict.mine ? 'writer-dead' : 'too-old' });
        }
        catch (err) {
            // Another sweeper, or the writer finishing, got there first.
            if (errnoCode(err) !== 'ENOENT')
                throw err;
        }
    }
    return swept;
}
/**
 * Removes temps left behind by writers that died mid-publish: those of this host (same host id: one boot, one pid
 * namespace) whose writer process is gone, and any other older than `olderThanMs` (default an hour), including
 * temps named by earlier versions. Never a live writer's temp on this host. Returns what it removed.
 */
export function sweepTemps(dir, opts) {
    return wrapAsync('sweepTemps', () => sweepSteps('sweepTemps', dir, opts));
}
/** sweepTemps, blocking. */
export function sweepTempsSync(dir, opts) {
    return wrapSync('sweepTempsSync', () => sweepSteps('sweepTempsSync', dir, opts));
}
//# sourceMappingURL=sweep.js.map