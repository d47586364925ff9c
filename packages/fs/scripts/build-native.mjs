// Builds the publish addon (native/, binding.gyp) from source with node-gyp and the system compiler, without
// downloading anything (toolchain.mjs). Skipped when the build is up to date, and at install (`--install`)
// when a prebuilt binary shipped in prebuilds/ (scripts/prebuild.mjs) loads here: then no compiler is needed.
// Never fails the build or the install: without the addon, @quire/fs runs its pure-JS protocol (see
// src/native-publish.ts); it says so on stderr.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeDir, nodeGyp } from './toolchain.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'build', 'Release', 'quire_fs.node');
const sources = [
  'binding.gyp',
  ...fs.readdirSync(path.join(root, 'native')).map((f) => path.join('native', f)),
];

function warn(why) {
  process.stderr.write(`@quire/fs: native addon not built (${why}); the pure-JS protocol will be used\n`);
}

function upToDate() {
  if (!fs.existsSync(built)) return false;
  const at = fs.statSync(built).mtimeMs;
  return sources.every((f) => fs.statSync(path.join(root, f)).mtimeMs <= at);
}

/** Whether a shipped prebuild fits this platform, architecture and libc, and loads. */
function prebuildLoads() {
  const require = createRequire(import.meta.url);
  try {
    const file = require('node-gyp-build').path(root);
    if (!file.startsWith(path.join(root, 'prebuilds') + path.sep)) return false;
    require(file);
    return true;
  } catch {
    return false;
  }
}

function build() {
  const dir = nodeDir();
  const gyp = nodeGyp();
  if (!dir) return warn("Node's headers (include/node/node_api.h) not found");
  if (!gyp) return warn('node-gyp not found');
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${dir}`, '--loglevel=warn'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    process.stderr.write(r.stderr ?? '');
    warn(`node-gyp exited ${r.status ?? r.signal}`);
  }
}

// The addon uses Linux's O_TMPFILE and /proc/self/fd; elsewhere the JS protocol is the implementation.
if (process.platform === 'linux' && !upToDate()) {
  if (!(process.argv.includes('--install') && prebuildLoads())) build();
}
