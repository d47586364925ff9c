import fs from 'node:fs';
import { validatePath } from './args.js';
function statOf(file) {
    try {
        return fs.statSync(file, { bigint: true, throwIfNoEntry: false });
    }
    catch {
        return null;
    }
}
/** stat(2), synchronously: a couple of microseconds for an inode in the cache, cheaper than a threadpool trip. */
export function stampOf(file) {
    validatePath(file, 'file', 'stampOf');
    const st = statOf(file);
    if (st === undefined || st === null)
        return { path: file, st, newestNs: 0n };
    // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
    return { path: file, st, newestNs: st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs };
}
/** True while `s` still describes its path. A failed stat never validates anything. */
export function unchanged(s) {
    const a = s.st;
    if (a === null)
        return false;
    const b = statOf(s.path);
    if (a === undefined || b === undefined || b === null)
        return a === b;
    return (a.ctimeNs === b.ctimeNs &&
        a.mtimeNs === b.mtimeNs &&
        a.ino === b.ino &&
        a.size === b.size &&
        a.dev === b.dev);
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
export function settled(stamps, startedMs) {
    for (const s of stamps) {
        if (s.st === null)
            return false;
        if (s.st === undefined)
            continue;
        const marginMs = s.newestNs % 1000000n === 0n ? SETTLE_COARSE_MS : SETTLE_MS;
        if (s.newestNs >= BigInt(startedMs - marginMs) * 1000000n)
            return false;
    }
    return true;
}
/** How old a stamp with sub-millisecond digits must be, when a read begins, to count as settled. */
export const SETTLE_MS = 100;
/** The same for a whole-millisecond stamp, which may come from a filesystem that keeps (two) seconds. */
export const SETTLE_COARSE_MS = 2_100;
//# sourceMappingURL=stamp.js.map