/** The per-thread index (store/thread-index.ts): what it lists, when it is rebuilt, and that a crash loses nothing. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SETTLE_COARSE_MS } from '@quire/fs';
import { type CommentRecord, CommentStore, threadIdOf } from '../src/index.js';
import { planPage } from '../src/server/views.js';
import { parseSnapshot, serialiseSnapshot } from '../src/store/index-snapshot.js';
import { ByteLru } from '../src/store/lru.js';
import { listedSame } from '../src/store/thread-index.js';
import { quire } from './fixtures/cli-helpers.js';
import { spawnFixture, tempDir, waitForLine } from './fixtures/srv-helpers.js';
import { META, PAGE, record } from './fixtures/srv-records.js';

const threadId = threadIdOf(PAGE);

interface Truth {
  parent: string | null;
  status: CommentRecord['status'];
  likes: number;
}

/** What the index must say, from the comment and vote files themselves. */
function truth(dataDir: string): Map<string, Truth> {
  const dir = path.join(dataDir, 'threads', threadId);
  const out = new Map<string, Truth>();
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith('.') || !name.endsWith('.json')) continue;
    const r = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as CommentRecord;
    const stem = name.slice(0, -5);
    const votes = path.join(dir, '.votes', stem);
    const likes = fs.existsSync(votes) ? fs.readdirSync(votes).filter((n) => !n.startsWith('.')).length : 0;
    out.set(stem, { parent: r.parent, status: r.status, likes });
  }
  return out;
}

async function indexOf(dataDir: string): Promise<Map<string, Truth>> {
  const store = await CommentStore.open(dataDir, { durable: false });
  return new Map([...(await store.view(threadId)).entries].map(([s, e]) => [s, { ...e }]));
}

/** A thread of `n` comments, every fifth a reply to the one before, every seventh pending; some liked. */
async function fill(dataDir: string, n: number): Promise<CommentStore> {
  const store = await CommentStore.open(dataDir, { durable: false, clock: () => Date.UTC(2026, 0, 1) });
  let last: string | null = null;
  for (let i = 0; i < n; i++) {
    const over = { parent: i % 5 === 4 ? last : null, status: i % 7 === 6 ? 'pending' : 'approved' } as const;
    const r = await store.addComment(threadId, META, record(`comment ${i}`, over), { duplicateWindowMs: 0 });
    if (i % 10 === 3) await store.vote(threadId, r.stem, i.toString(16).padStart(32, '0'));
    last = r.stem;
  }
  await store.view(threadId);
  return store;
}

test('the index lists every comment with its parent, status and likes, and a page reads only its own files', async (t) => {
  const dataDir = tempDir(t);
  const writer = await fill(dataDir, 300);
  await writer.judgeComment(threadId, (await writer.stems(threadId))[6] as string, 'approved');
  assert.deepEqual(await indexOf(dataDir), truth(dataDir));
  // A fresh process: the snapshot, two listings, and then the page's records.
  const reader = await CommentStore.open(dataDir, { durable: false });
  const view = await reader.view(threadId);
  const afterLoad = reader.cacheStats().filesRead;
  // The snapshot, the names, the marks of the one verdict and its comment, the page, the likes listing.
  assert.ok(afterLoad <= 10, `loading the index of 300 comments read ${afterLoad} files`);
  const plan = planPage(view.entries, {
    mine: new Set(),
    maxDepth: 16,
    order: 'oldest',
    after: null,
    limit: 10,
  });
  const records = await reader.pageRecords(view, plan.stems);
  assert.equal(records.size, plan.stems.length);
  assert.ok(plan.stems.length >= 10 && plan.stems.length < 20);
  assert.ok(
    reader.cacheStats().filesRead - afterLoad <= plan.stems.length,
    'at most one file per comment shown',
  );
  assert.equal(view.approved, [...truth(dataDir).values()].filter((e) => e.status === 'approved').length);
});

test("an unlike in one process drops the count in another process's index", async (t) => {
  const dataDir = tempDir(t);
  const writer = await fill(dataDir, 20);
  const stem = (await writer.stems(threadId))[0] as string;
  await writer.like(threadId, stem, '192.0.2.7');
  // The reader trusts its cached index while the stamps of the thread and its marks are unchanged: no listing
  // after a time, and the writes above older than the settle margin (a clock threshold, not a wait for a peer).
  const reader = await CommentStore.open(dataDir, { durable: false, viewListAfterMs: 3_600_000 });
  await new Promise((resolve) => setTimeout(resolve, 3 * SETTLE_COARSE_MS));
  assert.equal((await reader.view(threadId)).entries.get(stem)?.likes, 1);
  assert.deepEqual(await writer.like(threadId, stem, '192.0.2.7', true), { counted: true, likes: 0 });
  assert.equal((await reader.view(threadId)).entries.get(stem)?.likes, 0);
});

