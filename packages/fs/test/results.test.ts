/**
 * Each call gets its own result when many are in flight. The native path hands every call's numbers in and its
 * results out through one array (src/native-publish.ts, `io`), and the addon answers finished jobs in batches:
 * a callback that read its result a moment late would report another call's name, counter or error. Runs
 * against whichever protocol is chosen (npm test runs the suite natively and as pure JS).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createExclusive, createUnique, createUniqueSync, replaceFile } from '@quire/fs';
import { tempDir } from './helpers.js';

const T = Date.UTC(2026, 10, 26, 10, 15, 0);

test('64 calls of three writers in flight, a third of them failing, each settle with their own result', async (t) => {
  const dir = tempDir(t);
  const taken = path.join(dir, 'taken');
  fs.mkdirSync(taken);
  for (let i = 0; i < 16; i++) fs.writeFileSync(path.join(taken, `x${i}`), 'old');
  const calls = Array.from({ length: 64 }, async (_, i) => {
    const data = `call ${i}`;
    if (i % 4 === 0) return { i, data, r: await createUnique(dir, data, { time: T, suffix: '.u' }) };
    if (i % 4 === 1) return { i, data, r: await replaceFile(path.join(dir, `r${i}`), data) };
    if (i % 4 === 2) return { i, data, r: await createExclusive(path.join(dir, `e${i}`), data) };
    // A file that exists: rejects with EEXIST naming this call's path, not a neighbour's.
    const file = path.join(taken, `x${(i - 3) / 4}`);
    const err = await createExclusive(file, data).then(
      () => assert.fail(`call ${i} published over ${file}`),
      (e: unknown) => e as { code?: string; path?: string },
    );
    assert.equal(err.code, 'EEXIST');
    assert.equal(err.path, file);
    return undefined;
  });
  const done = (await Promise.all(calls)).filter((c) => c !== undefined);
  assert.equal(done.length, 48);
  for (const { i, data, r } of done) {
    assert.equal(fs.readFileSync(r.path, 'utf8'), data, `call ${i}: ${r.path}`);
    assert.equal(path.basename(r.path), r.name);
  }
  const uniques = done.filter(({ i }) => i % 4 === 0).map(({ r }) => r.name);
  assert.equal(new Set(uniques).size, 16);
  for (let i = 0; i < 16; i++) assert.equal(fs.readFileSync(path.join(taken, `x${i}`), 'utf8'), 'old');
});

test('a sync call made inside an async call’s continuation does not disturb the results of calls still in flight', async (t) => {
  const dir = tempDir(t);
  const sync: string[] = [];
  const calls = Array.from({ length: 32 }, (_, i) =>
    createUnique(dir, `async ${i}`, { time: T }).then((r) => {
      const s = createUniqueSync(dir, `sync ${i}`, { time: T });
      sync.push(`${s.name} sync ${i}`);
      return `${r.name} async ${i}`;
    }),
  );
  const all = [...(await Promise.all(calls)), ...sync];
  for (const line of all) {
    const [name, ...data] = line.split(' ');
    assert.equal(fs.readFileSync(path.join(dir, name as string), 'utf8'), data.join(' '));
  }
  assert.equal(new Set(all.map((l) => l.split(' ')[0])).size, 64);
});
