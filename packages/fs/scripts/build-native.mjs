// Builds the publish addon (native/, binding.gyp) with node-gyp, from source, without downloading anything:
// Node's own headers (include/node next to the node binary, or /usr, /usr/local) stand in for node-gyp's
// header download. Skipped when the addon is up to date. Never fails the build or the install: without the
// addon, @quire/fs runs its pure-JS protocol (see src/native-publish.ts); it says so on stderr.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

function nodeDir() {
  const candidates = [
    process.env.npm_config_nodedir,
    path.resolve(process.execPath, '../..'),
    '/usr',
    '/usr/local',
  ];
  return candidates.find(
    (d) =>
      d &&
      fs.existsSync(path.join(d, 'include/node/node_api.h')) &&
      fs.existsSync(path.join(d, 'include/node/common.gypi')),
  );
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.resolve(process.execPath, '../../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ];
  return candidates.find((f) => f?.endsWith('.js') && fs.existsSync(f));
}

if (process.platform !== 'linux') {
  // The addon uses Linux's O_TMPFILE and /proc/self/fd; elsewhere the JS protocol is the implementation.
} else if (!upToDate()) {
  const dir = nodeDir();
  const gyp = nodeGyp();
  if (!dir) warn("Node's headers (include/node/node_api.h) not found");
  else if (!gyp) warn('node-gyp not found');
  else {
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
}
