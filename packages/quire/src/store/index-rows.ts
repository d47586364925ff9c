import { type CommentStatus, STATUSES } from './records.js';
import { KEY, readStemKey, stemOfKey } from './stem-keys.js';

/** What listing a thread needs of a comment, without reading it: where it hangs, who may see it, its likes. */
export interface IndexEntry {
  readonly parent: string | null;
  readonly status: CommentStatus;
  readonly likes: number;
}

/** The entry of a top-level comment without likes, one per status: most entries are one of these, shared. */
const PLAIN = new Map(STATUSES.map((status) => [status, Object.freeze({ parent: null, status, likes: 0 })]));

/** An entry as an object; a top-level one without likes is shared. */
export function indexEntry(parent: string | null, status: CommentStatus, likes: number): IndexEntry {
  return (parent === null && likes === 0 ? PLAIN.get(status) : undefined) ?? { parent, status, likes };
}

/** parentRow's answer for a comment without a parent in the thread. */
export const NO_ROW = -1;
/** In `par`: the parent is a stem not in the thread when it was set (kept in `outside`; it may join later). */
const OUTSIDE = -2;
/** Bytes a row costs: its stem as two doubles, its parent, status and likes. */
const ROW_BYTES = 8 + 8 + 4 + 1 + 4;

/**
 * Rows to make room for when `n` are known: a few more, so that the comments a load reads since the snapshot
 * (or posted since the last load) join without copying a big thread's arrays again (each copy is garbage).
 */
export function roomFor(n: number): number {
  return n + 16 + (n >> 6);
}

function grown<T extends Float64Array | Int32Array | Uint8Array | Uint32Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a.subarray(0, Math.min(a.length, cap)));
  return b;
}

/**
 * A thread's index: per comment (a row) its stem, its parent, its status and its likes, in typed arrays (~25
 * bytes a comment; a Map of strings and entry objects was ~95, and the layout's own copy of the stems more).
 * Rows are numbered in the order they joined; a thread's index keeps them in stem order (new comments come
 * last), so a stem is found by binary search; a stem joining out of order (a clock stepped back) makes a sorted
 * permutation, on the next search. Reads as a ReadonlyMap of IndexEntry (made on demand) for callers that want
 * one; layouts read the rows.
 */
export class IndexRows implements ReadonlyMap<string, IndexEntry> {
  private time: Float64Array;
  private seq: Float64Array;
  private par: Int32Array;
  private st: Uint8Array;
  private lk: Uint32Array;
  /** Parents named by rows that were not in the thread when set, by row. */
  private outside = new Map<number, string>();
  private n = 0;
  private ordered = true;
  /** Rows in stem order, while they are not (made on the next search, dropped on the next change). */
  private perm: Int32Array | null = null;

  constructor(capacity = 16) {
    const cap = Math.max(1, capacity);
    this.time = new Float64Array(cap);
    this.seq = new Float64Array(cap);
    this.par = new Int32Array(cap);
    this.st = new Uint8Array(cap);
    this.lk = new Uint32Array(cap);
  }

  /** The rows of any map of entries, in its order (a layout of a plain map, in tests). */
  static from(entries: ReadonlyMap<string, IndexEntry>): IndexRows {
    if (entries instanceof IndexRows) return entries;
    const rows = new IndexRows(entries.size);
    for (const [stem, e] of entries) rows.set(stem, e);
    return rows;
  }

  get size(): number {
    return this.n;
  }

  /** Bytes this index holds. */
  get bytes(): number {
    return this.time.length * ROW_BYTES + this.outside.size * 64 + (this.perm?.byteLength ?? 0) + 200;
  }

  /** A copy of its own, with room for `extra` more rows before growing. */
  clone(extra = 16): IndexRows {
    const c = new IndexRows(1);
    const cap = roomFor(this.n + extra);
    c.time = grown(this.time, cap);
    c.seq = grown(this.seq, cap);
    c.par = grown(this.par, cap);
    c.st = grown(this.st, cap);
    c.lk = grown(this.lk, cap);
    c.outside = new Map(this.outside);
    c.n = this.n;
    c.ordered = this.ordered;
    return c;
  }

  /**
   * Makes room for `k` more rows at once (a load knows how many it may add): a big thread's arrays are then
   * copied once, to their size, not doubled and trimmed (each copy of a big one is memory malloc may keep).
   */
  reserve(k: number): void {
    if (this.n + k > this.time.length) this.resize(roomFor(this.n + k));
  }

