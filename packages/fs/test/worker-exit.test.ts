/**
 * A worker thread that exits (terminate()) while its async calls are out on the addon's threads: the process
 * stays up, and every file is whole. Before the addon was linked `-z nodelete`, the worker's exit unloaded the
 * addon (no other environment held it) under its own running threads: SIGSEGV.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isTempName } from '@quire/fs';
import { spawnFixture, tempDir, waitExit } from './helpers.js';

test('worker threads terminated with async publishes in flight leave the process up and every file whole', async (t) => {
  const dir = tempDir(t, 'quire-worker-exit-');
  const r = await waitExit(spawnFixture('worker-exit', [dir, '12']));
  assert.equal(r.code, 0, `the fixture exited ${r.code ?? r.signal}: ${r.stderr}`);
  const names = fs.readdirSync(dir);
  assert.equal(Number(r.stdout.trim()), names.length);
  for (const name of names) {
    if (isTempName(name)) continue; // a named temp's publish cut short by the exit (the pure-JS protocol)
    assert.equal(fs.readFileSync(path.join(dir, name), 'utf8'), 'x', `${name} is not whole`);
  }
});
