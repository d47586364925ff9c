import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createUniqueSync, isQuireError, openSpool, Spool, withLock } from '@quire/fs';
import { runFixture, sha256, spawnFixture, tempDir, waitExit } from './helpers.js';
import { ownTemp } from './writers.js';

const T0 = Date.UTC(2026, 10, 26, 10, 15, 0);

test('append publishes a record that get returns whole', async (t) => {
  const spool = await openSpool(path.join(tempDir(t), 'a', 'b'), { suffix: '.json' });
  const { id, created } = await spool.append('{"text":"hi"}');
  assert.equal(created, true);
  assert.match(id, /^\d{8}T\d{6}Z-\d+\.json$/);
  assert.equal(String(await spool.get(id)), '{"text":"hi"}');
});

test('list returns ids in timestamp-then-counter order and honours after, before, limit and reverse', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(dir);
  const want: string[] = [];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < 12; i++)
      want.push(createUniqueSync(dir, `${s}-${i}`, { time: T0 + s * 1000, durable: false }).name);
  }
  fs.writeFileSync(path.join(dir, 'README'), 'not a record');
  assert.deepEqual(await spool.ids(), want);
  assert.deepEqual(await spool.list(), want, 'list() and ids() are the same');
  assert.deepEqual(await spool.list({ reverse: true, limit: 5 }), want.slice(-5).reverse());
  // Paging: each page starts after the last id of the one before.
  const pages: string[][] = [];
  for (let page = await spool.list({ limit: 10 }); page.length > 0; ) {
    pages.push(page);
    page = await spool.list({ limit: 10, after: page.at(-1) as string });
  }
  assert.deepEqual(
    pages.map((p) => p.length),
    [10, 10, 10, 6],
  );
  assert.deepEqual(pages.flat(), want);
  // Newest first, paged with before.
  const newest = await spool.list({ reverse: true, limit: 4, before: want[20] });
  assert.deepEqual(newest, want.slice(16, 20).reverse());
  assert.deepEqual(await spool.ids({ after: want[10], before: want[14] }), want.slice(11, 14));
  assert.deepEqual(await spool.ids({ after: want[3], limit: 2 }), want.slice(4, 6));
});

test('ids that are not record names are refused with ERR_INVALID_ID and never touch a path', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(path.join(dir, 'spool'), { suffix: '.json' });
  fs.writeFileSync(path.join(dir, 'secret'), 'x');
  const bad = [
    '../secret',
    'a/b',
    '20261126T101500Z-1\0',
    '20261126T101500Z-1',
    `${'9'.repeat(300)}`,
    '',
    42,
    null,
  ];
  for (const id of bad) {
    for (const op of [
      () => spool.get(id as string),
      () => spool.delete(id as string),
      () => spool.update(id as string, () => 'x'),
    ]) {
      await assert.rejects(op, (e) => isQuireError(e, 'ERR_INVALID_ID'), String(id));
    }
    assert.equal(spool.isId(id), false, String(id));
  }
  assert.equal(spool.isId('20261126T101500Z-1.json'), true);
  assert.equal(fs.readFileSync(path.join(dir, 'secret'), 'utf8'), 'x');
});

test('update replaces a record with what fn returns and leaves it when fn returns undefined', async (t) => {
  const spool = await openSpool(tempDir(t));
  const { id } = await spool.append('1');
  assert.equal(String(await spool.update(id, (b) => String(Number(b) + 1))), '2');
  assert.equal(String(await spool.update(id, () => undefined)), '2');
  assert.equal(String(await spool.get(id)), '2');
});

test('update and delete of a missing record report it instead of creating one', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(dir);
  const { id } = await spool.append('x');
  assert.equal(await spool.delete(id), true);
  assert.equal(await spool.delete(id), false);
  assert.equal(await spool.get(id), null);
  assert.equal(await spool.update(id, () => 'y'), null);
  assert.deepEqual(await spool.ids(), []);
});

test('updates from 4 processes under the record lock lose no increment', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(dir);
  const { id } = await spool.append('0');
  await Promise.all(Array.from({ length: 4 }, () => runFixture('spool-ops', ['increment', dir, id, '100'])));
  assert.equal(String(await spool.get(id)), '400');
});

