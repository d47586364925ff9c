/** The layout of a thread kept from one version of its index to the next (server/forest.ts, server/views.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommentStore, threadIdOf } from '../src/index.js';
import {
  advanceForest,
  type Forest,
  forestOf,
  type Listed,
  publicTop,
  stemOf,
} from '../src/server/forest.js';
import { planPage, type TreeOptions } from '../src/server/views.js';
import { compareStems } from '../src/store/records.js';
import { prng, tempDir } from './fixtures/srv-helpers.js';
import { META, PAGE, record } from './fixtures/srv-records.js';

const OPTS: TreeOptions = { mine: new Set(), maxDepth: 16, order: 'oldest', after: null, limit: 7 };
const stem = (n: number) => `20261126T100000Z-${n}`;
const STATUSES = ['approved', 'approved', 'approved', 'pending', 'spam', 'deleted'] as const;

/** Everything a page can depend on, by stem: the tree parent, depth and shown flag, the top level, the count. */
function described(f: Forest): unknown {
  const rows = Array.from({ length: f.rows.size }, (_, i) => {
    const p = f.parent[i] as number;
    return [stemOf(f, i), p < 0 ? null : stemOf(f, p), f.depth[i], f.shown[i], f.visible[i]];
  }).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return { rows, top: Array.from(publicTop(f), (i) => stemOf(f, i)), total: f.total };
}

/** The public top level by its definition: shown comments without a tree parent, by stem (compareStems). */
function expectedTop(f: Forest): string[] {
  const tops: string[] = [];
  for (let i = 0; i < f.rows.size; i++)
    if ((f.parent[i] as number) < 0 && f.shown[i] === 1) tops.push(stemOf(f, i));
  return tops.sort(compareStems);
}

test('a forest advanced by each change equals one laid out afresh, whatever the changes', () => {
  const rnd = prng(16);
  for (let round = 0; round < 20; round++) {
    const entries = new Map<string, Listed>();
    let next = 0;
    const add = () => {
      const n = next++;
      const known = [...entries.keys()];
      const parent =
        known.length > 0 && rnd() < 0.4 ? (known[Math.floor(rnd() * known.length)] as string) : null;
      entries.set(stem(n), {
        parent,
        status: STATUSES[Math.floor(rnd() * STATUSES.length)] ?? 'approved',
        likes: 0,
      });
      return stem(n);
    };
    for (let i = 0; i < 50; i++) add();
    const f = forestOf(entries);
    for (let step = 0; step < 60; step++) {
      const changed: string[] = [];
      const roll = rnd();
      if (roll < 0.5) changed.push(add());
      else if (roll < 0.9) {
        const s = stem(Math.floor(rnd() * next));
        const e = entries.get(s) as Listed;
        entries.set(s, { ...e, status: STATUSES[Math.floor(rnd() * STATUSES.length)] ?? 'approved' });
        changed.push(s);
      } else {
        // Out of order: a comment whose name sorts before others (a clock stepped back).
        const s = `20261126T000000Z-${step}`;
        entries.set(s, { parent: null, status: 'approved', likes: 0 });
        changed.push(s);
      }
      assert.ok(advanceForest(f, entries, changed, []), 'an addition or a verdict advances the forest');
      assert.deepEqual(described(f), described(forestOf(entries)), `round ${round}, step ${step}`);
      // The top level is made from the parents, in stem order even after a comment joined out of order.
      assert.deepEqual(
        Array.from(publicTop(f), (i) => stemOf(f, i)),
        expectedTop(f),
      );
    }
  }
});

test('a removal, or a parent that replies were waiting for, is refused: the forest is laid out again', () => {
  const entries = new Map<string, Listed>([
    [stem(1), { parent: null, status: 'approved', likes: 0 }],
    [stem(3), { parent: stem(2), status: 'approved', likes: 0 }],
  ]);
  const f = forestOf(entries);
  const before = described(f);
  assert.equal(advanceForest(f, entries, [], [stem(1)]), false);
  entries.set(stem(2), { parent: null, status: 'approved', likes: 0 });
  assert.equal(advanceForest(f, entries, [stem(2)], []), false);
  assert.deepEqual(described(f), before, 'a refused change leaves the forest as it was');
});

test('a comment posted into a thread advances the layout of its last version instead of laying it out again', async (t) => {
  const dataDir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const store = await CommentStore.open(dataDir, { durable: false });
  let last: string | null = null;
  for (let i = 0; i < 60; i++) {
    const over: { parent: string | null; status: 'pending' | 'approved' } = {
      parent: i % 4 === 3 ? last : null,
      status: i % 9 === 8 ? 'pending' : 'approved',
    };
    last = (await store.addComment(threadId, META, record(`c${i}`, over), { duplicateWindowMs: 0 })).stem;
  }
  const first = await store.view(threadId);
  const plan = planPage(first.entries, OPTS);
  for (let i = 0; i < 5; i++) {
    const parent = i % 2 === 0 ? last : null;
    await store.addComment(threadId, META, record(`more ${i}`, { parent }), { duplicateWindowMs: 0 });
    const view = await store.view(threadId);
    assert.notEqual(view.entries, first.entries, 'a new version of the index');
    for (const order of ['oldest', 'newest'] as const) {
      const advanced = planPage(view.entries, { ...OPTS, order, limit: 100 });
      assert.equal(advanced.forest, plan.forest, 'the same forest, advanced');
      // The same entries without their history: laid out afresh.
      const fresh = planPage(new Map(view.entries), { ...OPTS, order, limit: 100 });
      assert.notEqual(fresh.forest, plan.forest);
      assert.deepEqual([advanced.stems, advanced.top, advanced.total], [fresh.stems, fresh.top, fresh.total]);
    }
  }
});
