/**
 * `npx quire` works in a fresh clone right after `npm ci` and the build, as the README's first commands have it.
 * npm links a package's bins at install time, before any build, and skips one whose file does not exist yet:
 * the bin must be a committed file, not one the build makes.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/cli-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs `cmd args...` in `cwd` to its end. */
function run(cwd: string, cmd: string, args: string[], input = '') {
  return spawnSync(cmd, args, {
    cwd,
    input,
    encoding: 'utf8',
    env: { ...process.env, npm_config_yes: 'false' },
  });
}

test('a fresh clone has a working `npx quire` after npm ci and npm run build', { timeout: 600_000 }, (t) => {
  const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: here, encoding: 'utf8' }).trim();
  // What a clone of this tree holds once committed: tracked and new files, nothing ignored (no dist, no
  // node_modules), with their contents in the working tree.
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '' && fs.existsSync(path.join(root, f)));
  const clone = path.join(tempDir(t), 'quire');
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(clone, f));
    fs.chmodSync(path.join(clone, f), fs.statSync(path.join(root, f)).mode);
  }
  const ci = run(clone, 'npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund']);
  assert.equal(ci.status, 0, ci.stderr);

  // `npm exec --no`: never fetch a package called quire from the registry when the local bin is missing.
  const early = run(clone, 'npm', ['exec', '--no', '--', 'quire', '--help']);
  assert.notEqual(early.status, 0);
  assert.match(early.stderr, /the CLI is not built yet .*\nRun `npm run build`/);

  const build = run(clone, 'npm', ['run', 'build']);
  assert.equal(build.status, 0, build.stderr);
  const help = run(clone, 'npm', ['exec', '--no', '--', 'quire', '--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: quire COMMAND/m);
  const hash = run(clone, 'npx', ['quire', 'hash-password'], 'correct horse battery');
  assert.equal(hash.status, 0, hash.stderr);
  assert.match(hash.stdout, /^scrypt\$\S+\n$/);
});