test('an append retried with the same key returns the first id and writes nothing new', async (t) => {
  const spool = await openSpool(tempDir(t));
  const a = await spool.append('hello', { key: 'nonce-1' });
  const b = await spool.append('hello', { key: 'nonce-1' });
  assert.deepEqual(b, { id: a.id, created: false });
  assert.deepEqual(await spool.ids(), [a.id]);
});

test('keyedId names the record of a finished keyed append, and nothing for any other key', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(dir, { suffix: '.json' });
  assert.equal(await spool.keyedId('k'), null);
  const { id } = await spool.append('one', { key: 'k' });
  const other = await openSpool(dir, { suffix: '.json' });
  const [b] = await Spool.appendBatch([{ spool: other, data: 'two', key: 'b' }]);
  assert.equal(await spool.keyedId('k'), id);
  assert.equal(await spool.keyedId('b'), b?.id, 'an append of another Spool object on the same directory');
  assert.equal(await spool.keyedId('c'), null);
  await spool.append('unkeyed');
  // What a power cut can leave: the intent without its id (not fsynced). The key is not finished here.
  fs.unlinkSync(path.join(dir, '.keys', `${sha256('k')}.id`));
  assert.equal(await spool.keyedId('k'), null);
  // An id naming no record of this spool (another suffix) is not one.
  fs.symlinkSync('20260101T000000Z-0.txt', path.join(dir, '.keys', `${sha256('x')}.id`));
  assert.equal(await spool.keyedId('x'), null);
  await assert.rejects(spool.keyedId(''), (err) => isQuireError(err, 'ERR_INVALID_ARG'));
});

test('appends with one key racing from 6 processes create exactly one record', async (t) => {
  const dir = tempDir(t);
  await openSpool(dir);
  const outs = await Promise.all(
    Array.from({ length: 6 }, () => runFixture('spool-ops', ['append-key', dir, 'race'])),
  );
  const results = outs.map((o) => JSON.parse(o.stdout) as { id: string; created: boolean });
  const spool = await openSpool(dir);
  assert.equal((await spool.ids()).length, 1);
  assert.equal(new Set(results.map((r) => r.id)).size, 1);
  assert.equal(results.filter((r) => r.created).length, 1);
});

test('a keyed append that died after publishing its record is found again, not repeated', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(dir, { time: T0 });
  // What a writer killed between publishing the record and writing its id leaves behind.
  const { id } = await spool.append('payload');
  const h = sha256('k');
  fs.mkdirSync(path.join(dir, '.keys'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.keys', h), JSON.stringify({ time: T0, sha: sha256('payload') }));
  const report = await spool.check();
  assert.deepEqual(
    report.issues.map((i) => [i.problem, i.repaired]),
    [['pending-key', false]],
  );
  assert.deepEqual(await spool.append('payload', { key: 'k' }), { id, created: false });
  assert.deepEqual(await spool.ids(), [id]);
  assert.equal((await spool.check()).clean, true);
});

for (const notify of [true, false]) {
  test(`watch yields every id another process publishes, once each (${notify ? 'with' : 'without'} notifications)`, async (t) => {
    const dir = tempDir(t);
    const spool = await openSpool(dir);
    const before = await spool.append('before');
    const ac = new AbortController();
    const seen: string[] = [];
    const child = spawnFixture('spool-ops', ['append-many', dir, '60']);
    const exited = waitExit(child);
    let published: string[] | undefined;
    void exited.then((r) => {
      published = r.stdout.trim().split('\n');
      if (seen.length >= 60) ac.abort();
    });
    for await (const id of spool.watch({
      after: before.id,
      signal: ac.signal,
      pollMs: notify ? 1000 : 20,
      notify,
    })) {
      seen.push(id);
      if (seen.length >= 60 && published) ac.abort();
    }
    await exited;
    assert.equal(new Set(seen).size, seen.length, 'no id twice');
    assert.deepEqual([...seen].sort(), [...(published ?? [])].sort());
    assert.ok(!seen.includes(before.id));
  });
}

test('watch with after yields the ids after it that already exist, then new ones', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(dir);
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await spool.append(String(i))).id);
  const ac = new AbortController();
  const seen: string[] = [];
  for await (const id of spool.watch({ after: ids[1], signal: ac.signal })) {
    seen.push(id);
    if (seen.length === 3) ids.push((await spool.append('late')).id);
    if (seen.length === 4) ac.abort();
  }
  assert.deepEqual(seen, ids.slice(2));
});

