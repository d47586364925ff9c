import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { hasCommand, isRoot } from './env.js';
import { mkfsCommand } from './loop-image.js';

/** Unmounts `mnt` (lazily if it is busy) and swallows "not mounted". */
export function unmountQuietly(mnt: string): void {
  try {
    execFileSync('umount', [mnt], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
    } catch {}
  }
}

/**
 * A tmpfs of `size` (e.g. `512k`) mounted on a fresh directory of its own (so any number of test runs can share
 * a machine), unmounted and removed when the test ends. Needs root.
 */
export function mountTmpfs(t: TestContext, size: string): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-tmpfs-'));
  const mnt = path.join(base, 'mnt');
  fs.mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, `quire-test-${path.basename(base)}`, mnt]);
  t.after(() => {
    unmountQuietly(mnt);
    fs.rmSync(base, { recursive: true, force: true });
  });
  return mnt;
}

/** Why loop-mounted images cannot be made here, or null when they can. */
export function cannotMountImages(): string | null {
  if (!isRoot) return 'loop-mounting a filesystem image needs root';
  const missing = ['losetup', 'mount', 'umount', 'mkfs.ext4'].filter((c) => !hasCommand(c));
  return missing.length === 0 ? null : `loop-mounting an image needs ${missing.join(', ')}`;
}

/**
 * A fresh ext4 filesystem of `mib` MiB (a fresh UUID) in an image file, on the first free loop device, mounted
 * on a fresh directory; unmounted, detached and removed when the test ends. Returns the mount point.
 */
export function mountExt4Image(t: TestContext, mib: number): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-img-'));
  const image = path.join(base, 'fs.img');
  const mnt = path.join(base, 'mnt');
  fs.mkdirSync(mnt);
  fs.writeFileSync(image, '');
  fs.truncateSync(image, mib * 1024 * 1024);
  let dev: string | undefined;
  t.after(() => {
    unmountQuietly(mnt);
    if (dev !== undefined) {
      try {
        execFileSync('losetup', ['-d', dev], { stdio: 'ignore' });
      } catch {}
    }
    fs.rmSync(base, { recursive: true, force: true });
  });
  dev = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
  const [mkfs, args] = mkfsCommand('ext4', dev, randomUUID());
  execFileSync(mkfs, args, { stdio: 'ignore' });
  execFileSync('mount', ['-t', 'ext4', dev, mnt]);
  return mnt;
}
