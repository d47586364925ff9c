/**
 * Spool.appendBatch: keyed appends to several spools that share their directory fsyncs, without giving up the
 * order of durable steps a single keyed append has (intent durable before the record exists, record durable
 * before the promise resolves), and with the same idempotence.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isQuireError, isTempName, openSpool, Spool } from '@quire/fs';
import {
  canStrace,
  onLines,
  parseStrace,
  requireOrSkip,
  type Syscall,
  spawnFixture,
  spawnFixtureTraced,
  tempDir,
  waitExit,
} from './helpers.js';

const time = Date.UTC(2026, 10, 26, 10, 15, 0);
const records = (dir: string) => fs.readdirSync(dir).filter((n) => !n.startsWith('.'));

test('a batch appends to several spools in order, and running it again finds every record and writes nothing', async (t) => {
  const root = tempDir(t);
  const a = await openSpool(path.join(root, 'a'), { suffix: '.txt' });
  const b = await openSpool(path.join(root, 'b'), { suffix: '.txt' });
  const batch = [
    { spool: a, data: 'a0', key: 'k-a0', time },
    { spool: b, data: 'b0', key: 'k-b0', time },
    { spool: a, data: 'a1', key: 'k-a1', time },
    { spool: a, data: Buffer.from('a2'), key: 'k-a2', time },
  ];
  const first = await Spool.appendBatch(batch);
  // One second in one spool: numbered in the batch's order.
  assert.deepEqual(
    first.map((r) => r.id),
    ['20261126T101500Z-0.txt', '20261126T101500Z-0.txt', '20261126T101500Z-1.txt', '20261126T101500Z-2.txt'],
  );
  assert.ok(first.every((r) => r.created));
  assert.deepEqual(await Promise.all(first.map((r, i) => batch[i]!.spool.get(r.id).then(String))), [
    'a0',
    'b0',
    'a1',
    'a2',
  ]);
  const again = await Spool.appendBatch(batch);
  assert.deepEqual(
    again,
    first.map((r) => ({ id: r.id, created: false })),
  );
  // A single append with a key of the batch finds the batch's record.
  assert.deepEqual(await a.append('a1', { key: 'k-a1' }), { id: first[2]!.id, created: false });
  assert.equal(records(a.dir).length, 3);
  assert.equal(records(b.dir).length, 1);
});

test('a batch naming one key twice, or a spool that is not one, is refused and writes nothing', async (t) => {
  const root = tempDir(t);
  const a = await openSpool(path.join(root, 'a'));
  await assert.rejects(
    Spool.appendBatch([
      { spool: a, data: 'x', key: 'same' },
      { spool: a, data: 'y', key: 'same' },
    ]),
    (err: unknown) => isQuireError(err, 'ERR_INVALID_ARG'),
  );
  await assert.rejects(Spool.appendBatch([{ spool: {} as Spool, data: 'x', key: 'k' }]), (err: unknown) =>
    isQuireError(err, 'ERR_INVALID_ARG'),
  );
  assert.deepEqual(records(a.dir), []);
});

/** The successful links, symlinks or renames to a name in `dir` (not a temp's), in the log's order. */
function namings(calls: Syscall[], dir: string): Syscall[] {
  return calls.filter(
    (c) =>
      /^(link|linkat|symlink|symlinkat|rename|renameat2?)$/.test(c.name) &&
      c.ret === 0 &&
      path.dirname(c.paths.at(-1)!) === dir &&
      !isTempName(path.basename(c.paths.at(-1)!)),
  );
}

