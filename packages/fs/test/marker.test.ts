/** createMarker: exactly one maker per name across processes, durable when asked, anchors past a link limit. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createMarker, QuireError } from '@quire/fs';
import { cannotMountImages, mountExt4Image } from '@quire/testkit';
import { onLines, requireOrSkip, spawnFixtureWithStdin, tempDir, waitExit } from './helpers.js';

const isCode = (code: string) => (err: unknown) => err instanceof QuireError && err.code === code;

test('createMarker makes a missing marker (true) once, and finds it thereafter (false); the directory is created', async (t) => {
  const dir = path.join(tempDir(t), 'a', 'nonces');
  const file = path.join(dir, 'x');
  assert.equal(await createMarker(file), true);
  assert.equal(await createMarker(file), false);
  assert.equal(await createMarker(file, { durable: false }), false);
  assert.equal(await createMarker(path.join(dir, 'y'), { durable: false }), true);
  // No inode per marker: every marker is a link to the one anchor, which is empty.
  const anchor = fs.statSync(path.join(dir, '.anchor-0'));
  assert.equal(fs.statSync(file).ino, anchor.ino);
  assert.equal(fs.statSync(path.join(dir, 'y')).ino, anchor.ino);
  assert.equal(anchor.size, 0);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['.anchor-0', 'x', 'y']);
});

test('createMarker refuses bad arguments and anchor names with ERR_INVALID_ARG', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(createMarker(''), isCode('ERR_INVALID_ARG'));
  await assert.rejects(createMarker(path.join(dir, '.anchor-3')), isCode('ERR_INVALID_ARG'));
  await assert.rejects(
    createMarker(path.join(dir, 'x'), { durable: 1 as unknown as boolean }),
    isCode('ERR_INVALID_ARG'),
  );
  fs.writeFileSync(path.join(dir, 'file'), '');
  await assert.rejects(createMarker(path.join(dir, 'file', 'x')), isCode('ENOTDIR'));
});

test('many concurrent createMarker calls for one name in this process: exactly one true', async (t) => {
  const file = path.join(tempDir(t), 'm', 'x');
  const made = await Promise.all(Array.from({ length: 32 }, () => createMarker(file, { durable: false })));
  assert.equal(made.filter(Boolean).length, 1);
});

for (const durable of [false, true]) {
  test(`two processes making the same ${durable ? 'durable ' : ''}markers at once: exactly one gets true for each`, async (t) => {
    // No directory yet: both processes also race to create it and its anchor.
    const dir = path.join(tempDir(t), 'markers');
    const N = 300;
    const children = [0, 1].map(() => spawnFixtureWithStdin('mark', [dir, String(N), durable ? '1' : '0']));
    const exits = children.map((c) => waitExit(c));
    await Promise.all(
      children.map(
        (c) => new Promise<void>((resolve) => onLines(c.stdout as NodeJS.ReadableStream, () => resolve())),
      ),
    );
    for (const c of children) c.stdin?.end('go\n');
    const results = await Promise.all(exits);
    const won = results.map((r) => {
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as number[];
    });
    const all = [...(won[0] as number[]), ...(won[1] as number[])].sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: N }, (_, i) => i),
      'each marker made by exactly one process',
    );
    t.diagnostic(`process 0 made ${won[0]?.length}, process 1 made ${won[1]?.length}`);
  });
}

test('at the link limit of an anchor (EMLINK on ext4, 65,000 links) markers move on to another anchor', async (t) => {
  const reason = cannotMountImages();
  if (!requireOrSkip(t, reason === null, reason ?? '')) return;
  const dir = path.join(mountExt4Image(t, 64), 'markers');
  fs.mkdirSync(dir);
  const full = path.join(dir, '.anchor-0');
  fs.writeFileSync(full, '');
  let links = 1;
  for (; ; links++) {
    try {
      fs.linkSync(full, path.join(dir, `l${links}`));
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'EMLINK');
      break;
    }
  }
  t.diagnostic(`the anchor took ${links} links`);
  assert.equal(await createMarker(path.join(dir, 'x')), true);
  assert.equal(await createMarker(path.join(dir, 'x')), false);
  assert.equal(await createMarker(path.join(dir, 'y')), true);
  const moved = fs.statSync(path.join(dir, 'x')).ino;
  assert.notEqual(moved, fs.statSync(full).ino);
  assert.equal(
    fs.statSync(path.join(dir, 'y')).ino,
    moved,
    'the next marker goes straight to the new anchor',
  );
  assert.ok(fs.readdirSync(dir).some((n) => n.startsWith('.anchor-') && n !== '.anchor-0'));
});

test('an anchor gets at most 64 links from this library (GlusterFS caps links at 100): markers roll over to the next, and a process starting later passes the full one without a link', async (t) => {
  const dir = path.join(tempDir(t), 'nonces');
  for (let i = 0; i < 80; i++)
    assert.equal(await createMarker(path.join(dir, `n${i}`), { durable: false }), true);
  const first = fs.statSync(path.join(dir, '.anchor-0'));
  assert.equal(first.nlink, 64, 'the first anchor took more links than it should');
  const second = fs.statSync(path.join(dir, '.anchor-1'));
  assert.equal(second.nlink, 80 - 63 + 1);
  assert.equal(fs.statSync(path.join(dir, 'n79')).ino, second.ino);

  const child = spawnFixtureWithStdin('mark', [dir, '5', '0']);
  const exited = waitExit(child);
  const lines: string[] = [];
  onLines(child.stdout!, (line) => {
    lines.push(line);
    if (line === 'ready') child.stdin!.write('go\n');
  });
  const r = await exited;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(lines.at(-1) as string), [0, 1, 2, 3, 4]);
  assert.equal(
    fs.statSync(path.join(dir, '.anchor-0')).nlink,
    64,
    'a later process linked to the full anchor',
  );
  assert.equal(fs.statSync(path.join(dir, 'm0')).ino, second.ino);
});