  private resize(cap: number): void {
    this.time = grown(this.time, cap);
    this.seq = grown(this.seq, cap);
    this.par = grown(this.par, cap);
    this.st = grown(this.st, cap);
    this.lk = grown(this.lk, cap);
  }

  /** Gives back unused room beyond roomFor's (an index kept in the cache holds little more than its rows). */
  trim(): void {
    if (this.time.length > roomFor(roomFor(this.n))) this.resize(Math.max(1, roomFor(this.n)));
  }

  stemAt(row: number): string {
    return stemOfKey(this.time[row] as number, this.seq[row] as number);
  }

  /** The row of `stem`, or NO_ROW. */
  row(stem: string): number {
    return readStemKey(stem) ? this.rowOfKey(KEY[0] as number, KEY[1] as number) : NO_ROW;
  }

  rowOfKey(time: number, seq: number): number {
    const perm = this.ordered ? null : this.sortedRows();
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = perm === null ? mid : (perm[mid] as number);
      const t = this.time[r] as number;
      const c = t !== time ? t - time : (this.seq[r] as number) - seq;
      if (c === 0) return r;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return NO_ROW;
  }

  /** Rows in stem order (the identity while they are). */
  sortedRows(): Int32Array {
    if (this.perm !== null) return this.perm;
    const perm = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) perm[i] = i;
    if (!this.ordered) perm.sort((a, b) => this.compareRows(a, b));
    if (!this.ordered) this.perm = perm;
    return perm;
  }

  get inStemOrder(): boolean {
    return this.ordered;
  }

  /** compareStems of two rows' stems. */
  compareRows(a: number, b: number): number {
    const t = (this.time[a] as number) - (this.time[b] as number);
    return t !== 0 ? t : (this.seq[a] as number) - (this.seq[b] as number);
  }

  /** The row of the comment's parent in the thread, or NO_ROW (none, or not in the thread). */
  parentRow(row: number): number {
    const p = this.par[row] as number;
    if (p !== OUTSIDE) return p;
    return this.row(this.outside.get(row) as string);
  }

  parentStem(row: number): string | null {
    const p = this.par[row] as number;
    if (p === OUTSIDE) return this.outside.get(row) ?? null;
    return p === NO_ROW ? null : this.stemAt(p);
  }

  statusAt(row: number): CommentStatus {
    return STATUSES[this.st[row] as number] as CommentStatus;
  }

  likesAt(row: number): number {
    return this.lk[row] as number;
  }

  entryAt(row: number): IndexEntry {
    return indexEntry(this.parentStem(row), this.statusAt(row), this.likesAt(row));
  }

  get(stem: string): IndexEntry | undefined {
    const r = this.row(stem);
    return r === NO_ROW ? undefined : this.entryAt(r);
  }

  has(stem: string): boolean {
    return this.row(stem) !== NO_ROW;
  }

  /** Adds or changes a comment's row (a new stem joins last); throws for what is not a comment stem. */
  set(stem: string, e: IndexEntry): this {
    if (!readStemKey(stem)) throw new TypeError(`not a comment stem: ${stem}`);
    const time = KEY[0] as number;
    const seq = KEY[1] as number;
    let r = this.rowOfKey(time, seq);
    if (r === NO_ROW) r = this.append(time, seq, NO_ROW, 0, 0);
    this.setParent(r, e.parent);
    this.st[r] = STATUSES.indexOf(e.status);
    this.lk[r] = e.likes;
    return this;
  }

  private setParent(r: number, parent: string | null): void {
    this.outside.delete(r);
    const p = parent === null ? NO_ROW : this.row(parent);
    this.par[r] = parent === null || p !== NO_ROW ? p : OUTSIDE;
    if (parent !== null && p === NO_ROW) this.outside.set(r, parent);
  }

  /**
   * Appends a row (`parent` a row number, which may be one not yet appended, or NO_ROW); returns its number.
   * For readers that add rows in bulk (a snapshot's): check() after the last.
   */
  append(time: number, seq: number, parent: number, status: number, likes: number): number {
    const r = this.n;
    if (r === this.time.length) this.resize(Math.max(16, r * 2));
    if (r > 0 && this.ordered) {
      const t = (this.time[r - 1] as number) - time;
      if (t > 0 || (t === 0 && (this.seq[r - 1] as number) >= seq)) this.ordered = false;
    }
    this.perm = null;
    this.time[r] = time;
    this.seq[r] = seq;
    this.par[r] = parent;
    this.st[r] = status;
    this.lk[r] = likes;
    this.n = r + 1;
    return r;
  }

  /** Names `parent` (a stem not in the thread) as the parent of row `r`. */
  setOutsideParent(r: number, parent: string): void {
    this.par[r] = OUTSIDE;
    this.outside.set(r, parent);
  }

  /** Whether bulk-appended rows are sound: parents within the rows, statuses known, no stem twice. */
  check(): boolean {
    for (let r = 0; r < this.n; r++) {
      const p = this.par[r] as number;
      if (p < OUTSIDE || p >= this.n || (this.st[r] as number) >= STATUSES.length) return false;
    }
    const perm = this.sortedRows();
    for (let k = 1; k < this.n; k++)
      if (this.compareRows(perm[k - 1] as number, perm[k] as number) === 0) return false;
    return true;
  }

  delete(stem: string): boolean {
    const r = this.row(stem);
    if (r === NO_ROW) return false;
    this.remove(new Set([r]));
    return true;
  }

  /** Removes rows (renumbering those after them); a reply to a removed row names its parent's stem instead. */
  remove(gone: ReadonlySet<number>): void {
    if (gone.size === 0) return;
    const to = new Int32Array(this.n);
    let m = 0;
    for (let r = 0; r < this.n; r++) to[r] = gone.has(r) ? NO_ROW : m++;
    const outside = new Map<number, string>();
    // Taken first: a removed row's slot is overwritten by the rows after it.
    const goneStems = new Map([...gone].map((r) => [r, this.stemAt(r)]));
    const wasOrdered = this.ordered;
    for (let r = 0; r < this.n; r++) {
      const k = to[r] as number;
      if (k === NO_ROW) continue;
      const p = this.par[r] as number;
      if (p >= 0 && to[p] === NO_ROW) outside.set(k, goneStems.get(p) as string);
      else if (p === OUTSIDE) outside.set(k, this.outside.get(r) as string);
      this.par[k] = p >= 0 && to[p] === NO_ROW ? OUTSIDE : p >= 0 ? (to[p] as number) : p;
      this.time[k] = this.time[r] as number;
      this.seq[k] = this.seq[r] as number;
      this.st[k] = this.st[r] as number;
      this.lk[k] = this.lk[r] as number;
    }
    this.n = m;
    this.outside = outside;
    this.perm = null;
    this.ordered = wasOrdered || this.isSorted();
  }

  private isSorted(): boolean {
    for (let r = 1; r < this.n; r++) if (this.compareRows(r - 1, r) >= 0) return false;
    return true;
  }

  /** A copy in stem order (parents renumbered). */
  sorted(): IndexRows {
    if (this.ordered) return this.clone(0);
    const perm = this.sortedRows();
    const to = new Int32Array(this.n);
    for (let k = 0; k < this.n; k++) to[perm[k] as number] = k;
    const out = new IndexRows(this.n);
    for (let k = 0; k < this.n; k++) {
      const r = perm[k] as number;
      const p = this.par[r] as number;
      out.append(
        this.time[r] as number,
        this.seq[r] as number,
        p >= 0 ? (to[p] as number) : p,
        this.st[r] as number,
        this.lk[r] as number,
      );
      if (p === OUTSIDE) out.outside.set(k, this.outside.get(r) as string);
    }
    return out;
  }

  /** The stem's key of a row (its time digits and N), for writers of the rows (the snapshot). */
  timeAt(row: number): number {
    return this.time[row] as number;
  }

  seqAt(row: number): number {
    return this.seq[row] as number;
  }

  /** The raw status number of a row (STATUSES' index). */
  statusCode(row: number): number {
    return this.st[row] as number;
  }

  *keys(): MapIterator<string> {
    for (let r = 0; r < this.n; r++) yield this.stemAt(r);
  }

  *values(): MapIterator<IndexEntry> {
    for (let r = 0; r < this.n; r++) yield this.entryAt(r);
  }

  *entries(): MapIterator<[string, IndexEntry]> {
    for (let r = 0; r < this.n; r++) yield [this.stemAt(r), this.entryAt(r)];
  }

  [Symbol.iterator](): MapIterator<[string, IndexEntry]> {
    return this.entries();
  }

  forEach(cb: (value: IndexEntry, key: string, map: ReadonlyMap<string, IndexEntry>) => void): void {
    for (let r = 0; r < this.n; r++) cb(this.entryAt(r), this.stemAt(r), this);
  }
}
