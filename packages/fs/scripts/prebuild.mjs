// Builds the prebuilt addons that ship inside the npm package (run by `prepack`, so `npm pack` and
// `npm publish` always ship binaries built from the sources they ship): prebuildify names them
// prebuilds/<platform>-<arch>/@quire+fs.<libc>.node, and node-gyp-build picks the one that fits at load time.
// The host's own (linux-x64 glibc here) must build; the others are built where a cross compiler is installed
// (Debian: gcc-aarch64-linux-gnu for arm64, musl-tools for musl) and otherwise skipped, saying so. Each build
// runs in a temporary copy of the sources, so a developer's build/Release is left alone. Prints one line per
// variant; exits 1 if a variant whose compiler is present fails to build.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeDir, nodeGyp } from './toolchain.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prebuildify = createRequire(import.meta.url).resolve('prebuildify/bin.js');
const triples = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

/** The variants this machine can try: its own, the other architecture's glibc, and musl on its own. */
function variants() {
  const host = os.arch();
  const other = host === 'x64' ? 'arm64' : 'x64';
  return [
    { arch: host, libc: 'glibc', cc: 'cc', strip: 'strip', required: true },
    { arch: other, libc: 'glibc', cc: `${triples[other]}-gcc`, strip: `${triples[other]}-strip` },
    { arch: host, libc: 'musl', cc: 'musl-gcc', strip: 'strip' },
  ];
}

function found(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** A copy of what node-gyp needs, in a fresh temporary directory. */
function sources() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-fs-prebuild-'));
  for (const f of ['binding.gyp', 'package.json', 'native']) {
    fs.cpSync(path.join(root, f), path.join(dir, f), { recursive: true });
  }
  return dir;
}

function build(v, nodedir, gyp) {
  const cwd = sources();
  try {
    const args = [prebuildify, '--napi', '--strip', '--tag-libc', `--arch=${v.arch}`, `--libc=${v.libc}`];
    args.push(`--strip-bin=${v.strip}`, `--node-gyp=${gyp}`, `--cwd=${cwd}`, `--out=${root}`, '--quiet');
    const env = { ...process.env, npm_config_nodedir: nodedir, CC: v.cc, LINK: v.cc };
    return spawnSync(process.execPath, args, { env, stdio: ['ignore', 'inherit', 'inherit'] }).status === 0;
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

const nodedir = nodeDir();
const gyp = nodeGyp();
if (!nodedir || !gyp) {
  process.stderr.write("@quire/fs prebuild: Node's headers or node-gyp not found\n");
  process.exit(1);
}
// Nothing stale ships: each pack starts from an empty prebuilds/.
fs.rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });
let failed = false;
for (const v of variants()) {
  const what = `linux-${v.arch} ${v.libc}`;
  if (!found(v.cc)) {
    process.stdout.write(`@quire/fs prebuild: ${what}: skipped, no ${v.cc}\n`);
    if (v.required) failed = true;
  } else if (build(v, nodedir, gyp)) {
    process.stdout.write(`@quire/fs prebuild: ${what}: built with ${v.cc}\n`);
  } else {
    process.stderr.write(`@quire/fs prebuild: ${what}: ${v.cc} failed\n`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
