import { IndexRows, NO_ROW } from '../store/index-rows.js';
import type { CommentRecord } from '../store/records.js';

/** What the tree needs of a comment before it is read: where it hangs, who may see it, its likes (IndexEntry). */
export interface Listed {
  readonly parent: string | null;
  readonly status: CommentRecord['status'];
  readonly likes: number;
}

/**
 * A thread's comments as a forest, built from its index (no record read), with what the public sees of it.
 * Comments are numbered as the rows of the index (the order they joined); every relation is a typed array of
 * numbers. It is kept from one version of a thread's index to the next and advanced by what changed
 * (advanceForest): a new comment or a verdict costs a few array operations, not a layout of the whole thread
 * (15-40 ms for 50,000 comments).
 */
export interface Forest {
  /** The index it was laid out from or last advanced to: comment i is its row i (stem, record's parent). */
  rows: IndexRows;
  /** The parent in the tree (-1 at top level): the record's, unless that parent is missing or on a cycle. */
  parent: Int32Array;
  depth: Int32Array;
  /**
   * Comments naming comment i as parent, in stem order (a cycle member may have another tree parent): as laid
   * out, kids[kidStart[i]] up to kids[kidStart[i + 1]]; those joined since, in `later` (childrenOf merges them).
   */
  kidStart: Int32Array;
  kids: Int32Array;
  later: Map<number, number[]>;
  /** Parents named that are not in the thread: a comment of that stem appearing moves its replies. */
  missing: Set<string>;
  /** Public visibility (approved) of each comment, and whether it is shown (visible, or a reply is). */
  visible: Uint8Array;
  shown: Uint8Array;
  /** Shown replies (with this comment as tree parent) of each comment. */
  shownKids: Int32Array;
  /** Visible comments. */
  total: number;
  /** The shown roots in stem order, made when asked after a change. */
  top: Int32Array | null;
}

/** The comments shown (visible ones, and hidden ones with shown replies), their top level sorted, and the count. */
export interface Shown {
  shown: Uint8Array;
  top: ArrayLike<number>;
  total: number;
}

/** The stem of comment i. */
export function stemOf(f: Forest, i: number): string {
  return f.rows.stemAt(i);
}

/** Inserts `i` into `list` (sorted by stem) where it belongs: at the end when it is the newest, as usual. */
function insertSorted(list: number[], i: number, rows: IndexRows): void {
  const last = list[list.length - 1];
  if (last === undefined || rows.compareRows(last, i) < 0) {
    list.push(i);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows.compareRows(list[mid] as number, i) < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, i);
}

/** The comments naming `i` as parent, in stem order. */
export function childrenOf(f: Forest, i: number): Iterable<number> {
  const laid =
    i + 1 < f.kidStart.length ? f.kids.subarray(f.kidStart[i], f.kidStart[i + 1]) : f.kids.subarray(0, 0);
  const later = f.later.get(i);
  if (later === undefined) return laid;
  const out: number[] = [];
  let a = 0;
  let b = 0;
  while (a < laid.length || b < later.length) {
    const x = laid[a];
    const y = later[b];
    if (y === undefined || (x !== undefined && f.rows.compareRows(x, y) < 0)) {
      out.push(x as number);
      a++;
    } else {
      out.push(y);
      b++;
    }
  }
  return out;
}

/** The comments naming `i` as parent joined since the layout (a list made on first use). */
function laterOf(f: Forest, i: number): number[] {
  let list = f.later.get(i);
  if (list === undefined) {
    list = [];
    f.later.set(i, list);
  }
  return list;
}

/**
 * Every comment's replies from the record parents (in `f.parent` when this runs: -1 for none), as one array in
 * row order of parents, each parent's in stem order: two typed arrays instead of a list per parent (~150 bytes
 * each at first push).
 */
function linkChildren(f: Forest): void {
  const n = f.rows.size;
  const raw = f.parent;
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) if ((raw[i] as number) >= 0) (start[(raw[i] as number) + 1] as number)++;
  for (let i = 0; i < n; i++) start[i + 1] = (start[i + 1] as number) + (start[i] as number);
  const kids = new Int32Array(start[n] as number);
  const at = scratch(n);
  at.set(start.subarray(0, n));
  for (let i = 0; i < n; i++) {
    const p = raw[i] as number;
    if (p >= 0) kids[(at[p] as number)++] = i;
  }
  const by = (a: number, b: number) => f.rows.compareRows(a, b);
  if (!f.rows.inStemOrder) for (let p = 0; p < n; p++) kids.subarray(start[p], start[p + 1]).sort(by);
  f.kidStart = start;
  f.kids = kids;
}