test('a missing, damaged or stale snapshot is rebuilt from the comment files, which stay the truth', async (t) => {
  const dataDir = tempDir(t);
  await fill(dataDir, 120);
  const snapshot = path.join(dataDir, 'threads', threadId, '.index', 'snapshot.json');
  assert.ok(fs.existsSync(snapshot), 'the first load wrote a snapshot');
  fs.writeFileSync(snapshot, '{"v":1,"gen":"x","rows":[["broken"');
  const cold = await CommentStore.open(dataDir, { durable: false });
  await cold.view(threadId);
  assert.ok(cold.cacheStats().filesRead >= 120, 'a damaged snapshot: every comment read again');
  assert.deepEqual(await indexOf(dataDir), truth(dataDir));
  assert.equal((await parseSnapshot(fs.readFileSync(snapshot)))?.entries.size, 120, 'and written anew');
  // A comment another writer published without any index update (it died right after): found by its name.
  const dir = path.join(dataDir, 'threads', threadId);
  fs.writeFileSync(path.join(dir, '20300101T000000Z-0.json'), JSON.stringify(record('by hand')));
  fs.rmSync(
    path.join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.json') && !n.startsWith('.')) as string),
  );
  assert.deepEqual(await indexOf(dataDir), truth(dataDir));
});

test('a snapshot of an earlier version (JSON) is read and written anew; a cut binary one is rebuilt', async (t) => {
  const dataDir = tempDir(t);
  await fill(dataDir, 60);
  const snapshot = path.join(dataDir, 'threads', threadId, '.index', 'snapshot.json');
  const snap = await parseSnapshot(fs.readFileSync(snapshot));
  assert.ok(snap !== null && !snap.legacy && snap.entries.size === 60);
  // The JSON form, rows in reverse order: the next load takes it as it is, then writes the binary form in order.
  const rows = [...snap.entries].reverse().map(([stem, e]) => [stem, e.parent, e.status, e.likes]);
  fs.writeFileSync(snapshot, JSON.stringify({ v: 1, gen: 'old', rows }));
  const reader = await CommentStore.open(dataDir, { durable: false });
  await reader.view(threadId);
  assert.ok(reader.cacheStats().filesRead < 20, 'the JSON snapshot was used, not every comment read');
  const again = await parseSnapshot(fs.readFileSync(snapshot));
  assert.ok(again !== null && !again.legacy, 'written anew in the binary form');
  assert.deepEqual([...again.entries.keys()], [...snap.entries.keys()], 'in stem order');
  assert.deepEqual(await indexOf(dataDir), truth(dataDir));
  const bytes = fs.readFileSync(snapshot);
  for (const cut of [bytes.length - 1, Math.floor(bytes.length / 2), 20]) {
    assert.equal(
      await parseSnapshot(bytes.subarray(0, cut)),
      null,
      `cut at ${cut}: not taken for a snapshot`,
    );
  }
  fs.writeFileSync(snapshot, bytes.subarray(0, bytes.length - 3));
  const cold = await CommentStore.open(dataDir, { durable: false });
  await cold.view(threadId);
  assert.ok(cold.cacheStats().filesRead >= 60, 'a cut snapshot: every comment read again');
  assert.deepEqual(await indexOf(dataDir), truth(dataDir));
});

test('quire fsck --repair rewrites an index that disagrees with the comments', async (t) => {
  const dataDir = tempDir(t);
  await fill(dataDir, 40);
  const snapshot = path.join(dataDir, 'threads', threadId, '.index', 'snapshot.json');
  const snap = await parseSnapshot(fs.readFileSync(snapshot));
  assert.ok(snap !== null && !snap.legacy);
  // As if a change had been made behind the index's back (a hand edit): every comment said to be spam.
  for (const [stem, e] of snap.entries) snap.entries.set(stem, { ...e, status: 'spam' });
  fs.writeFileSync(snapshot, await serialiseSnapshot(snap.gen, snap.entries));
  assert.notDeepEqual(await indexOf(dataDir), truth(dataDir), 'the index believes its snapshot');
  const r = await quire(t, ['fsck', dataDir, '--repair']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await indexOf(dataDir), truth(dataDir));
});

test('SIGKILL at any point of a writer leaves an index that lists every comment as its file says', async (t) => {
  const dataDir = tempDir(t);
  await CommentStore.open(dataDir);
  // A reader that lives through every kill: each of its loads builds on its last (a delta, not a reload),
  // and the layout of its pages is advanced by those deltas.
  const reader = await CommentStore.open(dataDir, { durable: false, viewListAfterMs: 0 });
  for (let round = 0; round < 8; round++) {
    const child = spawnFixture('index-writer', [dataDir, String(round + 1)]);
    // Killed somewhere in the step after the 20th-60th: mid-post, mid-verdict, mid-like or mid-snapshot.
    await waitForLine(child, new RegExp(`^ops ${20 + ((round * 7) % 40)}$`));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    assert.deepEqual(await indexOf(dataDir), truth(dataDir), `after kill ${round + 1}`);
    const view = await reader.view(threadId);
    assert.deepEqual(
      new Map([...view.entries].map(([s, e]) => [s, { ...e }])),
      truth(dataDir),
      `the long-lived reader, after kill ${round + 1}`,
    );
    const approved = [...truth(dataDir).values()].filter((e) => e.status === 'approved').length;
    assert.equal(view.approved, approved, `its count of approved comments, after kill ${round + 1}`);
    const opts = {
      mine: new Set<string>(),
      maxDepth: 16,
      order: 'oldest',
      after: null,
      limit: 1000,
    } as const;
    const fresh = planPage(new Map(view.entries), opts);
    const kept = planPage(view.entries, opts);
    assert.deepEqual(
      [kept.stems, kept.total],
      [fresh.stems, fresh.total],
      `its layout, after kill ${round + 1}`,
    );
  }
});

