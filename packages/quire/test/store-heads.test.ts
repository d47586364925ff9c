import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SETTLE_MS } from '@quire/fs';
import { CommentStore, threadIdOf } from '../src/index.js';
import { listComments, startTestServer, T0, tempDir } from './fixtures/srv-helpers.js';
import { META, PAGE, record } from './fixtures/srv-records.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Longer than @quire/fs's SETTLE_MS: a view loaded after this since the last change is trusted while unchanged. */
const SETTLE = SETTLE_MS + 50;
/**
 * An index budget whose eighth holds one head (1,500 bytes) while the rest (10,500) cannot hold the index of a
 * thread of MANY comments (~80-130 bytes each counted: rows, layout, listed names): as for a big thread pushed
 * out of the budget.
 */
const ONE_HEAD = 12_000;
const MANY = 150;

/** MANY comments posted to PAGE through `store`, then time for their stamps to settle; the thread's id. */
async function filled(store: CommentStore): Promise<string> {
  const threadId = threadIdOf(PAGE);
  for (let i = 0; i < MANY; i++)
    await store.addComment(threadId, META, record(`c${i}`), { duplicateWindowMs: 0 });
  await sleep(SETTLE);
  return threadId;
}

/** A store whose index budget keeps one head and no index of MANY comments, nor any record. */
function headOnlyStore(dir: string): Promise<CommentStore> {
  return CommentStore.open(dir, { clock: () => T0, cache: { indexBytes: ONE_HEAD, recordBytes: 0 } });
}

test('a thread whose index left the cache keeps its version while unchanged; any change makes a new one', async (t) => {
  const dir = tempDir(t);
  // The index is not kept: every view() loads again.
  const a = await CommentStore.open(dir, {
    clock: () => T0,
    cache: { indexBytes: ONE_HEAD, recordBytes: 1 << 20 },
  });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  assert.equal(await a.viewHead(threadIdOf(PAGE)), undefined, 'never loaded: unknown');
  const threadId = await filled(b);
  const v1 = await a.view(threadId);
  const read = a.cacheStats().filesRead;
  const head = await a.viewHead(threadId);
  assert.equal(head?.version, v1.version, 'the head of the last load');
  assert.equal(head?.approved, MANY);
  assert.equal('entries' in (head ?? {}), false, 'no index kept');
  assert.equal(a.cacheStats().filesRead, read, 'nothing read for the head');
  const again = await a.view(threadId);
  assert.notEqual(again, v1, 'loaded again (not cached)');
  assert.equal(again.version, v1.version, 'same files: same version');
  assert.ok(a.cacheStats().filesRead > read);

  // Another process's comment: the head is no longer current, and the next load is a new version.
  await b.addComment(threadId, META, record('two'), { duplicateWindowMs: 0 });
  assert.equal(await a.viewHead(threadId), undefined, 'changed: the head is not current');
  const v2 = await a.view(threadId);
  assert.notEqual(v2.version, v1.version);
  assert.equal(v2.approved, MANY + 1);
  // A like changes only the marks and votes: a new version too.
  await sleep(SETTLE);
  const v3 = await a.view(threadId);
  assert.equal((await a.view(threadId)).version, v3.version, 'settled: the same version again');
  const [first] = [...v3.entries.keys()];
  assert.equal(await b.vote(threadId, first as string, 'voter-1'), true);
  assert.equal(await a.viewHead(threadId), undefined);
  const v4 = await a.view(threadId);
  assert.notEqual(v4.version, v3.version);
  assert.equal(v4.entries.get(first as string)?.likes, 1);
});

test('a head is not used once older than a view may be (30 s): a hand edit in place is seen then', async (t) => {
  const dir = tempDir(t);
  const store = await headOnlyStore(dir);
  const threadId = await filled(store);
  const v1 = await store.view(threadId);
  assert.equal((await store.viewHead(threadId))?.version, v1.version);
  // Views age by the real clock (MAX_VIEW_AGE_MS), not the store's.
  const realNow = Date.now;
  t.after(() => {
    Date.now = realNow;
  });
  Date.now = () => realNow() + 31_000;
  assert.equal(await store.viewHead(threadId), undefined, 'too old to vouch for its pages');
  assert.notEqual((await store.view(threadId)).version, v1.version, 'too old: a new version');
});

test('GET /api/comments of an unchanged thread whose index left the cache is answered without reading it', async (t) => {
  const s = await startTestServer(t, { cache: { indexBytes: ONE_HEAD, recordBytes: 0 } });
  await filled(s.server.store);
  const first = await listComments(s, PAGE);
  const read = s.server.store.cacheStats().filesRead;
  for (let i = 0; i < 3; i++) assert.deepEqual(await listComments(s, PAGE), first);
  assert.equal(s.server.store.cacheStats().filesRead, read, 'a kept page was answered: no index read');
  // A new comment: the page is made again and shows it.
  assert.equal((await s.post({ uri: PAGE, text: 'three' })).status, 201);
  const after = await listComments(s, PAGE, {}, `&limit=${MANY + 1}`);
  assert.equal(after.comments.length, MANY + 1);
  assert.equal(after.comments[MANY].text, 'three');
  assert.ok(s.server.store.cacheStats().filesRead > read);
});

test("a head does not keep its thread's index alive", async (t) => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const store = await headOnlyStore(tempDir(t));
  const threadId = await filled(store);
  const entries = new WeakRef((await store.view(threadId)).entries);
  assert.ok((await store.viewHead(threadId)) !== undefined, 'the head is kept');
  // Out of this turn's stack, then collected: only the head could still hold the entries.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(entries.deref(), undefined, 'the index of a thread not kept was collected');
});
