/** removeFile: unlink with a durable directory, and exactly one winner among concurrent removers. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createExclusive, QuireError, removeFile } from '@quire/fs';
import { tempDir } from './helpers.js';

test('removeFile removes a file once: true, then false', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'vote');
  await createExclusive(file, 'x');
  assert.equal(await removeFile(file), true);
  assert.equal(fs.existsSync(file), false);
  assert.equal(await removeFile(file), false, 'nothing left to remove');
  await createExclusive(file, 'y');
  assert.equal(await removeFile(file, { durable: false }), true);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('of concurrent removeFile calls for one name exactly one gets true', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'vote');
  await createExclusive(file, 'x');
  const results = await Promise.all(Array.from({ length: 8 }, () => removeFile(file)));
  assert.equal(results.filter((r) => r).length, 1);
});

test('removeFile refuses a directory and bad arguments with a QuireError', async (t) => {
  const dir = tempDir(t);
  const sub = path.join(dir, 'sub');
  fs.mkdirSync(sub);
  await assert.rejects(removeFile(sub), (err: unknown) => err instanceof QuireError);
  assert.ok(fs.statSync(sub).isDirectory(), 'the directory is still there');
  await assert.rejects(removeFile(''), (err: unknown) => err instanceof QuireError);
  await assert.rejects(
    removeFile(path.join(dir, 'f'), { durable: 'yes' as unknown as boolean }),
    (err: unknown) => err instanceof QuireError,
  );
});