test('the listing check sees a name added or removed, not a temp nor another order of the same names', async (t) => {
  const dir = tempDir(t);
  const place = { dir, votesDir: path.join(dir, '.votes'), durable: false };
  for (let i = 0; i < 50; i++)
    fs.writeFileSync(path.join(dir, `20260101T0000${String(i).padStart(2, '0')}Z-0.json`), '{}');
  const names = fs.readdirSync(dir);
  const listed = { names, marks: [] };
  assert.equal(await listedSame(place, listed), true);
  assert.equal(await listedSame(place, { names: [...names].reverse(), marks: [] }), true, 'another order');
  fs.writeFileSync(path.join(dir, '.quire-1-abc+host'), 'x');
  assert.equal(await listedSame(place, listed), true, "a writer's temp");
  fs.writeFileSync(path.join(dir, '20270101T000000Z-0.json'), '{}');
  assert.equal(await listedSame(place, listed), false, 'a new comment');
  fs.rmSync(path.join(dir, '20270101T000000Z-0.json'));
  fs.rmSync(path.join(dir, names.find((n) => !n.startsWith('.')) as string));
  assert.equal(await listedSame(place, listed), false, 'a comment removed');
  assert.equal(await listedSame(place, { names, marks: ['20260101T000000Z-0.mark'] }), false, 'a mark gone');
});

test('a comment file that could not be read is read again by every later load until it can', async (t) => {
  const dataDir = tempDir(t);
  const store = await fill(dataDir, 20);
  const dir = path.join(dataDir, 'threads', threadId);
  const broken = '20260101T000001Z-7';
  // Half-written, as after a crash without fsync.
  fs.writeFileSync(path.join(dir, `${broken}.json`), '{"v":1,"par');
  await store.addComment(threadId, META, record('after'), { duplicateWindowMs: 0 });
  assert.equal((await store.view(threadId)).entries.has(broken), false);
  fs.writeFileSync(path.join(dir, `${broken}.json`), JSON.stringify(record('repaired')));
  // Another comment: the next load builds on the last one, and reads the one it could not read before.
  await store.addComment(threadId, META, record('later'), { duplicateWindowMs: 0 });
  assert.equal((await store.view(threadId)).entries.get(broken)?.status, 'approved');
  assert.deepEqual(await indexOf(dataDir), truth(dataDir));
});

test('caches are bounded by bytes: the least recently used entries go first', () => {
  const lru = new ByteLru<string, number>(100);
  for (let i = 0; i < 50; i++) lru.set(`k${i}`, i, 30);
  assert.ok(lru.bytes <= 100);
  assert.equal(lru.size, 3);
  assert.equal(lru.get('k49'), 49);
  lru.get('k47');
  lru.set('x', 0, 30);
  assert.equal(lru.peek('k48'), undefined, 'the least recently used went');
  assert.equal(lru.peek('k47'), 47);
  lru.set('huge', 1, 101);
  assert.equal(lru.peek('huge'), undefined, 'bigger than the budget: not kept');
});

test("the store's caches stay within their budget however many threads are read", async (t) => {
  const dataDir = tempDir(t);
  const writer = await CommentStore.open(dataDir, { durable: false });
  for (let p = 0; p < 60; p++) {
    const meta = { ...META, uri: `${PAGE}/${p}` };
    for (let i = 0; i < 5; i++)
      await writer.addComment(threadIdOf(meta.uri), meta, record(`t${p} c${i} ${'x'.repeat(500)}`), {
        duplicateWindowMs: 0,
      });
  }
  const budget = { indexBytes: 8_000, recordBytes: 20_000 };
  const reader = await CommentStore.open(dataDir, { durable: false, cache: budget });
  for (let p = 0; p < 60; p++) {
    const id = threadIdOf(`${PAGE}/${p}`);
    const view = await reader.view(id);
    await reader.pageRecords(view, [...view.entries.keys()]);
    const s = reader.cacheStats();
    assert.ok(s.indexBytes <= budget.indexBytes && s.recordBytes <= budget.recordBytes, JSON.stringify(s));
  }
  assert.ok(reader.cacheStats().indexBytes > budget.indexBytes / 2, 'the budget is used, not ignored');
});
