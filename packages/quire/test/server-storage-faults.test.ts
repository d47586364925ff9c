import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { replaceFile } from '@quire/fs';
import { StorageHealth, storageFault } from '../src/server/storage-faults.js';

/** A 256 KiB tmpfs on a fresh directory, unmounted when the test ends; null (skipped, said why) without root. */
function smallTmpfs(t: TestContext): string | null {
  if (process.getuid?.() !== 0) {
    if (process.env.CI) assert.fail('CI runs as root: the full-disk test must not skip');
    t.skip('mounting a small tmpfs needs root');
    return null;
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-health-'));
  const mnt = path.join(base, 'mnt');
  fs.mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'quire-health-test', mnt]);
  t.after(() => {
    execFileSync('umount', [mnt]);
    fs.rmSync(base, { recursive: true, force: true });
  });
  return mnt;
}

test('storage faults are told apart from bugs: full → 507 storage-full, unusable → 503 with Retry-After', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(storageFault(err('ENOSPC'))?.status, 507);
  assert.equal(storageFault(err('EDQUOT'))?.code, 'storage-full');
  for (const c of ['EROFS', 'EIO', 'ESTALE']) assert.equal(storageFault(err(c))?.status, 503, c);
  // A wrapped fault (a hook's cause) is still a fault; anything else is not.
  assert.equal(storageFault(new Error('x', { cause: err('EIO') }))?.code, 'storage-unavailable');
  assert.equal(storageFault(err('EEXIST')), undefined);
  assert.equal(storageFault(new TypeError('bug')), undefined);
});

test('health turns 507 while the disk is full and back to ok once a probe write succeeds', async (t) => {
  const mnt = smallTmpfs(t);
  if (mnt === null) return;
  const health = new StorageHealth(async () => {
    await replaceFile(path.join(mnt, '.health'), `${Date.now()}\n`);
  }, 0);
  assert.deepEqual(await health.check(), { ok: true });
  const filler = path.join(mnt, 'filler');
  assert.throws(() => fs.writeFileSync(filler, Buffer.alloc(1024 * 1024)), { code: 'ENOSPC' });
  const full = await health.check();
  assert.equal(full.ok, false);
  assert.equal(full.ok === false && full.fault.code, 'storage-full');
  // A request saw it too; a success of any kind clears it.
  fs.rmSync(filler);
  assert.deepEqual(await health.check(), { ok: true });
  health.noteFailure(Object.assign(new Error('disk'), { code: 'ENOSPC' }));
  health.noteSuccess();
  assert.deepEqual(await health.check(), { ok: true });
});
