import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { replaceFile } from '@quire/fs';
import { isRoot, mountTmpfs, requireOrSkip } from '@quire/testkit';
import { StorageHealth, storageFault } from '../src/server/storage-faults.js';

test('storage faults are told apart from bugs: full → 507 storage-full, unusable → 503 with Retry-After', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(storageFault(err('ENOSPC'))?.status, 507);
  assert.equal(storageFault(err('EDQUOT'))?.code, 'storage-full');
  for (const c of ['EROFS', 'EIO', 'ESTALE']) assert.equal(storageFault(err(c))?.status, 503, c);
  // A wrapped fault (a hook's cause) is still a fault; anything else is not.
  assert.equal(storageFault(new Error('x', { cause: err('EIO') }))?.code, 'storage-unavailable');
  assert.equal(storageFault(err('EEXIST')), undefined);
  assert.equal(storageFault(new TypeError('bug')), undefined);
  // A network filesystem's transient faults, after @quire/fs's own retries: back in seconds, not minutes.
  for (const c of ['ESTALE', 'ENOTCONN', 'ERR_INCOMPLETE_READ']) {
    assert.deepEqual([storageFault(err(c))?.status, storageFault(err(c))?.retryAfterSeconds], [503, 2], c);
  }
  assert.equal(storageFault(err('EIO'))?.retryAfterSeconds, 30);
});

test('health turns 507 while the disk is full and back to ok once a probe write succeeds', async (t) => {
  if (!requireOrSkip(t, isRoot, 'mounting a small tmpfs needs root')) return;
  const mnt = mountTmpfs(t, '256k');
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
