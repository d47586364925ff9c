/** A thread's index in typed arrays (store/index-rows.ts), against a Map of the same entries. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SETTLE_MS } from '@quire/fs';
import { CommentStore, threadIdOf } from '../src/index.js';
import { type IndexEntry, IndexRows, roomFor } from '../src/store/index-rows.js';
import { parseSnapshot, serialiseSnapshot } from '../src/store/index-snapshot.js';
import { NameList } from '../src/store/name-list.js';
import { compareStems, STATUSES } from '../src/store/records.js';
import { stemKey, stemOfKey } from '../src/store/stem-keys.js';
import { prng, tempDir } from './fixtures/srv-helpers.js';
import { META, PAGE, record } from './fixtures/srv-records.js';

const asMap = (m: ReadonlyMap<string, IndexEntry>) => new Map([...m].map(([s, e]) => [s, { ...e }]));

test('a stem is held as two numbers that give it back and sort as compareStems does', () => {
  const stems = [
    '00000101T000000Z-0',
    '20261126T100000Z-0',
    '20261126T100000Z-9',
    '20261126T100000Z-10',
    '20261126T100001Z-1',
    '99991231T235959Z-999999999999999',
  ];
  for (const s of stems) {
    const key = stemKey(s);
    assert.ok(key !== null, s);
    assert.equal(stemOfKey(key[0], key[1]), s);
  }
  const rows = new IndexRows();
  for (const s of [...stems].reverse()) rows.set(s, { parent: null, status: 'approved', likes: 0 });
  assert.equal(rows.inStemOrder, false);
  assert.deepEqual([...rows.sorted().keys()], [...stems].sort(compareStems));
  for (const bad of [
    '20261126T100000Z-01',
    '2026112T100000Z-1',
    '20261126T100000Z-',
    'x',
    '20261126t100000Z-1',
  ])
    assert.equal(stemKey(bad), null, bad);
  assert.throws(() => rows.set('../x', { parent: null, status: 'approved', likes: 0 }), TypeError);
});

test('any run of additions, verdicts, likes and removals reads as the same Map, and survives a snapshot', async () => {
  const rnd = prng(7);
  for (let round = 0; round < 12; round++) {
    const rows = new IndexRows();
    const map = new Map<string, IndexEntry>();
    const stem = (n: number) => `20261126T${String(100000 + Math.floor(n / 50)).padStart(6, '0')}Z-${n % 50}`;
    let next = 0;
    for (let step = 0; step < 300; step++) {
      const roll = rnd();
      const known = [...map.keys()];
      const pick = () => known[Math.floor(rnd() * known.length)] as string;
      let s: string;
      let e: IndexEntry;
      if (roll < 0.1 && known.length > 0) {
        s = pick();
        assert.equal(rows.delete(s), map.delete(s));
      } else {
        // New (mostly in order; some out of order, some naming a parent not in the thread), or changed.
        const fresh = roll < 0.6 || known.length === 0;
        s = fresh ? stem(rnd() < 0.1 ? Math.floor(rnd() * next) + 10_000 : next++) : pick();
        const parent = rnd() < 0.3 && known.length > 0 ? pick() : rnd() < 0.05 ? stem(90_000 + step) : null;
        e = {
          parent,
          status: STATUSES[Math.floor(rnd() * STATUSES.length)] ?? 'approved',
          likes: Math.floor(rnd() * 3),
        };
        rows.set(s, e);
        map.set(s, e);
      }
      assert.equal(rows.size, map.size);
      assert.deepEqual(
        rows.get(s) === undefined ? undefined : { ...rows.get(s) },
        map.get(s) && { ...map.get(s) },
      );
    }
    assert.deepEqual(asMap(rows), asMap(map), `round ${round}`);
    for (const [s, e] of map) {
      const r = rows.row(s);
      assert.equal(rows.stemAt(r), s);
      assert.equal(
        rows.parentRow(r) === -1 ? null : rows.stemAt(rows.parentRow(r)),
        map.has(e.parent ?? '') ? e.parent : null,
      );
    }
    const snap = await parseSnapshot(await serialiseSnapshot('g', rows));
    assert.ok(snap !== null && !snap.legacy);
    assert.deepEqual(asMap(snap.entries), asMap(map), `round ${round}: through a snapshot`);
    const sorted = rows.sorted();
    assert.equal(sorted.inStemOrder, true);
    assert.deepEqual([...sorted.keys()], [...map.keys()].sort(compareStems));
    assert.deepEqual(asMap(sorted), asMap(map));
  }
});

test('a reply set before its parent finds it once it joins; a removed parent is still named by its replies', () => {
  const rows = new IndexRows();
  const [a, b, c] = ['20261126T100000Z-1', '20261126T100000Z-2', '20261126T100000Z-3'];
  rows.set(b, { parent: a, status: 'approved', likes: 0 });
  assert.equal(rows.parentRow(rows.row(b)), -1, 'not in the thread yet');
  rows.set(a, { parent: null, status: 'pending', likes: 2 });
  assert.equal(rows.parentRow(rows.row(b)), rows.row(a));
  rows.set(c, { parent: b, status: 'approved', likes: 0 });
  rows.delete(b);
  assert.equal(rows.get(c)?.parent, b, 'the record still names it');
  assert.equal(rows.parentRow(rows.row(c)), -1);
  assert.deepEqual({ ...rows.get(a) }, { parent: null, status: 'pending', likes: 2 });
  const copy = rows.clone();
  copy.set(a, { parent: null, status: 'approved', likes: 3 });
  assert.equal(rows.get(a)?.likes, 2, 'a clone is a copy of its own');
});

test('a damaged snapshot is refused: a name that is not a stem, a parent row past the end, a cut row', async () => {
  const rows = new IndexRows();
  rows.set('20261126T100000Z-1', { parent: null, status: 'approved', likes: 0 });
  rows.set('20261126T100000Z-2', { parent: '20261126T100000Z-1', status: 'approved', likes: 1 });
  const good = await serialiseSnapshot('g', rows);
  assert.deepEqual(asMap((await parseSnapshot(good))?.entries ?? new Map()), asMap(rows));
  const notStem = Buffer.from(good);
  notStem[notStem.indexOf('20261126T100000Z-2') + 3] = 0x41;
  assert.equal(await parseSnapshot(notStem), null);
  const pastEnd = Buffer.from(good);
  const at = pastEnd.indexOf('20261126T100000Z-2') + 18;
  pastEnd.writeInt32LE(7, at);
  assert.equal(await parseSnapshot(pastEnd), null);
  assert.equal(await parseSnapshot(good.subarray(0, good.length - 2)), null);
});

test('an index costs its rows: about 25 bytes a comment, what the cache budget is charged', () => {
  const rows = new IndexRows();
  for (let i = 0; i < 10_000; i++)
    rows.set(`20261126T100000Z-${i}`, {
      parent: i % 5 === 0 && i > 0 ? `20261126T100000Z-${i - 1}` : null,
      status: 'approved',
      likes: i % 7,
    });
  rows.trim();
  // Room kept for a few more (roomFor: 16 rows and 1/64) and nothing else.
  assert.ok(rows.bytes <= roomFor(10_000) * 25 + 200, `${rows.bytes} bytes`);
  assert.ok(roomFor(10_000) < 10_200);
  assert.ok(rows.bytes >= 10_000 * 25, `${rows.bytes} bytes`);
});

test("the cache is charged an index's compact size: a budget of 64 KiB keeps a thread of 400 comments", async (t) => {
  const dataDir = tempDir(t);
  const writer = await CommentStore.open(dataDir, { durable: false });
  const threadId = threadIdOf(PAGE);
  for (let i = 0; i < 400; i++)
    await writer.addComment(threadId, META, record(`c${i}`), { duplicateWindowMs: 0 });
  const reader = await CommentStore.open(dataDir, {
    durable: false,
    cache: { indexBytes: 64 * 1024, recordBytes: 0 },
  });
  const view = await reader.view(threadId);
  assert.equal(view.entries.size, 400);
  const charged = reader.cacheStats().indexBytes;
  assert.ok(charged > 400 * 25 && charged < 400 * 150, `${charged} bytes charged`);
  // Kept: once its stamps settled, a view again while nothing changed is the same object (before, at ~256
  // bytes a comment, it did not fit).
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS + 50));
  const settled = await reader.view(threadId);
  assert.equal(await reader.view(threadId), settled, 'kept in the cache');
});

test('a listing kept as numbers gives back every name, and tells a name apart without making one', () => {
  const names = [
    '20261126T100000Z-2.json',
    '.index',
    '20261126T100000Z-10.json',
    '.tmp-x.json',
    'notes.txt',
    '20261126T100000Z-01.json',
  ];
  const list = NameList.of(names);
  assert.deepEqual(
    Array.from({ length: list.length }, (_, i) => list.at(i)),
    names,
  );
  assert.deepEqual(
    Array.from({ length: list.length }, (_, i) => list.isDot(i)),
    [false, true, false, true, false, false],
  );
  assert.equal(list.is(0, '20261126T100000Z-2.json'), true);
  assert.equal(list.is(0, '20261126T100000Z-3.json'), false);
  assert.equal(list.is(2, '20261126T100000Z-10.jsonx'), false);
  assert.equal(list.is(4, 'notes.txt'), true);
  assert.equal(list.is(5, '20261126T100000Z-01.json'), true, 'not a stem: kept as it is');
  assert.ok(list.bytes < names.length * 16 + 4 * 64 + 1);
});
