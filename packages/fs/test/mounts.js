/**
 * Small filesystems for tests that need a particular one (a full disk, a link-count limit), each mounted on a
 * fresh directory of its own and gone when the test ends, so that any number of test runs can share a machine:
 * mkdtemp paths, the first free loop device as losetup hands it out, a fresh UUID per filesystem.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasCommand, isRoot, unmountQuietly } from '@quire/testkit';
import { mkfsCommand } from './powercut-image.js';
/** Why loop-mounted images cannot be made here, or null when they can. */
export function cannotMountImages() {
    if (!isRoot)
        return 'loop-mounting a filesystem image needs root';
    const missing = ['losetup', 'mount', 'umount', 'mkfs.ext4'].filter((c) => !hasCommand(c));
    return missing.length === 0 ? null : `loop-mounting an image needs ${missing.join(', ')}`;
}
/**
 * A fresh ext4 filesystem of `mib` MiB in an image file, on a loop device of its own, mounted on a fresh
 * directory; unmounted, detached and removed when the test ends. Returns the mount point.
 */
export function mountExt4Image(t, mib) {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-img-'));
    const image = path.join(base, 'fs.img');
    const mnt = path.join(base, 'mnt');
    fs.mkdirSync(mnt);
    fs.writeFileSync(image, '');
    fs.truncateSync(image, mib * 1024 * 1024);
    let dev;
    t.after(() => {
        unmountQuietly(mnt);
        if (dev !== undefined) {
            try {
                execFileSync('losetup', ['-d', dev], { stdio: 'ignore' });
            }
            catch { }
        }
        fs.rmSync(base, { recursive: true, force: true });
    });
    dev = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    const [mkfs, args] = mkfsCommand('ext4', dev, randomUUID());
    execFileSync(mkfs, args, { stdio: 'ignore' });
    execFileSync('mount', ['-t', 'ext4', dev, mnt]);
    return mnt;
}
//# sourceMappingURL=mounts.js.map