import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommentRecord, PublicComment, StoredComment } from '../src/index.js';
import { buildTree, planPage, type Tree, type TreeOptions } from '../src/server/views.js';
import { textHashOf } from '../src/store/records.js';

const TID = `example-org-p-${'a'.repeat(32)}`;

function c(stem: string, parent: string | null, over: Partial<CommentRecord> = {}): StoredComment {
  const text = over.text ?? `text of ${stem}`;
  return {
    stem,
    record: {
      v: 1,
      parent,
      author: 'A',
      email: 'a@example.org',
      website: null,
      text,
      status: 'approved',
      created: '2026-11-26T10:00:00.000Z',
      edited: null,
      deleted: null,
      ip: null,
      ipHash: null,
      nonce: null,
      textHash: textHashOf(text),
      ...over,
    },
  };
}

/** The page as the route makes it: laid out from the index (parent, status, likes), then the page's records. */
function pageOf(
  threadId: string,
  comments: readonly StoredComment[],
  likes: ReadonlyMap<string, number>,
  opts: TreeOptions,
): Tree {
  const entries = new Map(
    comments.map((x) => [
      x.stem,
      { parent: x.record.parent, status: x.record.status, likes: likes.get(x.stem) ?? 0 },
    ]),
  );
  const plan = planPage(entries, opts);
  const records = new Map(comments.filter((x) => plan.stems.includes(x.stem)).map((x) => [x.stem, x.record]));
  return buildTree(threadId, plan, records, entries, opts.maxDepth);
}

const s = (n: number) => `20261126T1000${String(n).padStart(2, '0')}Z-0`;
const OPTS: TreeOptions = { mine: new Set(), maxDepth: 16, order: 'oldest', after: null, limit: 50 };

/** The tree as nested [stem, status, children] for compact assertions. */
function shape(nodes: PublicComment[]): unknown[] {
  return nodes.map((n) => [n.id.split('_')[1], n.status, ...(n.replies.length ? [shape(n.replies)] : [])]);
}

test('replies nest under their parents in time order, never showing an e-mail', () => {
  const tree = pageOf(
    TID,
    [c(s(1), null), c(s(2), s(1)), c(s(3), null), c(s(4), s(1)), c(s(5), s(2))],
    new Map(),
    OPTS,
  );
  assert.deepEqual(shape(tree.comments), [
    [
      s(1),
      'approved',
      [
        [s(2), 'approved', [[s(5), 'approved']]],
        [s(4), 'approved'],
      ],
    ],
    [s(3), 'approved'],
  ]);
  assert.equal(tree.total, 5);
  assert.ok(!JSON.stringify(tree).includes('a@example.org'));
});

test('a hidden comment with visible replies is a tombstone, without them it is left out', () => {
  const comments = [
    c(s(1), null, { status: 'spam' }),
    c(s(2), s(1)),
    c(s(3), null, { status: 'deleted', text: '' }),
    c(s(4), null, { status: 'pending' }),
    c(s(5), s(4)),
    c(s(6), null, { status: 'pending' }),
  ];
  const tree = pageOf(TID, comments, new Map(), OPTS);
  assert.deepEqual(shape(tree.comments), [
    [s(1), 'deleted', [[s(2), 'approved']]],
    [s(4), 'deleted', [[s(5), 'approved']]],
  ]);
  const tomb = tree.comments[0] as PublicComment;
  assert.deepEqual([tomb.text, tomb.author, tomb.html], ['', null, '']);
  assert.equal(tree.total, 2);
  const mine = pageOf(TID, comments, new Map(), { ...OPTS, mine: new Set([s(4), s(6)]) });
  assert.deepEqual(shape(mine.comments), [
    [s(1), 'deleted', [[s(2), 'approved']]],
    [s(4), 'pending', [[s(5), 'approved']]],
    [s(6), 'pending'],
  ]);
  assert.equal(mine.total, 4);
});

test('replies deeper than maxDepth are listed beside their parent, keeping their parent field', () => {
  const chain = [c(s(1), null), c(s(2), s(1)), c(s(3), s(2)), c(s(4), s(3)), c(s(5), s(4))];
  const tree = pageOf(TID, chain, new Map(), { ...OPTS, maxDepth: 2 });
  assert.deepEqual(shape(tree.comments), [
    [
      s(1),
      'approved',
      [
        [
          s(2),
          'approved',
          [
            [s(3), 'approved'],
            [s(4), 'approved'],
            [s(5), 'approved'],
          ],
        ],
      ],
    ],
  ]);
  const deepest = (tree.comments[0] as PublicComment).replies[0]?.replies[2];
  assert.equal(deepest?.parent, `${TID}_${s(4)}`);
});

test('a reply whose parent is gone stands at top level, and a parent cycle from a hand edit is broken', () => {
  const orphan = pageOf(TID, [c(s(2), s(1))], new Map(), OPTS);
  assert.deepEqual(shape(orphan.comments), [[s(2), 'approved']]);
  const cycle = pageOf(TID, [c(s(1), s(3)), c(s(2), s(1)), c(s(3), s(2)), c(s(4), s(4))], new Map(), OPTS);
  assert.equal(cycle.total, 4);
  const ids = JSON.stringify(cycle.comments).match(/Z-0"/g) ?? [];
  assert.ok(ids.length >= 4, 'every comment appears');
  assert.deepEqual(
    cycle.comments.map((n) => n.id.split('_')[1]),
    [s(1), s(4)],
  );
});

test('very deep conversations build without recursion limits', () => {
  const n = 5000;
  const chain = Array.from({ length: n }, (_, i) =>
    c(`20261126T100000Z-${i}`, i === 0 ? null : `20261126T100000Z-${i - 1}`),
  );
  const tree = pageOf(TID, chain, new Map(), OPTS);
  assert.equal(tree.total, n);
  assert.equal(tree.comments.length, 1);
});

test('pages count top-level comments in either order, and likes are attached', () => {
  const comments = Array.from({ length: 5 }, (_, i) => c(s(i), null));
  const likes = new Map([[s(3), 7]]);
  const first = pageOf(TID, comments, likes, { ...OPTS, limit: 2 });
  assert.deepEqual(
    first.comments.map((x) => x.id.split('_')[1]),
    [s(0), s(1)],
  );
  assert.equal(first.next, s(1));
  const second = pageOf(TID, comments, likes, { ...OPTS, limit: 2, after: s(1) });
  assert.deepEqual(
    second.comments.map((x) => [x.id.split('_')[1], x.likes]),
    [
      [s(2), 0],
      [s(3), 7],
    ],
  );
  const newest = pageOf(TID, comments, likes, { ...OPTS, order: 'newest', limit: 10, after: s(3) });
  assert.deepEqual(
    newest.comments.map((x) => x.id.split('_')[1]),
    [s(2), s(1), s(0)],
  );
  assert.equal(newest.next, null);
});
