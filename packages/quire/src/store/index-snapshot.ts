import { type CommentStatus, compareStems, STATUSES } from './records.js';

/** What listing a thread needs of a comment, without reading it: where it hangs, who may see it, its likes. */
export interface IndexEntry {
  readonly parent: string | null;
  readonly status: CommentStatus;
  readonly likes: number;
}

/** The entry of a top-level comment without likes, one per status: most entries are one of these, shared. */
const PLAIN = new Map(STATUSES.map((status) => [status, Object.freeze({ parent: null, status, likes: 0 })]));

/** An entry; a top-level one without likes is shared (an object per comment is a third of an index's memory). */
export function indexEntry(parent: string | null, status: CommentStatus, likes: number): IndexEntry {
  return (parent === null && likes === 0 ? PLAIN.get(status) : undefined) ?? { parent, status, likes };
}

/** A snapshot as read: its generation and its entries, in the order written. */
export interface Snapshot {
  gen: string;
  entries: Map<string, IndexEntry>;
  /** Read from the JSON form of earlier versions: to be written anew in this one. */
  legacy: boolean;
}

/**
 * The snapshot's form: a header, then per comment its stem, its parent as the number of that parent's row
 * (shared, not a second string; -1 none, -2 a stem not in the thread follows), its status and its likes.
 * A binary form because parsing is the cost of a cold page of a big thread: JSON.parse of 50,000 rows was
 * 2.2 MB and 65 ms of the event loop; this is 1.5 MB, read in slices.
 */
const MAGIC = Buffer.from('quire-index-2\n', 'latin1');
/** Rows (or names) per slice of the event loop when reading or writing a snapshot (about a millisecond each). */
export const SLICE_ROWS = 4096;
const NO_PARENT = -1;
const OTHER_PARENT = -2;

/** Lets other callbacks run between slices of a long parse or serialisation. */
export const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The legacy JSON form (`{"v":1,"gen":...,"rows":[[stem, parent, status, likes], ...]}`). */
function parseLegacy(buf: Buffer): Snapshot | null {
  try {
    const v = JSON.parse(buf.toString('utf8')) as { v?: unknown; gen?: unknown; rows?: unknown };
    if (v.v !== 1 || typeof v.gen !== 'string' || !Array.isArray(v.rows)) return null;
    const entries = new Map<string, IndexEntry>();
    for (const row of v.rows as unknown[]) {
      if (!Array.isArray(row)) return null;
      const [stem, parent, status, likes] = row as [unknown, unknown, CommentStatus, unknown];
      if (typeof stem !== 'string' || !STATUSES.includes(status)) return null;
      if (parent !== null && typeof parent !== 'string') return null;
      if (typeof likes !== 'number') return null;
      entries.set(stem, indexEntry(parent, status, likes));
    }
    return { gen: v.gen, entries, legacy: true };
  } catch {
    return null;
  }
}

/** A reader over a snapshot's bytes that fails (null) instead of reading past the end. */
class Cursor {
  at = 0;
  constructor(private readonly buf: Buffer) {}
  str(): string | null {
    const n = this.buf[this.at];
    if (n === undefined || this.at + 1 + n > this.buf.length) return null;
    const s = this.buf.toString('latin1', this.at + 1, this.at + 1 + n);
    this.at += 1 + n;
    return s;
  }
  int(): number | null {
    if (this.at + 4 > this.buf.length) return null;
    const v = this.buf.readInt32LE(this.at);
    this.at += 4;
    return v;
  }
  byte(): number | null {
    const b = this.buf[this.at];
    if (b !== undefined) this.at++;
    return b ?? null;
  }
  get done(): boolean {
    return this.at === this.buf.length;
  }
}

/** One row: its stem, its parent (a row number, or a stem, or none), its status and likes; null if damaged. */
function readRow(
  c: Cursor,
): { stem: string; ref: number | string | null; status: CommentStatus; likes: number } | null {
  const stem = c.str();
  const p = c.int();
  if (stem === null || stem === '' || p === null) return null;
  const ref = p === OTHER_PARENT ? c.str() : p === NO_PARENT ? null : p;
  const status = STATUSES[c.byte() ?? -1];
  const likes = c.int();
  if (ref === null && p === OTHER_PARENT) return null;
  if (status === undefined || likes === null || likes < 0) return null;
  return { stem, ref, status, likes };
}

/** Reads a snapshot, a slice of rows at a time; null when there is none or it is damaged (then rebuilt). */
export async function parseSnapshot(buf: Buffer | null): Promise<Snapshot | null> {
  if (buf === null) return null;
  if (buf[0] === 0x7b) return parseLegacy(buf);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const c = new Cursor(buf);
  c.at = MAGIC.length;
  const gen = c.str();
  const n = c.int();
  if (gen === null || n === null || n < 0) return null;
  const stems: string[] = [];
  const rows: NonNullable<ReturnType<typeof readRow>>[] = [];
  for (let i = 0; i < n; i++) {
    if (i % SLICE_ROWS === SLICE_ROWS - 1) await yieldLoop();
    const row = readRow(c);
    if (row === null) return null;
    stems.push(row.stem);
    rows.push(row);
  }
  if (!c.done) return null;
  const entries = new Map<string, IndexEntry>();
  for (const r of rows) {
    const parent = typeof r.ref === 'number' ? stems[r.ref] : r.ref;
    if (parent === undefined) return null;
    entries.set(r.stem, indexEntry(parent, r.status, r.likes));
  }
  return { gen, entries, legacy: false };
}

/** The snapshot's bytes for `entries` in their order, written a slice of rows at a time. */
export async function serialiseSnapshot(
  gen: string,
  entries: ReadonlyMap<string, IndexEntry>,
): Promise<Buffer> {
  const row = new Map<string, number>();
  let size = MAGIC.length + 1 + gen.length + 4;
  for (const [stem, e] of entries) {
    row.set(stem, row.size);
    size += 1 + stem.length + 4 + 1 + 4;
    if (e.parent !== null && !entries.has(e.parent)) size += 1 + e.parent.length;
  }
  const buf = Buffer.allocUnsafe(size);
  let at = MAGIC.copy(buf, 0);
  const str = (s: string) => {
    at = buf.writeUInt8(s.length, at);
    at += buf.write(s, at, 'latin1');
  };
  str(gen);
  at = buf.writeInt32LE(entries.size, at);
  let i = 0;
  for (const [stem, e] of entries) {
    if (i++ % SLICE_ROWS === SLICE_ROWS - 1) await yieldLoop();
    str(stem);
    const p = e.parent === null ? NO_PARENT : (row.get(e.parent) ?? OTHER_PARENT);
    at = buf.writeInt32LE(p, at);
    if (p === OTHER_PARENT) str(e.parent as string);
    at = buf.writeUInt8(STATUSES.indexOf(e.status), at);
    at = buf.writeInt32LE(e.likes, at);
  }
  return buf;
}

/** Whether the stems are in stem order (stems of one length compare as strings: one pass, no parsing). */
export function inStemOrder(entries: ReadonlyMap<string, unknown>): boolean {
  let prev: string | undefined;
  for (const stem of entries.keys()) {
    if (prev !== undefined && (prev.length === stem.length ? prev > stem : compareStems(prev, stem) > 0))
      return false;
    prev = stem;
  }
  return true;
}
