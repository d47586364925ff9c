/** The public API's behaviour, one behaviour per test, each over every writer it applies to. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  createExclusive,
  createExclusiveSync,
  createUnique,
  createUniqueSync,
  isTempName,
  parseName,
  QuireError,
  readComplete,
  readCompleteSync,
  replaceFile,
  replaceFileSync,
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

const T = Date.UTC(2026, 10, 26, 10, 15, 0, 999); // 2026-11-26T10:15:00.999Z
const STAMP = '20261126T101500Z';

const list = (dir: string) => fs.readdirSync(dir).sort();
const isCode = (code: string) => (err: unknown) => err instanceof QuireError && err.code === code;

/** One of the six publishing calls, given a directory to work in. Async ones return the API's own promise. */
interface Writer {
  name: string;
  sync: boolean;
  /** Calls the API on `dir` (unique) or `dir/file` (the others); returns the published path. */
  call(dir: string, data: any, opts?: any): string | Promise<string>;
}

const file = (dir: string) => path.join(dir, 'file');
const writers: Writer[] = [
  { name: 'createUniqueSync', sync: true, call: (d, data, o) => createUniqueSync(d, data, o).path },
  { name: 'createUnique', sync: false, call: (d, data, o) => createUnique(d, data, o).then((r) => r.path) },
  {
    name: 'createExclusiveSync',
    sync: true,
    call: (d, data, o) => {
      createExclusiveSync(file(d), data, o);
      return file(d);
    },
  },
  {
    name: 'createExclusive',
    sync: false,
    call: (d, data, o) => createExclusive(file(d), data, o).then(() => file(d)),
  },
  {
    name: 'replaceFileSync',
    sync: true,
    call: (d, data, o) => {
      replaceFileSync(file(d), data, o);
      return file(d);
    },
  },
  {
    name: 'replaceFile',
    sync: false,
    call: (d, data, o) => replaceFile(file(d), data, o).then(() => file(d)),
  },
];
const syncWriters = writers.filter((w) => w.sync);
const asyncWriters = writers.filter((w) => !w.sync);

/**
 * The error a writer fails with: a sync writer must throw, an async one must reject (never throw synchronously).
 */
async function failure(w: Writer, dir: string, data: unknown, opts?: unknown): Promise<unknown> {
  let result: string | Promise<string>;
  try {
    result = w.call(dir, data, opts);
  } catch (err) {
    if (w.sync) return err;
    assert.fail(`${w.name} threw synchronously instead of rejecting: ${String(err)}`);
  }
  assert.ok(!w.sync, `${w.name} did not throw`);
  try {
    await result;
  } catch (err) {
    return err;
  }
  assert.fail(`${w.name} resolved`);
}

async function expectCode(w: Writer, code: string, dir: string, data: unknown, opts?: unknown) {
  const err = await failure(w, dir, data, opts);
  assert.ok(err instanceof QuireError, `${w.name}: not a QuireError: ${String(err)}`);
  assert.equal(err.code, code, `${w.name}: ${err.message}`);
  return err;
}

// ---- names ----

for (const [what, time] of [
  ['a Date', new Date(T)],
  ['epoch milliseconds', T],
  ['a function returning a Date', () => new Date(T)],
  ['a function returning milliseconds', () => T],
] as const) {
  test(`createUnique names a record YYYYMMDDTHHMMSSZ-N after the UTC second of opts.time given as ${what}`, async (t) => {
    const dir = tempDir(t);
    const a = createUniqueSync(dir, 'a', { time });
    const b = await createUnique(dir, 'b', { time });
    assert.deepEqual(a, { name: `${STAMP}-0`, path: path.join(dir, `${STAMP}-0`), attempts: 1 });
    assert.deepEqual(b, { name: `${STAMP}-1`, path: path.join(dir, `${STAMP}-1`), attempts: 1 });
    assert.equal(fs.readFileSync(a.path, 'utf8'), 'a');
    assert.equal(fs.readFileSync(b.path, 'utf8'), 'b');
  });
}

test('createUnique without opts.time names the record after the current second', async (t) => {
  const dir = tempDir(t);
  const before = Math.floor(Date.now() / 1000) * 1000;
  const { name } = await createUnique(dir, 'now');
  const after = Date.now();
  const parsed = parseName(name);
  assert.ok(parsed, `${name} is not a record name`);
  assert.ok(parsed.time >= before && parsed.time <= after, `${name} is not stamped with the current second`);
});

test('the first record in a second is -0, then -1, -2, and a new second starts again at -0', async (t) => {
  const dir = tempDir(t);
  const names = [
    createUniqueSync(dir, '0', { time: T }).name,
    (await createUnique(dir, '1', { time: T })).name,
    createUniqueSync(dir, '2', { time: T }).name,
    createUniqueSync(dir, 'next second', { time: T + 1000 }).name,
  ];
  assert.deepEqual(names, [`${STAMP}-0`, `${STAMP}-1`, `${STAMP}-2`, '20261126T101501Z-0']);
});

