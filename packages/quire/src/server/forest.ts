import { type CommentRecord, compareStems } from '../store/records.js';

/** What the tree needs of a comment before it is read: where it hangs, who may see it, its likes (IndexEntry). */
export interface Listed {
  readonly parent: string | null;
  readonly status: CommentRecord['status'];
  readonly likes: number;
}

/**
 * A thread's comments as a forest, built from its index (no record read), with what the public sees of it.
 * Comments are numbered in the order they joined; every relation is an array of numbers. It is kept from one
 * version of a thread's index to the next and advanced by what changed (advanceForest): a new comment or a
 * verdict costs a few array operations, not a layout of the whole thread (15-40 ms for 50,000 comments).
 */
export interface Forest {
  stems: string[];
  /** The number of each stem. */
  index: StemIndex;
  /** The record's parent stem, as the forest was told it. */
  rawParent: (string | null)[];
  /** The parent in the tree (-1 at top level): the record's, unless that parent is missing or on a cycle. */
  parent: number[];
  depth: number[];
  /** Comments naming comment i as parent, in stem order (a cycle member may have another tree parent). */
  children: (number[] | undefined)[];
  /** Top-level comments in stem order. */
  roots: number[];
  /** Parents named that are not in the thread: a comment of that stem appearing moves its replies. */
  missing: Set<string>;
  /** Public visibility (approved) of each comment, and whether it is shown (visible, or a reply is). */
  visible: Uint8Array;
  shown: Uint8Array;
  /** Shown replies (with this comment as tree parent) of each comment. */
  shownKids: number[];
  /** Visible comments. */
  total: number;
  /** The shown roots in stem order, made when asked after a change. */
  top: number[] | null;
}

/**
 * The number of each comment of a forest by its stem. While the stems are in stem order (a thread's index keeps
 * them so, and new comments come last) a binary search finds it, with no map of every stem: building one was
 * most of a layout's time (20 ms for 50,000) and 40 bytes a comment. A stem joining out of order makes the map.
 */
export class StemIndex {
  private map: Map<string, number> | null = null;

  constructor(private readonly stems: readonly string[]) {
    for (let i = 1; i < stems.length && this.map === null; i++)
      if (stemOrder(stems[i - 1] as string, stems[i] as string) >= 0) this.makeMap();
  }

  get(stem: string): number | undefined {
    if (this.map !== null) return this.map.get(stem);
    let lo = 0;
    let hi = this.stems.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = stemOrder(this.stems[mid] as string, stem);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return undefined;
  }

  /** Tells that `stem` was just added as the last of the stems. */
  added(stem: string): void {
    const i = this.stems.length - 1;
    if (this.map !== null) this.map.set(stem, i);
    else if (i > 0 && stemOrder(this.stems[i - 1] as string, stem) >= 0) this.makeMap();
  }

  private makeMap(): void {
    this.map = new Map();
    for (let i = 0; i < this.stems.length; i++) this.map.set(this.stems[i] as string, i);
  }
}

/** The comments shown (visible ones, and hidden ones with shown replies), their top level sorted, and the count. */
export interface Shown {
  shown: Uint8Array;
  top: number[];
  total: number;
}

