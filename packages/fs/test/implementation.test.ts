/**
 * Which publish protocol runs: the native addon on Linux, the pure-JS one where it cannot load or when
 * QUIRE_FS_PURE_JS=1 asks for it. The rest of the suite runs against whichever is chosen (npm test runs it
 * twice, once with QUIRE_FS_PURE_JS=1), so here only the choice itself, and that both publish alike.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createUniqueSync, implementation, isTempName, nativeBinary } from '@quire/fs';
import { canStrace, parseStrace, requireOrSkip, spawnFixtureTraced, tempDir, waitExit } from './helpers.js';

const addon = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/Release/quire_fs.node');

/** `implementation` as a fresh process with `env` sees it. */
function implementationIn(env: NodeJS.ProcessEnv): string {
  return execFileSync(
    process.execPath,
    ['--input-type=module', '-e', "import('@quire/fs').then((m) => process.stdout.write(m.implementation))"],
    { cwd: path.dirname(addon), env: { ...process.env, ...env }, encoding: 'utf8' },
  );
}

test('on Linux the native addon is built and chosen, unless QUIRE_FS_PURE_JS=1 asks for the JS protocol', (t) => {
  if (process.platform !== 'linux') {
    assert.equal(implementation, 'js');
    return;
  }
  if (process.env.QUIRE_FS_PURE_JS === '1') {
    assert.equal(implementation, 'js');
    assert.equal(nativeBinary, undefined);
    return;
  }
  if (!requireOrSkip(t, fs.existsSync(addon), `the addon is not built (${addon}); npm run build builds it`))
    return;
  assert.equal(implementation, 'native');
  // Built from source here (npm run build), which wins over a shipped prebuild (prebuilds.test.ts).
  assert.equal(nativeBinary, addon);
});

test('QUIRE_FS_PURE_JS=1 makes a process choose the JS protocol, and only the value 1 does', () => {
  assert.equal(implementationIn({ QUIRE_FS_PURE_JS: '1' }), 'js');
  const otherwise = process.platform === 'linux' && fs.existsSync(addon) ? 'native' : 'js';
  assert.equal(implementationIn({ QUIRE_FS_PURE_JS: '' }), otherwise);
  assert.equal(implementationIn({ QUIRE_FS_PURE_JS: '0' }), otherwise);
});

test('both protocols name records alike: a quiet second counts -0, -1, -2 in one directory', (t) => {
  const dir = tempDir(t);
  const time = Date.UTC(2026, 10, 26, 10, 15, 0);
  const names = [0, 1, 2].map((i) => createUniqueSync(dir, `r${i}`, { time, suffix: '.txt' }).name);
  assert.deepEqual(names, ['20261126T101500Z-0.txt', '20261126T101500Z-1.txt', '20261126T101500Z-2.txt']);
  assert.deepEqual(fs.readdirSync(dir).filter(isTempName), []);
});

test('where O_TMPFILE is refused (EOPNOTSUPP), the native path publishes from a named temp and stops asking on that device', async (t) => {
  // Whatever this run's protocol (npm test also runs the suite as pure JS and with named temps), the child runs
  // the native one with O_TMPFILE: that is what is under test.
  const native = process.platform === 'linux' && fs.existsSync(addon);
  if (!requireOrSkip(t, native, `the addon is not built (${addon}); npm run build builds it`)) return;
  if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here (ptrace denied)')) return;
  const root = tempDir(t, 'quire-refused-');
  const dir = path.join(root, 'records');
  fs.mkdirSync(dir);
  const log = path.join(root, 'strace.log');
  // -P: only calls on the directory itself are traced, so when=1 is the first of them on the main thread: the
  // first publish's O_TMPFILE open.
  const child = spawnFixtureTraced(
    [
      '-f',
      '-o',
      log,
      '-P',
      dir,
      '-e',
      'trace=openat,newfstatat,statx,stat',
      '-e',
      'inject=openat:error=EOPNOTSUPP:when=1',
    ],
    'tmpfile-refused',
    [dir],
    { env: { QUIRE_FS_PURE_JS: '', QUIRE_FS_NO_TMPFILE: '' } },
  );
  const r = await waitExit(child);
  assert.equal(r.code, 0, r.stderr);
  const { implementation: ran, names } = JSON.parse(r.stdout) as { implementation: string; names: string[] };
  assert.equal(ran, 'native');
  const calls = parseStrace(fs.readFileSync(log, 'utf8'));
  const tmpfileOpens = calls.filter((c) => c.name === 'openat' && /\bO_TMPFILE\b/.test(c.args));
  assert.equal(tmpfileOpens.length, 1, 'O_TMPFILE was tried again on a device that refused it');
  assert.equal(tmpfileOpens[0]!.injected, true);
  // Every publish still happened, complete, and no temp is left.
  assert.deepEqual(fs.readdirSync(dir).sort(), [...names].sort());
  assert.deepEqual(
    names.map((n) => fs.readFileSync(path.join(dir, n), 'utf8')),
    ['one', 'two', 'three'],
  );
});