test('createUnique appends opts.suffix after the counter', async (t) => {
  const dir = tempDir(t);
  assert.equal(createUniqueSync(dir, 'x', { time: T, suffix: '.json' }).name, `${STAMP}-0.json`);
  assert.equal((await createUnique(dir, 'y', { time: T, suffix: '.tar.gz' })).name, `${STAMP}-0.tar.gz`);
});

for (const w of [writers[0]!, writers[1]!]) {
  test(`${w.name} never overwrites an existing file of the candidate name`, async (t) => {
    const dir = tempDir(t);
    fs.writeFileSync(path.join(dir, `${STAMP}-0`), 'by hand 0');
    fs.writeFileSync(path.join(dir, `${STAMP}-1`), 'by hand 1');
    const r = w.sync
      ? createUniqueSync(dir, 'mine', { time: T })
      : await createUnique(dir, 'mine', { time: T });
    // Another name of the same second (which one is the counter probe's guess), the two by hand untouched.
    assert.equal(parseName(r.name)?.stamp, STAMP);
    assert.ok(![`${STAMP}-0`, `${STAMP}-1`].includes(r.name), `${r.name} was taken`);
    assert.equal(r.path, path.join(dir, r.name));
    assert.equal(fs.readFileSync(path.join(dir, `${STAMP}-0`), 'utf8'), 'by hand 0');
    assert.equal(fs.readFileSync(path.join(dir, `${STAMP}-1`), 'utf8'), 'by hand 1');
    assert.equal(fs.readFileSync(r.path, 'utf8'), 'mine');
    assert.deepEqual(list(dir), [`${STAMP}-0`, `${STAMP}-1`, r.name].sort());
  });
}

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

// ---- createExclusive ----

for (const w of writers.filter((x) => x.name.startsWith('createExclusive'))) {
  test(`${w.name} creates the file when the name is free`, async (t) => {
    const dir = tempDir(t);
    assert.equal(await w.call(dir, 'first'), file(dir));
    assert.equal(fs.readFileSync(file(dir), 'utf8'), 'first');
    assert.deepEqual(list(dir), ['file']);
  });

  test(`${w.name} fails with EEXIST when the file exists, leaving its content untouched and no temp`, async (t) => {
    const dir = tempDir(t);
    fs.writeFileSync(file(dir), 'already here');
    const err = await expectCode(w, 'EEXIST', dir, 'second');
    assert.equal(err.path, file(dir));
    assert.equal(fs.readFileSync(file(dir), 'utf8'), 'already here');
    assert.deepEqual(list(dir), ['file']);
  });
}

// ---- modes ----

const replacers = writers.filter((x) => x.name.startsWith('replaceFile'));
const modeOf = (p: string) => fs.statSync(p).mode & 0o7777;

for (const w of replacers) {
  test(`${w.name} keeps the mode of the file it replaces`, async (t) => {
    const dir = tempDir(t);
    fs.writeFileSync(file(dir), 'old');
    fs.chmodSync(file(dir), 0o640);
    await w.call(dir, 'new');
    assert.equal(fs.readFileSync(file(dir), 'utf8'), 'new');
    assert.equal(modeOf(file(dir)).toString(8), '640');
  });

  test(`${w.name} with opts.mode sets exactly that mode on an existing file`, async (t) => {
    const dir = tempDir(t);
    fs.writeFileSync(file(dir), 'old');
    fs.chmodSync(file(dir), 0o640);
    await w.call(dir, 'new', { mode: 0o604 });
    assert.equal(modeOf(file(dir)).toString(8), '604');
  });

  test(`${w.name} creates a missing file`, async (t) => {
    const dir = tempDir(t);
    await w.call(dir, 'fresh');
    assert.equal(fs.readFileSync(file(dir), 'utf8'), 'fresh');
    assert.deepEqual(list(dir), ['file']);
  });
}

test('opts.mode sets exactly that mode on a new file, whatever the umask', async (t) => {
  // 0o666 loses bits under any umask but 0 (the usual is 0o022): exact means the umask does not apply.
  for (const mode of [0o666, 0o600, 0o640]) {
    for (const w of writers) {
      const dir = tempDir(t);
      const p = await w.call(dir, 'x', { mode });
      assert.equal(modeOf(p).toString(8), mode.toString(8), w.name);
    }
  }
});

