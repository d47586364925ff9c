/**
 * The package as its users get it: `npm pack` (whose prepack, scripts/prebuild.mjs, builds the prebuilt
 * addons), unpacked into a fresh project and installed by npm (`npm rebuild` runs its install script as
 * `npm install` would, without asking the registry for the dependencies, which are linked from this
 * repository) with a PATH that holds node and sh and no compiler. Then: the prebuild is what loads; a corrupt
 * or missing one leaves the pure-JS protocol; with a compiler and no prebuild, the install builds from source.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hasCommand, requireOrSkip, tempDir } from './helpers.js';

const run = promisify(execFile);
const pkgRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const repoModules = path.resolve(pkgRoot, '../../node_modules');
const npmCli =
  process.env.npm_execpath?.endsWith('npm-cli.js') === true
    ? process.env.npm_execpath
    : path.resolve(process.execPath, '../../lib/node_modules/npm/bin/npm-cli.js');
/** The environment of every child: whichever run this is (pure JS, no O_TMPFILE), the child chooses freely. */
const childEnv = { ...process.env, QUIRE_FS_PURE_JS: '', QUIRE_FS_NO_TMPFILE: '' };
const ELF_MACHINE = { x64: 62, arm64: 183 } as const;

/** What a process in `project` sees of @quire/fs, and the record it published with it. */
interface Seen {
  implementation: string;
  nativeBinary: string | null;
  published: string;
  stderr: string;
}

const probe = `
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
const m = await import('@quire/fs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-prebuild-probe-'));
const { path: file } = m.createUniqueSync(dir, 'published');
const published = fs.readFileSync(file, 'utf8');
fs.rmSync(dir, { recursive: true });
process.stdout.write(JSON.stringify({ implementation: m.implementation, nativeBinary: m.nativeBinary ?? null, published }));
`;

async function see(project: string, env: NodeJS.ProcessEnv): Promise<Seen> {
  const r = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: project, env });
  return { ...(JSON.parse(r.stdout) as Omit<Seen, 'stderr'>), stderr: r.stderr };
}

/** `npm rebuild` in `project`: runs @quire/fs's install script the way `npm install` does. */
async function install(project: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(process.execPath, [npmCli, 'rebuild', '--offline', '--foreground-scripts'], {
    cwd: project,
    env,
  });
  return r.stdout + r.stderr;
}

/** A PATH with node and sh only: no cc, gcc, g++, make or python3. */
function bareBin(root: string): string {
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  return bin;
}

/** The packed tarball unpacked as node_modules/@quire/fs of a new project, its dependencies linked. */
function unpack(root: string, files: string): string {
  const project = path.join(root, 'project');
  const installed = path.join(project, 'node_modules', '@quire', 'fs');
  fs.mkdirSync(installed, { recursive: true });
  fs.cpSync(path.join(files, 'package'), installed, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const dep of Object.keys(manifest.dependencies)) {
    fs.symlinkSync(path.join(repoModules, dep), path.join(project, 'node_modules', dep));
  }
  const own = { name: 'prebuild-probe', private: true, allowScripts: { '@quire/fs': true } };
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify(own));
  return installed;
}

function elfMachine(file: string): number {
  const head = fs.readFileSync(file).subarray(0, 20);
  assert.equal(head.subarray(0, 4).toString('latin1'), '\x7fELF', `${file} is not an ELF file`);
  return head.readUInt16LE(18);
}

