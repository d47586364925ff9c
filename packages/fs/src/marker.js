import fs from 'node:fs';
import path from 'node:path';
import { validatePath } from './args.js';
import { durableOption, makeDirSteps } from './dir.js';
import { errnoCode, invalidArg } from './errors.js';
import { call, wrapAsync } from './steps.js';
const ANCHOR_PREFIX = '.anchor-';
/** Per directory, the anchor this process links markers to (moved on at EMLINK). */
const anchors = new Map();
/** Enough to pass the anchors of any link-count limit (each try at least doubles k) and a few races. */
const MAX_TRIES = 64;
/** Makes the directory (if missing) and the anchor `.anchor-<k>`: several processes may at once; any will do. */
function* makeAnchor(dir, anchor, durable) {
    yield* makeDirSteps(dir, durable, 'createMarker');
    const fd = yield* call({
        op: 'open',
        path: anchor,
        flags: fs.constants.O_WRONLY | fs.constants.O_CREAT,
        mode: 0o666,
    });
    try {
        // The anchor's inode is what every durable marker names: it must be on disk before they are.
        if (durable)
            yield* call({ op: 'fsync', fd });
    }
    finally {
        yield* call({ op: 'close', fd });
    }
}
function* markerSteps(file, durable) {
    const dir = path.dirname(file);
    for (let tries = 0;; tries++) {
        const k = anchors.get(dir) ?? 0;
        const anchor = path.join(dir, `${ANCHOR_PREFIX}${k}`);
        try {
            yield* call({ op: 'link', from: anchor, to: file });
        }
        catch (err) {
            const code = errnoCode(err);
            if (code === 'EEXIST') {
                // Whoever made it may not have fsynced yet: a durable "it exists" must be as durable as a "made it".
                if (durable)
                    yield* call({ op: 'syncDir', dir });
                return false;
            }
            if (tries >= MAX_TRIES)
                throw err;
            if (code === 'EMLINK')
                anchors.set(dir, 2 * k + 1);
            else if (code === 'ENOENT')
                yield* makeAnchor(dir, anchor, durable);
            else
                throw err;
            continue;
        }
        if (durable)
            yield* call({ op: 'syncDir', dir });
        return true;
    }
}
/**
 * Makes the empty name `file` if it does not exist: true if this call made it, false if it existed. Exactly one
 * of any number of concurrent calls for one name (threads, processes, hosts sharing the filesystem) gets true.
 * The directory is created when missing. Markers are never removed by the library.
 *
 * A marker is a hard link to an empty anchor file in its directory, `.anchor-<k>`: link(2) refuses an existing
 * name just as an exclusive create (O_EXCL) does, but allocates no inode (measured on ext4 without a journal:
 * 10 µs against 250 µs for an empty file). A filesystem caps the links of one inode (ext4: 65,000; btrfs: far
 * fewer within one directory), so at EMLINK this process moves on to another anchor, 2k+1 after k: any anchor
 * with room will do, so the gaps are harmless, and a process that starts late finds room in a few tries. Never
 * write to a marker: all markers of an anchor share its (empty) content.
 *
 * Whether a marker is there is the same for every process of the host the moment the call returns; with
 * `durable`, it also survives a power cut. Across hosts the filesystem must apply namespace operations in order
 * (NFS: a `sync` export). The link is a metadata change, which on a journaled filesystem may wait for the
 * journal: the call runs it on the threadpool, never on the event loop.
 */
export function createMarker(file, opts) {
    return wrapAsync('createMarker', () => {
        const target = path.resolve(validatePath(file, 'file', 'createMarker'));
        if (path.basename(target).startsWith(ANCHOR_PREFIX)) {
            throw invalidArg(`createMarker: ${ANCHOR_PREFIX}* names are the markers' anchors, not markers`);
        }
        return markerSteps(target, durableOption('createMarker', opts));
    });
}
//# sourceMappingURL=marker.js.map