import { type CommentRecord, compareStems } from '../store/records.js';

/** What the tree needs of a comment before it is read: where it hangs, who may see it, its likes (IndexEntry). */
export interface Listed {
  readonly parent: string | null;
  readonly status: CommentRecord['status'];
  readonly likes: number;
}

/**
 * A thread's comments as a forest, built from its index (no record read): comments are numbered in the index's
 * order and every relation is a typed array, so laying out a 50,000-comment thread costs a few milliseconds of
 * the event loop, not the hundred that maps of strings cost (measured: 40-130 ms of CPU).
 */
export interface Forest {
  stems: readonly string[];
  index: ReadonlyMap<string, number>;
  /** The parent in the tree (-1 at top level): the record's, unless that parent is missing or on a cycle. */
  parent: Int32Array;
  depth: Int32Array;
  /** Children of comment i, in name order: childList[childStart[i] .. childStart[i + 1]). */
  childStart: Int32Array;
  childList: Int32Array;
  roots: number[];
  /** Breadth-first from the roots: every parent before its replies. */
  order: Int32Array;
}

/** The comments shown (visible ones, and hidden ones with shown replies), their top level sorted, and the count. */
export interface Shown {
  shown: Uint8Array;
  top: number[];
  total: number;
}

/** The record's parents as numbers (-1: top level, or a parent not in the thread, or itself). */
function linksOf(entries: ReadonlyMap<string, Listed>, stems: readonly string[], index: Map<string, number>) {
  const n = stems.length;
  const raw = new Int32Array(n);
  const count = new Int32Array(n + 1);
  stems.forEach((stem, i) => {
    const p = entries.get(stem)?.parent;
    const pi = p == null || p === stem ? undefined : index.get(p);
    raw[i] = pi ?? -1;
    if (pi !== undefined) count[pi + 1] = (count[pi + 1] as number) + 1;
  });
  for (let i = 0; i < n; i++) count[i + 1] = (count[i + 1] as number) + (count[i] as number);
  const childList = new Int32Array(count[n] as number);
  const fill = count.slice(0, n);
  for (let i = 0; i < n; i++) {
    const p = raw[i] as number;
    if (p >= 0) childList[(fill[p] as number)++] = i;
  }
  const byStem = (a: number, b: number) => compareStems(stems[a] as string, stems[b] as string);
  for (let i = 0; i < n; i++) {
    const from = count[i] as number;
    const to = count[i + 1] as number;
    if (to - from > 1) childList.set(Array.from(childList.subarray(from, to)).sort(byStem), from);
  }
  return { raw, childStart: count, childList };
}

export function forestOf(entries: ReadonlyMap<string, Listed>): Forest {
  const stems = [...entries.keys()];
  const index = new Map<string, number>();
  for (let i = 0; i < stems.length; i++) index.set(stems[i] as string, i);
  const n = stems.length;
  const { raw, childStart, childList } = linksOf(entries, stems, index);
  const parent = new Int32Array(n).fill(-1);
  const depth = new Int32Array(n).fill(-1);
  const order = new Int32Array(n);
  let placed = 0;
  const roots: number[] = [];
  const visit = (root: number) => {
    roots.push(root);
    depth[root] = 0;
    const first = placed;
    order[placed++] = root;
    for (let q = first; q < placed; q++) {
      const s = order[q] as number;
      for (let k = childStart[s] as number; k < (childStart[s + 1] as number); k++) {
        const c = childList[k] as number;
        if ((depth[c] as number) >= 0) continue;
        depth[c] = (depth[s] as number) + 1;
        parent[c] = s;
        order[placed++] = c;
      }
    }
  };
  for (let i = 0; i < n; i++) if (raw[i] === -1) visit(i);
  // Whatever is left unreached sits on a cycle (only hand edits make one): its first member becomes a root.
  for (let i = 0; i < n; i++) if ((depth[i] as number) < 0) visit(i);
  return { stems, index, parent, depth, childStart, childList, roots, order };
}

/** What `isVisible` shows of the forest: a hidden comment stays (a tombstone) while a reply below it is shown. */
export function shownOf(f: Forest, isVisible: (i: number) => boolean): Shown {
  const shown = new Uint8Array(f.stems.length);
  let total = 0;
  for (let q = f.order.length - 1; q >= 0; q--) {
    const s = f.order[q] as number;
    if (isVisible(s)) {
      total++;
      shown[s] = 1;
      continue;
    }
    for (let k = f.childStart[s] as number; k < (f.childStart[s + 1] as number); k++) {
      const c = f.childList[k] as number;
      if (shown[c] === 1 && f.parent[c] === s) {
        shown[s] = 1;
        break;
      }
    }
  }
  const top = f.roots.filter((r) => shown[r] === 1);
  const byStem = (a: number, b: number) => compareStems(f.stems[a] as string, f.stems[b] as string);
  // Usually in order already (the index keeps names sorted): checked in one pass before sorting.
  if (top.some((r, i) => i > 0 && byStem(top[i - 1] as number, r) > 0)) top.sort(byStem);
  return { shown, top, total };
}
