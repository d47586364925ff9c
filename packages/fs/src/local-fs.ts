import fs from 'node:fs';
import path from 'node:path';

/**
 * statfs(2) `f_type` magic numbers (linux/magic.h) of filesystems whose fcntl locks the kernel grants or refuses
 * in memory, without I/O: ext2/3/4, xfs, btrfs, tmpfs, ramfs, f2fs, zfs, and overlayfs (a container's root).
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
 * Whether the filesystem holding `file` keeps its locks in local memory, so a non-blocking fcntl on it costs
 * microseconds and may run on the event loop (lock.ts). Asked once per directory with an async statfs; false
 * when it cannot be told (non-Linux platforms report other numbers, and then every lock call stays off the loop).
 */
export function locksAreLocal(file: string): Promise<boolean> {
  if (ALWAYS_OFF_THREAD) return Promise.resolve(false);
  const dir = path.dirname(file);
  let answer = known.get(dir);
  if (answer === undefined) {
    if (known.size >= KNOWN_MAX) known.clear();
    answer = fs.promises.statfs(dir).then(
      (s) => process.platform === 'linux' && LOCAL.has(Number(s.type)),
      () => {
        // Asked again next time: the directory may not be there yet.
        known.delete(dir);
        return false;
      },
    );
    known.set(dir, answer);
  }
  return answer;
}