test('a batch makes every intent durable before any record exists, fsyncs each directory once, and resolves only after', async (t) => {
  if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here (ptrace denied)')) return;
  const root = tempDir(t, 'quire-batch-strace-');
  const markers = path.join(root, 'markers-never-created');
  const log = path.join(root, 'strace.log');
  const trace =
    'openat,fsync,fdatasync,link,linkat,symlink,symlinkat,rename,renameat,renameat2,close,access,faccessat,faccessat2';
  const child = spawnFixtureTraced(
    ['-f', '-o', log, '-e', `trace=${trace.replace(/(^|,)/g, '$1?')}`],
    'trace-batch',
    [root, markers],
  );
  const r = await waitExit(child);
  assert.equal(r.code, 0, r.stderr);
  const all = parseStrace(fs.readFileSync(log, 'utf8'));
  const at = (label: string) => all.find((c) => c.paths.includes(path.join(markers, label)))!;
  const begin = at('begin');
  const resolved = at('resolved');
  const calls = all.filter((c) => c.start > begin.end && c.end < resolved.start);
  const dirSyncs = (dir: string) =>
    calls.filter((c) => /^f(data)?sync$/.test(c.name) && c.fdDir === true && c.fdPath === dir && c.ret === 0);

  for (const spool of ['a', 'b']) {
    const dir = path.join(root, spool);
    const keys = path.join(dir, '.keys');
    const intents = namings(calls, keys).filter((c) => !c.paths.at(-1)!.endsWith('.id'));
    const made = namings(calls, dir);
    assert.equal(made.length, spool === 'a' ? 3 : 2, `${spool}: records placed`);
    assert.equal(intents.length, made.length, `${spool}: intents placed`);
    const [keysSync, ...moreKeys] = dirSyncs(keys);
    const [dirSync, ...moreDir] = dirSyncs(dir);
    assert.ok(keysSync && dirSync, `${spool}: a directory was not fsynced`);
    assert.deepEqual(
      [moreKeys.length, moreDir.length],
      [0, 0],
      `${spool}: a directory fsynced more than once`,
    );
    assert.ok(
      intents.every((c) => c.end < keysSync.start),
      `${spool}: .keys fsynced before an intent was named`,
    );
    assert.ok(
      made.every((c) => c.start > keysSync.end),
      `${spool}: a record named before its intents were durable`,
    );
    assert.ok(
      made.every((c) => c.end < dirSync.start),
      `${spool}: the directory fsynced before a record was named`,
    );
    const ids = namings(calls, keys).filter((c) => c.paths.at(-1)!.endsWith('.id'));
    assert.equal(ids.length, made.length, `${spool}: ids recorded`);
    assert.ok(
      ids.every((c) => c.start > dirSync.end),
      `${spool}: an id recorded before the records were durable`,
    );
  }
  // One file fsync per append (its record) and one for the batch's journal, written before any intent names it;
  // an intent is a link to the journal and an id a symlink: no file is written for either.
  const fileSyncs = calls.filter((c) => /^f(data)?sync$/.test(c.name) && c.fdDir !== true && c.ret === 0);
  const journalSync = fileSyncs.find((c) => path.basename(path.dirname(c.fdPath!)) === '.keys');
  assert.ok(journalSync, 'the journal was not fsynced');
  assert.equal(fileSyncs.length, 6);
  const intents = ['a', 'b'].flatMap((s) => namings(calls, path.join(root, s, '.keys')));
  assert.ok(
    intents.every((c) => c.start > journalSync.end),
    'an intent was named before the journal was durable',
  );
  const filesInKeys = calls.filter(
    (c) =>
      c.name === 'openat' &&
      /O_CREAT/.test(c.args) &&
      path.basename(path.dirname(c.paths[0]!)) === '.keys' &&
      c.fd !== journalSync.fd,
  );
  assert.equal(filesInKeys.length, 1, 'files written in .keys: the journal only');
  assert.equal((JSON.parse(r.stdout) as { created: boolean }[]).filter((x) => x.created).length, 5);
});

/** Runs the batch writer over `dir` to its end, or SIGKILLs it once it has begun batch `killAt`: its exit. */
async function batchWriter(dir: string, killAt: number | null) {
  const child = spawnFixture('batch-writer', [dir, String(KEYS), String(BATCH)]);
  const lines: string[] = [];
  onLines(child.stdout!, (line) => {
    lines.push(line);
    if (killAt !== null && line === `begin ${killAt}`) {
      // Spread over the batch's steps (a batch takes some tens of milliseconds), not a synchronisation.
      setTimeout(() => child.kill('SIGKILL'), randomInt(0, 40));
    }
  });
  const exit = await waitExit(child);
  return { ...exit, lines };
}

const KEYS = 900;
const BATCH = 100;

test('batches SIGKILLed at random points and run again leave every key with exactly one record', async (t) => {
  const root = tempDir(t, 'quire-batch-kill-');
  let kills = 0;
  for (let round = 0; round < 20; round++) {
    // At least three batches after the one killed in: the kill lands before the writer's end.
    const r = await batchWriter(root, randomInt(0, KEYS / BATCH - 3));
    if (r.signal === 'SIGKILL') kills++;
    else assert.equal(r.code, 0, r.stderr);
  }
  assert.ok(kills >= 5, `only ${kills} of 20 runs were killed before they ended`);
  const last = await batchWriter(root, null);
  assert.equal(last.code, 0, last.stderr);
  const again = await batchWriter(root, null);
  assert.equal(again.lines.at(-1), 'end 0', 'a run after a complete one creates nothing');
  for (const [s, spool] of ['a', 'b', 'c'].entries()) {
    const dir = path.join(root, spool);
    const contents = records(dir).map((n) => fs.readFileSync(path.join(dir, n), 'utf8'));
    const expected = Array.from({ length: KEYS / 3 }, (_, j) => `record ${j * 3 + s}\n`);
    assert.deepEqual(contents.sort(), expected.sort(), `${spool}: one record per key`);
    const report = await (await openSpool(dir, { suffix: '.txt' })).check();
    assert.deepEqual(
      report.issues.filter((i) => i.problem !== 'dead-temp'),
      [],
      `${spool}: check finds nothing but dead writers' temps`,
    );
  }
});

test('batches of the same keys from 6 processes at once: each key appended once, by one of them', async (t) => {
  const root = tempDir(t, 'quire-batch-race-');
  const runs = await Promise.all(
    Array.from({ length: 6 }, async () => {
      const child = spawnFixture('batch-writer', [root, '900', '300']);
      const lines: string[] = [];
      onLines(child.stdout!, (line) => lines.push(line));
      const exit = await waitExit(child);
      assert.equal(exit.code, 0, exit.stderr);
      return Number(lines.at(-1)?.split(' ')[1]);
    }),
  );
  assert.equal(
    runs.reduce((a, b) => a + b, 0),
    900,
  );
  const all = ['a', 'b', 'c'].flatMap((s) => records(path.join(root, s)));
  assert.equal(all.length, 900);
});
