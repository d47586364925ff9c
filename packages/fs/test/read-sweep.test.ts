/** readComplete and sweepTemps. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  createUniqueSync,
  hostId,
  isTempName,
  readComplete,
  readCompleteSync,
  sweepTemps,
  sweepTempsSync,
} from '@quire/fs';
import {
  fixturesDir,
  hasCommand,
  isRoot,
  onLines,
  requireOrSkip,
  spawnFixtureWithStdin,
  tempDir,
  waitExit,
} from './helpers.js';
import { list, ownTemp, STAMP } from './writers.js';

// ---- readComplete ----

test('readComplete returns null for a missing file', async (t) => {
  const dir = tempDir(t);
  assert.equal(readCompleteSync(path.join(dir, 'missing')), null);
  assert.equal(await readComplete(path.join(dir, 'missing')), null);
});

test('readComplete returns the whole content of a published file', async (t) => {
  const dir = tempDir(t);
  const content = Buffer.alloc(300 * 1024, 'r');
  const { path: p } = createUniqueSync(dir, content);
  assert.deepEqual(readCompleteSync(p), content);
  assert.deepEqual(await readComplete(p), content);
});

test('readComplete returns null while another process holds an exclusive lock on the file, and the content once it is released', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'locked');
  fs.writeFileSync(p, 'being written');
  const holder = spawnFixtureWithStdin('fault-lock-holder', [p]);
  const exited = waitExit(holder);
  const first = await new Promise<string>((resolve, reject) => {
    onLines(holder.stdout!, resolve);
    exited.then((r) => reject(new Error(`lock holder exited early: ${r.code} ${r.stderr}`)), reject);
  });
  assert.equal(first, 'ready');
  try {
    assert.equal(readCompleteSync(p), null);
    assert.equal(await readComplete(p), null);
  } finally {
    holder.stdin!.end();
  }
  const r = await exited;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readCompleteSync(p)?.toString(), 'being written');
  assert.equal((await readComplete(p))?.toString(), 'being written');
});

// ---- sweepTemps ----

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await waitExit(child);
  return pid;
}

const sweepers = [
  { name: 'sweepTempsSync', sweep: async (dir: string, o?: any) => sweepTempsSync(dir, o) },
  { name: 'sweepTemps', sweep: (dir: string, o?: any) => sweepTemps(dir, o) },
];

for (const { name, sweep } of sweepers) {
  test(`${name} removes a temp whose writer process is dead`, async (t) => {
    const dir = tempDir(t);
    const temp = ownTemp(await deadPid());
    assert.ok(isTempName(temp));
    fs.writeFileSync(path.join(dir, temp), 'half');
    fs.writeFileSync(path.join(dir, `${STAMP}-0`), 'a record');
    assert.deepEqual(await sweep(dir), [{ name: temp, path: path.join(dir, temp), reason: 'writer-dead' }]);
    assert.deepEqual(list(dir), [`${STAMP}-0`]);
  });

  test(`${name} keeps a temp whose writer process is alive, however old`, async (t) => {
    const dir = tempDir(t);
    const child = spawn(process.execPath, ['-e', 'process.stdin.resume()'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const exited = waitExit(child);
    t.after(async () => {
      child.stdin!.end();
      await exited;
    });
    const temp = ownTemp(child.pid as number);
    fs.writeFileSync(path.join(dir, temp), 'in progress');
    const old = new Date(Date.now() - 48 * 3600_000);
    fs.utimesSync(path.join(dir, temp), old, old);
    assert.deepEqual(await sweep(dir, { olderThanMs: 0 }), []);
    assert.deepEqual(list(dir), [temp]);
  });

  test(`${name} keeps this process's own temps`, async (t) => {
    const dir = tempDir(t);
    const temp = ownTemp(process.pid);
    fs.writeFileSync(path.join(dir, temp), 'mine');
    assert.deepEqual(await sweep(dir), []);
    assert.deepEqual(list(dir), [temp]);
  });

  test(`${name} removes another host's temp older than olderThanMs and keeps a fresh one`, async (t) => {
    const dir = tempDir(t);
    const oldTemp = `.quire-4242-0123456789ab-elsewhere.example`;
    const freshTemp = `.quire-4243-0123456789ab-elsewhere.example`;
    fs.writeFileSync(path.join(dir, oldTemp), 'abandoned');
    fs.writeFileSync(path.join(dir, freshTemp), 'in progress');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(path.join(dir, oldTemp), twoHoursAgo, twoHoursAgo);
    assert.deepEqual(await sweep(dir, { olderThanMs: 3600_000 }), [
      { name: oldTemp, path: path.join(dir, oldTemp), reason: 'too-old' },
    ]);
    assert.deepEqual(list(dir), [freshTemp]);
  });

  // A pid is only worth asking about on the host (boot, pid namespace) that made it: anywhere else it may be dead
  // or alive by coincidence.
  for (const [kind, temp] of [
    ['of another host id', (pid: number) => `.quire-${pid}-0123456789ab+ffffffffffffffff`],
    [
      'named by an earlier version, with this host name',
      (pid: number) => `.quire-${pid}-0123456789ab-${os.hostname().replace(/[^A-Za-z0-9.-]/g, '_')}`,
    ],
  ] as const) {
    test(`${name} judges a temp ${kind} by its age alone, though its pid is dead here`, async (t) => {
      const dir = tempDir(t);
      const pid = await deadPid();
      const fresh = temp(pid);
      const old = temp(pid + 1);
      fs.writeFileSync(path.join(dir, fresh), 'maybe in progress elsewhere');
      fs.writeFileSync(path.join(dir, old), 'abandoned');
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
      fs.utimesSync(path.join(dir, old), twoHoursAgo, twoHoursAgo);
      assert.deepEqual(await sweep(dir), [{ name: old, path: path.join(dir, old), reason: 'too-old' }]);
      assert.deepEqual(list(dir), [fresh]);
    });
  }
}

test('processes that see the same pids share a host id; a pid namespace or QUIRE_HOST_ID makes another', async (t) => {
  const dir = tempDir(t);
  const idOf = async (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await waitExit(
      spawn(cmd, [...args, path.join(fixturesDir, 'sweep-temps.js'), dir], {
        env: { ...process.env, ...env },
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { hostId: string }).hostId;
  };
  assert.match(hostId(), /^[0-9a-f]{16}$/);
  assert.equal(await idOf(process.execPath, []), hostId());
  assert.notEqual(await idOf(process.execPath, [], { QUIRE_HOST_ID: 'container-7' }), hostId());
  if (!requireOrSkip(t, isRoot && hasCommand('unshare'), 'a pid namespace needs root and unshare(1)')) return;
  assert.notEqual(await idOf('unshare', ['--pid', '--fork', '--mount-proc', process.execPath]), hostId());
});

test('two hosts with one host name: a sweep on one never removes the live temp of a writer on the other (issue 13)', async (t) => {
  // The second "host" is a pid namespace on this machine, as containers are: the same host name, the same
  // machine-id and boot, but the writer's pid means nothing there (kill(pid, 0) answers ESRCH). Before host ids,
  // the sweep there removed the writer's temp as "writer dead", and the writer then failed with ENOENT in link.
  if (!requireOrSkip(t, isRoot && hasCommand('unshare'), 'a pid namespace needs root and unshare(1)')) return;
  const dir = tempDir(t);
  // A named temp, as on GlusterFS, which has no O_TMPFILE (with it, the native path's temp has no name to sweep).
  const writer = spawnFixtureWithStdin('hold-publish', [dir], { env: { QUIRE_FS_NO_TMPFILE: '1' } });
  const exited = waitExit(writer);
  const lines: string[] = [];
  const held = new Promise<string>((resolve, reject) => {
    onLines(writer.stdout!, (line) => {
      lines.push(line);
      if (line.startsWith('temp ')) resolve(line.slice(5));
    });
    exited.then((r) => reject(new Error(`writer exited early: ${r.code} ${r.stderr}`)), reject);
  });
  let temp: string;
  try {
    temp = await held;
    assert.ok(isTempName(temp), `no temp in the writer's directory: ${temp}`);
    const sweeper = await waitExit(
      spawn('unshare', [
        '--pid',
        '--fork',
        '--mount-proc',
        process.execPath,
        path.join(fixturesDir, 'sweep-temps.js'),
        dir,
      ]),
    );
    assert.equal(sweeper.code, 0, sweeper.stderr);
    const { swept } = JSON.parse(sweeper.stdout) as { swept: string[][] };
    assert.deepEqual(swept, [], "the other host swept a live writer's temp");
    assert.ok(list(dir).includes(temp));
  } finally {
    writer.stdin!.end();
  }
  const r = await exited;
  assert.equal(r.code, 0, r.stderr);
  const outcome = JSON.parse(lines.at(-1) as string) as { ok: boolean; message?: string };
  assert.equal(outcome.ok, true, outcome.message);
  assert.deepEqual(list(dir).filter(isTempName), []);
});