/** Makes comment `i` visible to the public or not, and what is shown above it follows. */
function setVisible(f: Forest, i: number, visible: boolean): void {
  const v = visible ? 1 : 0;
  if (f.visible[i] === v) return;
  f.visible[i] = v;
  f.total += visible ? 1 : -1;
  for (let s = i; s >= 0; ) {
    const now = f.visible[s] === 1 || (f.shownKids[s] as number) > 0 ? 1 : 0;
    if (f.shown[s] === now) return;
    f.shown[s] = now;
    const p = f.parent[s] as number;
    if (p < 0) f.top = null;
    else f.shownKids[p] = (f.shownKids[p] as number) + (now === 1 ? 1 : -1);
    s = p;
  }
}

/** Comments handled between two yields of layoutSteps: about a millisecond of the event loop. */
const SLICE = 4096;

/**
 * The layout of a forest from its entries, in steps: the generator yields after every SLICE comments of each
 * pass, so that a caller on the event loop can let other callbacks run between slices (forestOfSliced).
 */
function* layoutSteps(entries: ReadonlyMap<string, Listed>): Generator<void, Forest> {
  const rows = IndexRows.from(entries);
  const n = rows.size;
  const cap = room(n);
  const f: Forest = {
    rows,
    parent: new Int32Array(cap).fill(-1),
    depth: new Int32Array(cap).fill(-1),
    kidStart: new Int32Array(1),
    kids: new Int32Array(0),
    later: new Map(),
    missing: new Set(),
    visible: new Uint8Array(cap),
    shown: new Uint8Array(cap),
    shownKids: new Int32Array(cap),
    total: 0,
    top: null,
  };
  // Each pass is a plain function over a slice: V8 optimises those, not a loop inside a generator. The first
  // leaves each comment's record parent in f.parent, which the tree's parent is but for cycles (placeRoots).
  const passes = [
    (from: number, to: number) => linkParents(f, from, to),
    (from: number, to: number) => placeRoots(f, false, from, to),
    (from: number, to: number) => placeRoots(f, true, from, to),
    (from: number, to: number) => {
      for (let i = from; i < to; i++) setVisible(f, i, rows.statusAt(i) === 'approved');
    },
  ];
  for (const pass of passes) {
    for (let from = 0; from < n; from += SLICE) {
      pass(from, Math.min(n, from + SLICE));
      if (from + SLICE < n) yield;
    }
    if (pass === passes[0]) linkChildren(f);
  }
  return f;
}

/** Room for n comments and some to join. */
const room = (n: number) => n + (n >> 3) + 16;

/** The tree's parent of comment i as its record names it: NO_ROW for none, one not in the thread, or itself. */
function recordParent(rows: IndexRows, i: number): number {
  const p = rows.parentRow(i);
  return p === i ? NO_ROW : p;
}

/** The record's parent of each comment in [from, to) into f.parent, as a number (-1: none, missing, or itself). */
function linkParents(f: Forest, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const pi = recordParent(f.rows, i);
    if (pi === NO_ROW) {
      const p = f.rows.parentStem(i);
      if (p !== null && f.rows.parentRow(i) === NO_ROW) f.missing.add(p);
      continue;
    }
    f.parent[i] = pi;
  }
}

/**
 * The trees of the roots among [from, to), breadth-first: comments without a parent, or with `cycles`, those
 * still unreached, which sit on a cycle (only hand edits make one): its first member becomes a root. A reply
 * reached is given its record's parent, already in f.parent; a root has none.
 */
function placeRoots(f: Forest, cycles: boolean, from: number, to: number): void {
  const queue = scratch(f.rows.size);
  for (let root = from; root < to; root++) {
    if (cycles ? (f.depth[root] as number) >= 0 : f.parent[root] !== -1) continue;
    f.parent[root] = -1;
    f.depth[root] = 0;
    queue[0] = root;
    for (let q = 0, end = 1; q < end; q++) {
      const s = queue[q] as number;
      for (let k = f.kidStart[s] as number; k < (f.kidStart[s + 1] as number); k++) {
        const c = f.kids[k] as number;
        if ((f.depth[c] as number) >= 0) continue;
        f.depth[c] = (f.depth[s] as number) + 1;
        f.parent[c] = s;
        queue[end++] = c;
      }
    }
  }
}

/**
 * Room for the work of one call of placeRoots (its breadth-first queue) or linkChildren, shared by every layout:
 * neither spans a yield (layouts under way at once only interleave between calls). A list made per root was
 * ~150 bytes of garbage a comment; this is one array the size of the biggest thread laid out.
 */
let scratchRows = new Int32Array(1024);

function scratch(n: number): Int32Array {
  if (scratchRows.length < n) scratchRows = new Int32Array(room(n));
  return scratchRows;
}