/** compareStems, without parsing when the stems are of one length (then they compare as strings): most are. */
function stemOrder(a: string, b: string): number {
  if (a.length !== b.length) return compareStems(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

const byStemOf = (stems: readonly string[]) => (a: number, b: number) =>
  stemOrder(stems[a] as string, stems[b] as string);

/** Inserts `i` into `list` (sorted by stem) where it belongs: at the end when it is the newest, as usual. */
function insertSorted(list: number[], i: number, stems: readonly string[]): void {
  const last = list[list.length - 1];
  if (last === undefined || stemOrder(stems[last] as string, stems[i] as string) < 0) {
    list.push(i);
    return;
  }
  const by = byStemOf(stems);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (by(list[mid] as number, i) < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, i);
}

/** The list of comments naming `i` as parent, made on first use. */
function childrenOf(f: Forest, i: number): number[] {
  let list = f.children[i];
  if (list === undefined) {
    list = [];
    f.children[i] = list;
  }
  return list;
}

function isSorted(list: readonly number[], by: (a: number, b: number) => number): boolean {
  for (let k = 1; k < list.length; k++) if (by(list[k - 1] as number, list[k] as number) > 0) return false;
  return true;
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
  const stems = [...entries.keys()];
  const n = stems.length;
  const f: Forest = {
    stems,
    index: new StemIndex(stems),
    rawParent: new Array<string | null>(n).fill(null),
    parent: new Array<number>(n).fill(-1),
    depth: new Array<number>(n).fill(-1),
    children: new Array<number[] | undefined>(n),
    roots: [],
    missing: new Set(),
    visible: new Uint8Array(Math.max(16, n * 2)),
    shown: new Uint8Array(Math.max(16, n * 2)),
    shownKids: new Array<number>(n).fill(0),
    total: 0,
    top: null,
  };
  const raw = new Int32Array(n).fill(-1);
  // Each pass is a plain function over a slice: V8 optimises those, not a loop inside a generator.
  const passes = [
    (from: number, to: number) => linkParents(f, entries, raw, from, to),
    (from: number, to: number) => placeRoots(f, raw, false, from, to),
    (from: number, to: number) => placeRoots(f, raw, true, from, to),
    (from: number, to: number) => {
      for (let i = from; i < to; i++)
        setVisible(f, i, entries.get(stems[i] as string)?.status === 'approved');
    },
  ];
  for (const pass of passes) {
    for (let from = 0; from < n; from += SLICE) {
      pass(from, Math.min(n, from + SLICE));
      if (from + SLICE < n) yield;
    }
    if (pass === passes[0]) {
      const by = byStemOf(stems);
      for (const list of f.children) if (list !== undefined && !isSorted(list, by)) list.sort(by);
    }
  }
  const by = byStemOf(f.stems);
  if (!isSorted(f.roots, by)) f.roots.sort(by);
  return f;
}

/** The record's parent of each comment in [from, to), as a number (-1: none, missing, or itself). */
function linkParents(
  f: Forest,
  entries: ReadonlyMap<string, Listed>,
  raw: Int32Array,
  from: number,
  to: number,
): void {
  for (let i = from; i < to; i++) {
    const stem = f.stems[i] as string;
    const p = entries.get(stem)?.parent ?? null;
    f.rawParent[i] = p;
    const pi = p === null || p === stem ? undefined : f.index.get(p);
    if (p !== null && pi === undefined) f.missing.add(p);
    if (pi !== undefined) {
      childrenOf(f, pi).push(i);
      raw[i] = pi;
    }
  }
}

/**
 * The trees of the roots among [from, to), breadth-first: comments without a parent, or with `cycles`, those
 * still unreached, which sit on a cycle (only hand edits make one): its first member becomes a root.
 */
function placeRoots(f: Forest, raw: Int32Array, cycles: boolean, from: number, to: number): void {
  const queue: number[] = [];
  for (let root = from; root < to; root++) {
    if (cycles ? (f.depth[root] as number) >= 0 : raw[root] !== -1) continue;
    f.roots.push(root);
    f.depth[root] = 0;
    queue.length = 0;
    queue.push(root);
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q] as number;
      for (const c of f.children[s] ?? []) {
        if ((f.depth[c] as number) >= 0) continue;
        f.depth[c] = (f.depth[s] as number) + 1;
        f.parent[c] = s;
        queue.push(c);
      }
    }
  }
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

/** Whether `advanceForest` can take this change, or the forest must be laid out again. */
function canAdvance(f: Forest, entries: ReadonlyMap<string, Listed>, changed: readonly string[]): boolean {
  for (const stem of changed) {
    const i = f.index.get(stem);
    const e = entries.get(stem);
    if (e === undefined) return false;
    // A parent appearing that replies were waiting for, or a record whose parent changed (hand edits only).
    if (i === undefined ? f.missing.has(stem) : f.rawParent[i] !== e.parent) return false;
  }
  return true;
}

function grow(a: Uint8Array, n: number): Uint8Array {
  if (n <= a.length) return a;
  const b = new Uint8Array(n * 2);
  b.set(a);
  return b;
}

/** Adds a new comment (its parent, if any, already in the forest), hidden until setVisible. */
function addComment(f: Forest, stem: string, e: Listed): number {
  const i = f.stems.length;
  f.stems.push(stem);
  f.index.added(stem);
  f.rawParent.push(e.parent);
  const p = e.parent === null || e.parent === stem ? -1 : (f.index.get(e.parent) ?? -1);
  if (e.parent !== null && p === -1) f.missing.add(e.parent);
  f.parent.push(p);
  f.depth.push(p < 0 ? 0 : (f.depth[p] as number) + 1);
  f.children.push(undefined);
  f.shownKids.push(0);
  f.visible = grow(f.visible, i + 1);
  f.shown = grow(f.shown, i + 1);
  if (p < 0) insertSorted(f.roots, i, f.stems);
  else insertSorted(childrenOf(f, p), i, f.stems);
  return i;
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
  if (removed.length > 0 || !canAdvance(f, entries, changed)) return false;
  for (const stem of changed) {
    const e = entries.get(stem) as Listed;
    const i = f.index.get(stem) ?? addComment(f, stem, e);
    setVisible(f, i, e.status === 'approved');
  }
  return true;
}

/** The public's top level: the shown roots in stem order. */
export function publicTop(f: Forest): number[] {
  f.top ??= f.roots.filter((r) => f.shown[r] === 1);
  return f.top;
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
      if (p < 0) insertSorted(top, s, f.stems);
      if (p < 0) break;
      s = p;
    }
  }
  return { shown, top, total };
}
