/**
 * Where the runs write: a fresh directory under the OS temp dir (so on /tmp's filesystem), one subdirectory per
 * run, nothing deleted until the very end.
 *
 * Why: ext4 without a journal (this machine's /tmp) will not reuse an inode freed in the last 5 s, or 305 s while
 * its inode-table block is still dirty, and every create scans past each such inode of its block group
 * (fs/ext4/ialloc.c, recently_deleted()). Deleting one run's files slowed the next run's creates in that group
 * 3× here. So runs never delete, and the root gets ext4's TOPDIR flag (`chattr +T`): its subdirectories are then
 * spread over block groups (Orlov allocator), each run starting in a group of its own instead of one that earlier
 * runs, or other users of /tmp, have just filled with freed inodes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Gives `dir` ext4's TOPDIR flag, so that its subdirectories are spread over block groups; false where the
 * filesystem has no such flag or chattr is missing.
 */
export function spreadSubdirs(dir: string): boolean {
  try {
    execFileSync('chattr', ['+T', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class Scratch {
  readonly root: string;
  /** Whether `chattr +T` took (false on filesystems without the flag, or without chattr). */
  readonly spread: boolean;

  constructor() {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-bench-'));
    this.spread = spreadSubdirs(this.root);
  }

  /** A new, empty directory for one run. */
  fresh(label: string): string {
    const dir = path.join(this.root, label);
    fs.mkdirSync(dir);
    return dir;
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
