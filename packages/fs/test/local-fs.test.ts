/** isLocalFilesystem: the temp directory's filesystem is local, a FUSE mount (bindfs) of it is not. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isLocalFilesystem } from '@quire/fs';
import { hasCommand, isRoot, requireOrSkip, tempDir, unmountQuietly } from '@quire/testkit';

/** ext4, xfs, btrfs, tmpfs: what a CI machine's temp directory is. */
const LOCAL_TYPES = [0xef53, 0x58465342, 0x9123683e, 0x01021994];

test('the temp directory is on a local filesystem, and so is a missing directory in it', async (t) => {
  const type = fs.statfsSync(os.tmpdir()).type;
  if (
    !requireOrSkip(
      t,
      LOCAL_TYPES.includes(type),
      `the temp directory's filesystem (${type}) is not a known one`,
    )
  )
    return;
  const dir = tempDir(t, 'quire-localfs-');
  assert.equal(await isLocalFilesystem(dir), true);
  // Answered for by the nearest existing ancestor: where it would be made.
  assert.equal(await isLocalFilesystem(path.join(dir, 'missing', 'deeper')), true);
  // A path through a file cannot be told (ENOTDIR).
  fs.writeFileSync(path.join(dir, 'file'), '');
  assert.equal(await isLocalFilesystem(path.join(dir, 'file', 'below')), false);
});

test('a FUSE mount (bindfs) of a local directory is not local: its attribute cache may hide changes', async (t) => {
  if (!requireOrSkip(t, isRoot && hasCommand('bindfs'), 'needs root and bindfs')) return;
  const dir = tempDir(t, 'quire-localfs-');
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-localfs-mnt-'));
  execFileSync('bindfs', [dir, mnt]);
  t.after(() => {
    unmountQuietly(mnt);
    fs.rmSync(mnt, { recursive: true, force: true });
  });
  assert.equal(await isLocalFilesystem(dir), true);
  assert.equal(await isLocalFilesystem(mnt), false);
});
