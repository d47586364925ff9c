import fs from 'node:fs';
import path from 'node:path';

/**
 * statfs(2) `f_type` magic numbers (linux/magic.h) of local filesystems, whose fcntl locks the kernel grants or
 * refuses in memory, without I/O: ext2/3/4, xfs, btrfs, tmpfs, ramfs, f2fs, zfs, and overlayfs (a container's root).
 * Anything else (NFS, CIFS, CephFS, FUSE such as GlusterFS) may answer a lock call over the network.
 */
const LOCAL = new Set([
  0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x858458f6, 0xf2f52010, 0x2fc12fc1, 0x794c7630,
]);

/** `QUIRE_FS_LOCK_THREAD=1`: every async lock call on the lock thread, wherever the file is. */
const ALWAYS_OFF_THREAD = process.env.QUIRE_FS_LOCK_THREAD === '1';

/** Directories asked about, with their answers; cleared when full (a lookup is one statfs). */
const known = new Map<string, Promise<boolean>>();
const KNOWN_MAX = 1024;

/**
 * Whether `dir` is on a local filesystem (ext4, xfs, btrfs, tmpfs, ramfs, f2fs, zfs, overlayfs: statfs(2) asked once
 * per directory): one whose locks the kernel keeps in memory and whose stat of a directory sees every change at
 * once, as no network filesystem's attribute cache promises. A missing directory is answered for by its nearest
 * existing ancestor, on whose filesystem it would be made (a directory that exists only sometimes, such as
 * the `.nonces` of a thread nobody retried in, must not cost a statfs per call). false when it cannot be told
 * (another error, asked again next time; other platforms, whose statfs numbers differ).
 */
export function isLocalFilesystem(dir: string): Promise<boolean> {
  let answer = known.get(dir);
  if (answer === undefined) {
    if (known.size >= KNOWN_MAX) known.clear();
    answer = fs.promises.statfs(dir).then(
      (s) => process.platform === 'linux' && LOCAL.has(Number(s.type)),
      (err: NodeJS.ErrnoException) => {
        const parent = path.dirname(dir);
        if (err.code === 'ENOENT' && parent !== dir) return isLocalFilesystem(parent);
        known.delete(dir);
        return false;
      },
    );
    known.set(dir, answer);
  }
  return answer;
}

/**
 * Whether a non-blocking fcntl on `file` costs microseconds and may run on the event loop (lock.ts): its
 * directory is on a local filesystem, and `QUIRE_FS_LOCK_THREAD=1` does not say otherwise.
 */
export function locksAreLocal(file: string): Promise<boolean> {
  return ALWAYS_OFF_THREAD ? Promise.resolve(false) : isLocalFilesystem(path.dirname(file));
}