test('opts.mode keeps its setuid and setgid bits for an unprivileged caller too', async (t) => {
  if (
    !requireOrSkip(t, isRoot && hasCommand('setpriv'), 'running a writer as nobody needs root and setpriv(1)')
  )
    return;
  const dir = tempDir(t);
  fs.chmodSync(dir, 0o777);
  const child = spawn(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      path.join(fixturesDir, 'fault-setid-mode.js'),
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const r = await waitExit(child);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    createUniqueSync: '6755',
    createUnique: '6755',
    createExclusiveSync: '6755',
    createExclusive: '6755',
    replaceFileSync: '6755',
    replaceFile: '6755',
    'replaceFileSync keeping 4755': '4755',
    'replaceFile keeping 4755': '4755',
  });
});

for (const w of replacers) {
  test(`${w.name} run by root keeps the owner, group and whole mode, setuid included, of another user's file`, async (t) => {
    if (!requireOrSkip(t, isRoot, "changing a file's owner needs root")) return;
    const dir = tempDir(t);
    fs.writeFileSync(file(dir), 'old');
    fs.chownSync(file(dir), 65534, 65534);
    fs.chmodSync(file(dir), 0o4755);
    await w.call(dir, 'new');
    const st = fs.statSync(file(dir));
    assert.equal(fs.readFileSync(file(dir), 'utf8'), 'new');
    assert.deepEqual([st.uid, st.gid], [65534, 65534], 'the owner changed');
    assert.equal((st.mode & 0o7777).toString(8), '4755');
  });
}

test('a new file without opts.mode gets the mode fs.writeFileSync would give it (0o666 less the umask)', async (t) => {
  const dir = tempDir(t);
  const reference = path.join(dir, 'reference');
  fs.writeFileSync(reference, '');
  for (const w of writers) {
    const sub = path.join(dir, w.name);
    fs.mkdirSync(sub);
    const p = await w.call(sub, 'x');
    assert.equal(modeOf(p).toString(8), modeOf(reference).toString(8), w.name);
  }
});

// ---- replaceFile ordering ----

test('async replaceFile calls to one path complete in call order, and the last content wins', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'file');
  const order: number[] = [];
  const calls = Array.from({ length: 50 }, (_, i) =>
    replaceFile(target, `content ${i}`).then(() => {
      order.push(i);
    }),
  );
  await Promise.all(calls);
  assert.deepEqual(
    order,
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.equal(fs.readFileSync(target, 'utf8'), 'content 49');
  assert.deepEqual(list(dir), ['file']);
});

// ---- durable: false ----

test('durable: false still publishes complete files', async (t) => {
  const content = Buffer.alloc(256 * 1024, 'q');
  for (const w of writers) {
    const dir = tempDir(t);
    const p = await w.call(dir, content, { durable: false });
    assert.deepEqual(fs.readFileSync(p), content, w.name);
    assert.deepEqual(list(dir), [path.basename(p)], w.name);
  }
});

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

/** The host part of this machine's temp names, as the library writes it. */
const thisHost =
  os
    .hostname()
    .replace(/[^A-Za-z0-9.-]/g, '_')
    .slice(0, 64) || 'localhost';

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
    const temp = `.quire-${await deadPid()}-0123456789ab-${thisHost}`;
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
    const temp = `.quire-${child.pid}-0123456789ab-${thisHost}`;
    fs.writeFileSync(path.join(dir, temp), 'in progress');
    const old = new Date(Date.now() - 48 * 3600_000);
    fs.utimesSync(path.join(dir, temp), old, old);
    assert.deepEqual(await sweep(dir, { olderThanMs: 0 }), []);
    assert.deepEqual(list(dir), [temp]);
  });

  test(`${name} keeps this process's own temps`, async (t) => {
    const dir = tempDir(t);
    const temp = `.quire-${process.pid}-0123456789ab-${thisHost}`;
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

// ---- ENAMETOOLONG ----

test('a directory whose path leaves no room for the temp name fails with ENAMETOOLONG and leaves no temp', async (t) => {
  // An existing directory 4090 characters long: its own path is valid (PATH_MAX 4096), the temp's is not.
  let dir = tempDir(t);
  while (dir.length < 4090 - 201) dir = path.join(dir, 'd'.repeat(200));
  dir = path.join(dir, 'e'.repeat(4090 - dir.length - 1));
  assert.equal(dir.length, 4090);
  fs.mkdirSync(dir, { recursive: true });
  for (const w of writers) {
    const err = await expectCode(w, 'ENAMETOOLONG', dir, 'x');
    assert.match(err.message, /ENAMETOOLONG/);
    assert.deepEqual(list(dir), [], `${w.name} left ${list(dir).join(', ')}`);
  }
});

test('a name too long for its directory, where the temp still fits, fails with ENAMETOOLONG and leaves no temp', async (t) => {
  // The temp (.quire-<pid>-<12 hex>-<host>) fits in PATH_MAX exactly; the record or target name is longer.
  const tempLength = `.quire-${process.pid}-0123456789ab-${thisHost}`.length;
  const suffix = `.${'s'.repeat(32)}`;
  // A record name is at most 51 characters here; a long host name makes the temp's longer still.
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
