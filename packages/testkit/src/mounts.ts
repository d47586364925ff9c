import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

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
