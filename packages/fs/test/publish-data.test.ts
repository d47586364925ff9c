/** What the writers take: every form of data, invalid arguments, a failing data source, names too long. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  createExclusive,
  createExclusiveSync,
  createUnique,
  createUniqueSync,
  readComplete,
  readCompleteSync,
  replaceFile,
  replaceFileSync,
} from '@quire/fs';
import { tempDir } from './helpers.js';
import {
  asyncWriters,
  expectCode,
  file,
  isCode,
  list,
  nameless,
  ownTemp,
  STAMP,
  syncWriters,
  type Writer,
  writers,
} from './writers.js';

// ---- data forms ----

async function writesExactly(t: TestContext, ws: Writer[], data: () => unknown, bytes: Buffer) {
  for (const w of ws) {
    const dir = tempDir(t);
    const p = await w.call(dir, data());
    assert.deepEqual(fs.readFileSync(p), bytes, `${w.name} wrote other bytes`);
    assert.deepEqual(list(dir), [path.basename(p)], `${w.name} left something else`);
  }
}

test('a string is written as UTF-8', async (t) => {
  await writesExactly(t, writers, () => 'héllo ✓\n', Buffer.from('héllo ✓\n', 'utf8'));
});

test('a Buffer is written byte for byte', async (t) => {
  const b = Buffer.from([0, 1, 2, 255, 0, 10, 13, 0]);
  await writesExactly(t, writers, () => b, b);
});

test('a Uint16Array(4) writes its 8 bytes, not 4', async (t) => {
  const a = new Uint16Array([1, 0x0203, 0xfffe, 0x4142]);
  const bytes = Buffer.from(a.buffer);
  assert.equal(bytes.length, 8);
  await writesExactly(t, writers, () => a, bytes);
});

test('a DataView writes exactly the bytes it views', async (t) => {
  const whole = Uint8Array.from([9, 9, 9, 1, 2, 3, 4, 5, 9, 9]);
  const view = new DataView(whole.buffer, 3, 5);
  await writesExactly(t, writers, () => view, Buffer.from([1, 2, 3, 4, 5]));
});

test('a sync iterable of chunks is written in order', async (t) => {
  function* chunks() {
    yield 'one,';
    yield Buffer.from('two,');
    yield new DataView(Uint8Array.from([0x78, 0x33, 0x78]).buffer, 1, 1); // '3'
    yield new Uint16Array([0x2c34]); // '4,' on a little-endian machine
    yield new Uint8Array([0x35]); // '5'
  }
  const expected = Buffer.concat([
    Buffer.from('one,two,3'),
    Buffer.from(new Uint16Array([0x2c34]).buffer),
    Buffer.from('5'),
  ]);
  await writesExactly(t, writers, chunks, expected);
});

test('an async iterable of chunks is written in order by the async API', async (t) => {
  async function* chunks() {
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      yield i % 2 ? Buffer.from(`${i};`) : `${i};`;
    }
  }
  const expected = Buffer.from(Array.from({ length: 20 }, (_, i) => `${i};`).join(''));
  await writesExactly(t, asyncWriters, chunks, expected);
});

test('the sync API refuses an async iterable with ERR_INVALID_ARG and writes nothing', async (t) => {
  async function* chunks() {
    yield 'never';
  }
  for (const w of syncWriters) {
    const dir = tempDir(t);
    await expectCode(w, 'ERR_INVALID_ARG', dir, chunks());
    assert.deepEqual(list(dir), [], `${w.name} wrote something`);
  }
});

// ---- invalid arguments ----

test('data that is not bytes, a string or an iterable of them is refused with ERR_INVALID_ARG and nothing is written', async (t) => {
  // The last two are iterables whose chunks are wrong: found only while writing, after the temp exists.
  for (const data of [42, null, undefined, true, { length: 3 }, [1, 2, 3], ['ok', {}]]) {
    for (const w of writers) {
      const dir = tempDir(t);
      await expectCode(w, 'ERR_INVALID_ARG', dir, data);
      assert.deepEqual(list(dir), [], `${w.name}(${JSON.stringify(data)}) left ${list(dir).join(', ')}`);
    }
  }
});

test('an invalid suffix is refused with ERR_INVALID_ARG and nothing is written', async (t) => {
  for (const suffix of ['json', '.', '../x', '.a/b', '.a b', `.${'x'.repeat(33)}`, 5, null]) {
    for (const w of [writers[0]!, writers[1]!]) {
      const dir = tempDir(t);
      await expectCode(w, 'ERR_INVALID_ARG', dir, 'x', { suffix });
      assert.deepEqual(list(dir), [], `${w.name} with suffix ${JSON.stringify(suffix)} wrote something`);
    }
  }
});

test('an invalid mode is refused with ERR_INVALID_ARG and nothing is written', async (t) => {
  for (const mode of [-1, 0o10000, 1.5, '0644', Number.NaN]) {
    for (const w of writers) {
      const dir = tempDir(t);
      await expectCode(w, 'ERR_INVALID_ARG', dir, 'x', { mode });
      assert.deepEqual(list(dir), [], `${w.name} with mode ${String(mode)} wrote something`);
    }
  }
});

test('an invalid time is refused with ERR_INVALID_ARG and nothing is written', async (t) => {
  const times = [
    Number.NaN,
    -1,
    Number.POSITIVE_INFINITY,
    253402300800000,
    'yesterday',
    new Date('no'),
    () => 'x',
  ];
  for (const time of times) {
    for (const w of [writers[0]!, writers[1]!]) {
      const dir = tempDir(t);
      await expectCode(w, 'ERR_INVALID_ARG', dir, 'x', { time });
      assert.deepEqual(list(dir), [], `${w.name} with time ${String(time)} wrote something`);
    }
  }
});

test('options that are not an object and paths that are not non-empty strings are refused with ERR_INVALID_ARG', async (t) => {
  for (const w of writers) {
    const dir = tempDir(t);
    await expectCode(w, 'ERR_INVALID_ARG', dir, 'x', 5);
    assert.deepEqual(list(dir), []);
  }
  for (const bad of ['', 'a\0b', 42, undefined]) {
    assert.throws(() => createUniqueSync(bad as string, 'x'), isCode('ERR_INVALID_ARG'));
    await assert.rejects(createUnique(bad as string, 'x'), isCode('ERR_INVALID_ARG'));
    assert.throws(() => createExclusiveSync(bad as string, 'x'), isCode('ERR_INVALID_ARG'));
    await assert.rejects(createExclusive(bad as string, 'x'), isCode('ERR_INVALID_ARG'));
    assert.throws(() => replaceFileSync(bad as string, 'x'), isCode('ERR_INVALID_ARG'));
    await assert.rejects(replaceFile(bad as string, 'x'), isCode('ERR_INVALID_ARG'));
    assert.throws(() => readCompleteSync(bad as string), isCode('ERR_INVALID_ARG'));
    await assert.rejects(readComplete(bad as string), isCode('ERR_INVALID_ARG'));
  }
});

// ---- a failing data source ----

test('an async iterator that throws rejects with ERR_DATA_SOURCE, its error as cause, and leaves no file and no temp', async (t) => {
  const boom = new Error('source broke');
  async function* chunks() {
    yield 'a first chunk that reaches the temp';
    throw boom;
  }
  for (const w of asyncWriters) {
    const dir = tempDir(t);
    const err = await expectCode(w, 'ERR_DATA_SOURCE', dir, chunks());
    assert.equal(err.cause, boom);
    assert.deepEqual(list(dir), [], `${w.name} left ${list(dir).join(', ')}`);
  }
});

test('a sync iterator that throws fails with ERR_DATA_SOURCE, its error as cause, and leaves no file and no temp', async (t) => {
  const boom = new Error('source broke');
  function* chunks() {
    yield 'a first chunk that reaches the temp';
    throw boom;
  }
  for (const w of writers) {
    const dir = tempDir(t);
    const err = await expectCode(w, 'ERR_DATA_SOURCE', dir, chunks());
    assert.equal(err.cause, boom);
    assert.deepEqual(list(dir), [], `${w.name} left ${list(dir).join(', ')}`);
  }
});

test('replaceFile whose data source throws leaves the old file as it was', async (t) => {
  for (const w of writers.filter((x) => x.name.startsWith('replaceFile'))) {
    const dir = tempDir(t);
    fs.writeFileSync(file(dir), 'old');
    function* chunks() {
      yield 'new';
      throw new Error('broke');
    }
    await expectCode(w, 'ERR_DATA_SOURCE', dir, chunks());
    assert.equal(fs.readFileSync(file(dir), 'utf8'), 'old');
    assert.deepEqual(list(dir), ['file']);
  }
});

// ---- ENAMETOOLONG ----

test('a directory whose path leaves no room for the temp name fails with ENAMETOOLONG and leaves no temp', async (t) => {
  // An existing directory 4090 characters long: its own path is valid (PATH_MAX 4096), the temp's is not.
  let dir = tempDir(t);
  while (dir.length < 4090 - 201) dir = path.join(dir, 'd'.repeat(200));
  dir = path.join(dir, 'e'.repeat(4090 - dir.length - 1));
  assert.equal(dir.length, 4090);
  fs.mkdirSync(dir, { recursive: true });
  for (const w of writers) {
    if (nameless && w.name.startsWith('createExclusive')) {
      // No temp name to make room for: the unnamed inode takes the target's name, which fits.
      assert.equal(await w.call(dir, 'x'), path.join(dir, 'file'));
      fs.unlinkSync(path.join(dir, 'file'));
      continue;
    }
    const err = await expectCode(w, 'ENAMETOOLONG', dir, 'x');
    assert.match(err.message, /ENAMETOOLONG/);
    assert.deepEqual(list(dir), [], `${w.name} left ${list(dir).join(', ')}`);
  }
});

test('a name too long for its directory, where the temp still fits, fails with ENAMETOOLONG and leaves no temp', async (t) => {
  // The temp (.quire-<pid>-<12 hex>+<host id>) fits in PATH_MAX exactly; the record or target name is longer.
  const tempLength = ownTemp(process.pid).length;
  const suffix = `.${'s'.repeat(32)}`;
  // A record name is at most 51 characters here, longer than a temp's name.
  const recordFits = `${STAMP}-0${suffix}`.length <= tempLength;
  let dir = tempDir(t);
  const length = 4095 - 1 - tempLength;
  while (dir.length < length - 201) dir = path.join(dir, 'd'.repeat(200));
  dir = path.join(dir, 'e'.repeat(length - dir.length - 1));
  assert.equal(dir.length, length);
  fs.mkdirSync(dir, { recursive: true });
  const long = path.join(dir, 'f'.repeat(tempLength + 1));
  const calls: [string, () => unknown][] = [
    ...(recordFits
      ? []
      : ([
          ['createUniqueSync', () => createUniqueSync(dir, 'x', { suffix })],
          ['createUnique', () => createUnique(dir, 'x', { suffix })],
        ] as [string, () => unknown][])),
    ['createExclusiveSync', () => createExclusiveSync(long, 'x')],
    ['createExclusive', () => createExclusive(long, 'x')],
    ['replaceFileSync', () => replaceFileSync(long, 'x')],
    ['replaceFile', () => replaceFile(long, 'x')],
  ];
  for (const [name, call] of calls) {
    await assert.rejects(async () => call(), isCode('ENAMETOOLONG'), name);
    assert.deepEqual(list(dir), [], `${name} left ${list(dir).join(', ')}`);
  }
});