/** The forest of a thread's index entries, laid out whole at once. */
export function forestOf(entries: ReadonlyMap<string, Listed>): Forest {
  const steps = layoutSteps(entries);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** The same as forestOf, a slice at a time: other callbacks run in between (a big thread takes tens of ms). */
export async function forestOfSliced(entries: ReadonlyMap<string, Listed>): Promise<Forest> {
  const steps = layoutSteps(entries);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Whether `advanceForest` can take this change to `next` (the rows of the forest's, with `changed` set and new
 * ones appended in that order), or the forest must be laid out again.
 */
function canAdvance(f: Forest, next: IndexRows, changed: readonly string[]): boolean {
  let added = 0;
  for (const stem of changed) {
    const i = f.rows.row(stem);
    const j = next.row(stem);
    if (j === NO_ROW) return false;
    if (i === NO_ROW) {
      // A parent appearing that replies were waiting for, a row out of place, or a parent joining after it.
      if (f.missing.has(stem) || j !== f.rows.size + added++) return false;
      const p = next.parentRow(j);
      if (p > j) return false;
      // A record whose parent changed (hand edits only).
    } else if (i !== j || f.rows.parentStem(i) !== next.parentStem(j)) return false;
  }
  return next.size === f.rows.size + added;
}

function grow<T extends Uint8Array | Int32Array>(a: T, n: number, fill: number): T {
  if (n <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(room(n));
  b.fill(fill);
  b.set(a);
  return b;
}

/** Adds comment i, new in f.rows (its parent, if any, already in the forest), hidden until setVisible. */
function addComment(f: Forest, i: number): void {
  const p = recordParent(f.rows, i);
  const named = f.rows.parentStem(i);
  if (named !== null && f.rows.parentRow(i) === NO_ROW) f.missing.add(named);
  f.parent = grow(f.parent, i + 1, -1);
  f.depth = grow(f.depth, i + 1, -1);
  f.shownKids = grow(f.shownKids, i + 1, 0);
  f.visible = grow(f.visible, i + 1, 0);
  f.shown = grow(f.shown, i + 1, 0);
  f.parent[i] = p;
  f.depth[i] = p < 0 ? 0 : (f.depth[p] as number) + 1;
  if (p >= 0) insertSorted(laterOf(f, p), i, f.rows);
}

/**
 * Advances the forest in place to `entries`, which differ from the ones it was laid out from by `changed`
 * (added or changed, in stem order) and `removed`. False if it cannot (a comment removed, a parent appearing,
 * a parent changed): then nothing was touched and the forest must be laid out again. A page laid out from the
 * forest before stays valid: comments only join, and those there keep their places.
 */
export function advanceForest(
  f: Forest,
  entries: ReadonlyMap<string, Listed>,
  changed: readonly string[],
  removed: readonly string[],
): boolean {
  const next = IndexRows.from(entries);
  if (removed.length > 0 || !canAdvance(f, next, changed)) return false;
  const known = f.rows.size;
  f.rows = next;
  for (const stem of changed) {
    const i = next.row(stem);
    if (i >= known) addComment(f, i);
    setVisible(f, i, next.statusAt(i) === 'approved');
  }
  return true;
}

/**
 * The public's top level: the shown roots (comments without a tree parent) in stem order. Made from the parents
 * after a change, not kept as a list: one pass over the thread's typed arrays, no array of every root kept or
 * grown (~20 bytes of garbage a comment at each layout).
 */
export function publicTop(f: Forest): Int32Array {
  if (f.top !== null) return f.top;
  const n = f.rows.size;
  const order = f.rows.inStemOrder ? null : f.rows.sortedRows();
  const isTop = (i: number) => (f.parent[i] as number) < 0 && f.shown[i] === 1;
  let count = 0;
  for (let k = 0; k < n; k++) if (isTop(order === null ? k : (order[k] as number))) count++;
  const top = new Int32Array(count);
  count = 0;
  for (let k = 0; k < n; k++) {
    const i = order === null ? k : (order[k] as number);
    if (isTop(i)) top[count++] = i;
  }
  f.top = top;
  return top;
}

/**
 * What the public sees plus `mine` (comments this caller may see besides): each of those and the comments
 * above it are shown (a hidden one as a tombstone). Costs the depth of each, not the size of the thread.
 */
export function shownWith(f: Forest, mine: readonly number[]): Shown {
  const shown = f.shown.slice();
  let total = f.total;
  const top = [...publicTop(f)];
  for (const i of mine) {
    if (f.visible[i] === 1) continue;
    total++;
    let s = i;
    while (shown[s] === 0) {
      shown[s] = 1;
      const p = f.parent[s] as number;
      if (p < 0) insertSorted(top, s, f.rows);
      if (p < 0) break;
      s = p;
    }
  }
  return { shown, top, total };
}