test('check reports dead temps, stray and malformed names, and repair removes only the temps', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(dir);
  await spool.append('ok');
  const dead = await waitExit(spawnFixture('spool-ops', ['noop']));
  assert.equal(dead.code, 0);
  const deadPid = Number(dead.stdout.trim());
  const temp = ownTemp(deadPid);
  fs.writeFileSync(path.join(dir, temp), 'half');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'stray');
  // Dot names belong to the layers around the records (sidecar locks, metadata): never reported.
  fs.writeFileSync(path.join(dir, '.thread.json'), '{}');
  await withLock(path.join(dir, 'x'), () => {});
  fs.writeFileSync(path.join(dir, '20261399T101500Z-1'), 'bad date');
  const r1 = await spool.check();
  assert.equal(r1.records, 1);
  assert.equal(r1.clean, false);
  assert.deepEqual(r1.issues.map((i) => i.problem).sort(), ['dead-temp', 'malformed', 'stray']);
  const r2 = await spool.check({ repair: true });
  assert.ok(r2.issues.some((i) => i.problem === 'dead-temp' && i.repaired));
  assert.equal(fs.existsSync(path.join(dir, temp)), false);
  assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'stray');
});

test('a small limit over many records returns the same ids as sorting them all', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(dir);
  for (let i = 0; i < 200; i++)
    createUniqueSync(dir, String(i), { time: T0 + (i % 7) * 1000, durable: false });
  const all = await spool.ids();
  assert.equal(all.length, 200);
  assert.deepEqual(await spool.ids({ limit: 3 }), all.slice(0, 3));
  assert.deepEqual(await spool.ids({ reverse: true, limit: 7 }), all.slice(-7).reverse());
  assert.deepEqual(await spool.ids({ reverse: true, limit: 0 }), []);
});

test('check finds a dead temp in .keys and an empty key id file, and repair fixes both', async (t) => {
  const dir = tempDir(t);
  const spool = await openSpool(dir);
  const { id } = await spool.append('payload', { key: 'k' });
  const dead = await waitExit(spawnFixture('spool-ops', ['noop']));
  const temp = ownTemp(Number(dead.stdout.trim()));
  fs.writeFileSync(path.join(dir, '.keys', temp), 'half');
  // What a power cut leaves of an earlier version's id file, written without fsync: the name, no content.
  const idName = path.join(dir, '.keys', `${sha256('k')}.id`);
  fs.unlinkSync(idName);
  fs.writeFileSync(idName, '');
  assert.deepEqual((await spool.check()).issues.map((i) => i.problem).sort(), ['dead-temp', 'pending-key']);
  assert.equal((await spool.check({ repair: true })).clean, true);
  assert.deepEqual((await spool.check()).issues, []);
  assert.equal(fs.readlinkSync(idName), id);
  assert.deepEqual(await spool.append('payload', { key: 'k' }), { id, created: false });
});

test('close() ends every watch of the spool; other calls still work after it', async (t) => {
  const spool = await openSpool(tempDir(t));
  const first = (await spool.append('a')).id;
  const seen: string[] = [];
  // Without close() this loop would wait for records forever: no signal, a long poll.
  for await (const id of spool.watch({ after: '19700101T000000Z-0', pollMs: 60_000 })) {
    seen.push(id);
    spool.close();
  }
  assert.deepEqual(seen, [first]);
  spool.close();
  assert.equal((await spool.append('b')).created, true);
  assert.equal((await spool.list()).length, 2);
});

test("a spool's internal helpers are not part of its public type", async (t) => {
  const spool = await openSpool(tempDir(t));
  // @ts-expect-error checkId is internal
  assert.equal(spool.checkId, undefined);
  // @ts-expect-error pathOf is internal
  assert.equal(spool.pathOf, undefined);
});

test('openSpool on a file is ENOTDIR, with or without create; on a missing directory with create: false, ENOENT', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'file');
  fs.writeFileSync(file, '');
  await assert.rejects(openSpool(file), (e) => isQuireError(e, 'ENOTDIR'));
  await assert.rejects(openSpool(file, { create: false }), (e) => isQuireError(e, 'ENOTDIR'));
  await assert.rejects(openSpool(path.join(dir, 'none'), { create: false }), (e) =>
    isQuireError(e, 'ENOENT'),
  );
  assert.equal((await openSpool(path.join(dir, 'a', 'b'))).dir, path.join(dir, 'a', 'b'));
});
