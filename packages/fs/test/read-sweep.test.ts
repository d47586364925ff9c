/** readComplete and sweepTemps. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  createUniqueSync,
  isTempName,
  readComplete,
  readCompleteSync,
  sweepTemps,
  sweepTempsSync,
} from '@quire/fs';
import { onLines, spawnFixtureWithStdin, tempDir, waitExit } from './helpers.js';
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
}