/** `npm pack` of this package into `root` (its prepack builds the prebuilds), and the tarball unpacked. */
async function pack(root: string): Promise<string> {
  const packOut = await run(process.execPath, [npmCli, 'pack', '--pack-destination', root], {
    cwd: pkgRoot,
    env: childEnv,
    maxBuffer: 16 << 20,
  });
  const manifest = JSON.parse(fs.readFileSync(path.join(pkgRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  const tarball = path.join(root, `quire-fs-${manifest.version}.tgz`);
  assert.ok(fs.existsSync(tarball), packOut.stderr);
  const files = path.join(root, 'files');
  fs.mkdirSync(files);
  await run('tar', ['-xzf', tarball, '-C', files]);
  return files;
}

/** The prebuilds in the package: this machine's, the other architecture's (glibc), and musl. */
async function shipped(t: TestContext, prebuilds: string, arch: keyof typeof ELF_MACHINE): Promise<void> {
  await t.test('linux-x64 glibc (this machine) is in the package', () => {
    const own = path.join(prebuilds, `linux-${arch}`, '@quire+fs.glibc.node');
    assert.equal(elfMachine(own), ELF_MACHINE[arch]);
  });

  await t.test('the other architecture, glibc, is in the package, built with a cross compiler', (t) => {
    const other = arch === 'x64' ? 'arm64' : 'x64';
    const cc = other === 'arm64' ? 'aarch64-linux-gnu-gcc' : 'x86_64-linux-gnu-gcc';
    if (!requireOrSkip(t, hasCommand(cc), `${cc} is not installed (Debian: gcc-aarch64-linux-gnu)`)) return;
    assert.equal(
      elfMachine(path.join(prebuilds, `linux-${other}`, '@quire+fs.glibc.node')),
      ELF_MACHINE[other],
    );
  });

  await t.test('musl is in the package, linked against musl and not glibc', async (t) => {
    if (!requireOrSkip(t, hasCommand('musl-gcc'), 'musl-gcc is not installed (Debian: musl-tools)')) return;
    const file = path.join(prebuilds, `linux-${arch}`, '@quire+fs.musl.node');
    assert.equal(elfMachine(file), ELF_MACHINE[arch]);
    const bytes = fs.readFileSync(file).toString('latin1');
    assert.ok(!bytes.includes('libc.so.6'), 'the musl build needs glibc');
    const ldso = `/lib/ld-musl-${arch === 'x64' ? 'x86_64' : 'aarch64'}.so.1`;
    if (!fs.existsSync(ldso)) return;
    // musl's own loader links it: everything resolves but what node itself provides, the napi_* functions and
    // libuv's uv_* (native/back.c's way back to the event loop).
    const r = await run(ldso, ['--list', file]).catch((err: { stdout: string; stderr: string }) => err);
    const missing = r.stderr.split('\n').filter((l) => l.startsWith('Error relocating'));
    assert.ok(missing.length > 0, r.stderr);
    for (const line of missing) assert.match(line, /: (napi|uv)_\w+: symbol not found$/);
  });
}

test('the packed package ships prebuilt addons, loads its own without a compiler, and falls back when it cannot', async (t) => {
  if (!requireOrSkip(t, process.platform === 'linux', 'prebuilds are built for Linux only')) return;
  const arch = os.arch() as keyof typeof ELF_MACHINE;
  if (!requireOrSkip(t, arch in ELF_MACHINE, `no prebuild is made for ${arch}`)) return;
  const root = tempDir(t, 'quire-prebuilds-');
  const files = await pack(root);
  await shipped(t, path.join(files, 'package', 'prebuilds'), arch);

  const bin = bareBin(root);
  const bare = { ...childEnv, PATH: bin };
  const installed = unpack(root, files);
  const project = path.dirname(path.dirname(path.dirname(installed)));
  const prebuild = path.join(installed, 'prebuilds', `linux-${arch}`, '@quire+fs.glibc.node');

  await t.test('installed where there is no compiler, it loads the prebuild and builds nothing', async () => {
    await install(project, bare);
    assert.equal(fs.existsSync(path.join(installed, 'build')), false, 'the install built from source');
    const seen = await see(project, bare);
    assert.equal(seen.implementation, 'native');
    assert.equal(seen.nativeBinary, prebuild);
    assert.equal(seen.published, 'published');
  });

  await t.test(
    'a corrupt prebuild leaves the pure-JS protocol, with a warning, and publishing works',
    async () => {
      fs.writeFileSync(prebuild, Buffer.alloc(4096, 0x5a));
      const seen = await see(project, bare);
      assert.equal(seen.implementation, 'js');
      assert.equal(seen.nativeBinary, null);
      assert.match(seen.stderr, /QUIRE_FS_NATIVE_UNAVAILABLE/);
      assert.equal(seen.published, 'published');
    },
  );

  await t.test('no prebuild and no compiler: the install says so, the pure-JS protocol runs', async () => {
    fs.rmSync(path.join(installed, 'prebuilds'), { recursive: true });
    const said = await install(project, bare);
    assert.match(said, /native addon not built/);
    const seen = await see(project, bare);
    assert.equal(seen.implementation, 'js');
    assert.equal(seen.stderr, '');
    assert.equal(seen.published, 'published');
  });

  await t.test(
    'no prebuild, a compiler: the install builds the addon from source and it loads',
    async (t) => {
      if (!requireOrSkip(t, hasCommand('make') && hasCommand('cc'), 'no make or cc to build with')) return;
      await install(project, childEnv);
      const seen = await see(project, childEnv);
      assert.equal(seen.implementation, 'native');
      assert.equal(seen.nativeBinary, path.join(installed, 'build', 'Release', 'quire_fs.node'));
      assert.equal(seen.published, 'published');
    },
  );
});
