/** The writers' ifAbsent: one look, after the data and the hook, before the name; what a refusal leaves. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  createExclusive,
  createExclusiveSync,
  createUnique,
  createUniqueSync,
  openSpool,
  QuireError,
  replaceFile,
  replaceFileSync,
} from '@quire/fs';
import { tempDir } from './helpers.js';

const isCode = (code: string) => (err: unknown) => err instanceof QuireError && err.code === code;

test('createUnique with ifAbsent: published while the path is missing (or its directory is), refused once it exists', async (t) => {
  const dir = tempDir(t);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const marker = path.join(dir, 'marks', 'm');
  const first = await createUnique(out, 'one', { suffix: '.txt', ifAbsent: marker });
  assert.deepEqual(fs.readdirSync(out), [first.name], 'a missing parent directory counts as absent');
  fs.mkdirSync(path.dirname(marker));
  const second = createUniqueSync(out, 'two', { suffix: '.txt', ifAbsent: marker });
  fs.writeFileSync(marker, '');
  await assert.rejects(createUnique(out, 'three', { suffix: '.txt', ifAbsent: marker }), (err) => {
    assert.ok(isCode('ERR_PRECONDITION')(err), String(err));
    assert.equal((err as QuireError).path, marker);
    return true;
  });
  assert.throws(() => createUniqueSync(out, 'four', { ifAbsent: marker }), isCode('ERR_PRECONDITION'));
  assert.deepEqual(fs.readdirSync(out).sort(), [first.name, second.name].sort(), 'no record, no temp left');
  fs.rmSync(marker);
  fs.symlinkSync('nowhere', marker);
  await assert.rejects(
    createUnique(out, 'five', { ifAbsent: marker }),
    isCode('ERR_PRECONDITION'),
    'a dangling symlink exists',
  );
});

test('ifAbsent is looked at after beforePublish: a hook that makes the path vetoes the publish', async (t) => {
  const dir = tempDir(t);
  const marker = path.join(dir, 'marker');
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  await assert.rejects(
    createUnique(out, 'x', { ifAbsent: marker, beforePublish: () => fs.writeFileSync(marker, '') }),
    isCode('ERR_PRECONDITION'),
  );
  assert.deepEqual(fs.readdirSync(out), []);
});

test('createExclusive and replaceFile with ifAbsent: refused, the target as it was', async (t) => {
  const dir = tempDir(t);
  const marker = path.join(dir, 'marker');
  fs.writeFileSync(marker, '');
  const target = path.join(dir, 'target');
  await assert.rejects(createExclusive(target, 'x', { ifAbsent: marker }), isCode('ERR_PRECONDITION'));
  assert.throws(() => createExclusiveSync(target, 'x', { ifAbsent: marker }), isCode('ERR_PRECONDITION'));
  assert.equal(fs.existsSync(target), false);
  fs.writeFileSync(target, 'old');
  await assert.rejects(replaceFile(target, 'new', { ifAbsent: marker }), isCode('ERR_PRECONDITION'));
  assert.throws(() => replaceFileSync(target, 'new', { ifAbsent: marker }), isCode('ERR_PRECONDITION'));
  assert.equal(fs.readFileSync(target, 'utf8'), 'old');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['marker', 'target'], 'no temp left');
  fs.rmSync(marker);
  await replaceFile(target, 'new', { ifAbsent: marker });
  assert.equal(fs.readFileSync(target, 'utf8'), 'new');
});

test('ifAbsent: a look that fails otherwise fails the call with its errno; a bad argument is ERR_INVALID_ARG', async (t) => {
  const dir = tempDir(t);
  const loop = path.join(dir, 'loop');
  fs.symlinkSync('loop', loop);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  await assert.rejects(createUnique(out, 'x', { ifAbsent: path.join(loop, 'm') }), isCode('ELOOP'));
  assert.deepEqual(fs.readdirSync(out), []);
  await assert.rejects(createUnique(out, 'x', { ifAbsent: '' }), isCode('ERR_INVALID_ARG'));
  await assert.rejects(
    createUnique(out, 'x', { ifAbsent: 7 as unknown as string }),
    isCode('ERR_INVALID_ARG'),
  );
  assert.deepEqual(fs.readdirSync(out), []);
});

test('Spool.append with ifAbsent: appended or refused; not with a key', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(path.join(dir, 's'), { suffix: '.json' });
  const marker = path.join(dir, 'marker');
  const a = await spool.append('{}', { ifAbsent: marker });
  fs.writeFileSync(marker, '');
  await assert.rejects(spool.append('{}', { ifAbsent: marker }), isCode('ERR_PRECONDITION'));
  await assert.rejects(spool.append('{}', { ifAbsent: marker, key: 'k' }), isCode('ERR_INVALID_ARG'));
  assert.deepEqual(await spool.list(), [a.id]);
});
