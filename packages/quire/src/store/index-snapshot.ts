import { type IndexEntry, IndexRows, indexEntry, NO_ROW, roomFor } from './index-rows.js';
import { type CommentStatus, STATUSES } from './records.js';
import { KEY, readStemKeyOf, stemKey, stemLength, writeStem } from './stem-keys.js';

export { type IndexEntry, IndexRows, indexEntry };

/** A snapshot as read: its generation and its entries, in the order written. */
export interface Snapshot {
  gen: string;
  entries: IndexRows;
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
const OTHER_PARENT = -2;

/** Lets other callbacks run between slices of a long parse or serialisation. */
export const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The legacy JSON form (`{"v":1,"gen":...,"rows":[[stem, parent, status, likes], ...]}`). */
function parseLegacy(buf: Buffer): Snapshot | null {
  try {
    const v = JSON.parse(buf.toString('utf8')) as { v?: unknown; gen?: unknown; rows?: unknown };
    if (v.v !== 1 || typeof v.gen !== 'string' || !Array.isArray(v.rows)) return null;
    const entries = new IndexRows(v.rows.length);
    for (const row of v.rows as unknown[]) {
      if (!Array.isArray(row)) return null;
      const [stem, parent, status, likes] = row as [unknown, unknown, CommentStatus, unknown];
      if (typeof stem !== 'string' || stemKey(stem) === null || !STATUSES.includes(status)) return null;
      if (parent !== null && (typeof parent !== 'string' || stemKey(parent) === null)) return null;
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
  /** A stem's key, read from its bytes into KEY (no string or array made); false if it is not a comment stem. */
  key(): boolean {
    const n = this.buf[this.at];
    if (n === undefined || this.at + 1 + n > this.buf.length) return false;
    const ok = readStemKeyOf(this.buf, this.at + 1, this.at + 1 + n);
    this.at += 1 + n;
    return ok;
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

/** One row into `rows`: its stem, its parent (a row number, or a stem, or none), its status and likes. */
function readRow(c: Cursor, rows: IndexRows): boolean {
  if (!c.key()) return false;
  // Taken before anything else reads a key into KEY.
  const time = KEY[0] as number;
  const seq = KEY[1] as number;
  const p = c.int();
  if (p === null) return false;
  const other = p === OTHER_PARENT ? c.str() : null;
  const status = c.byte();
  const likes = c.int();
  if (p === OTHER_PARENT && (other === null || stemKey(other) === null)) return false;
  if (status === null || status >= STATUSES.length || likes === null || likes < 0) return false;
  if (p < OTHER_PARENT) return false;
  const r = rows.append(time, seq, p === OTHER_PARENT ? NO_ROW : p, status, likes);
  if (other !== null) rows.setOutsideParent(r, other);
  return true;
}

/**
 * Reads a snapshot, a slice of rows at a time, straight into the index's rows (no string or object per row);
 * null when there is none or it is damaged (then rebuilt).
 */
export async function parseSnapshot(buf: Buffer | null): Promise<Snapshot | null> {
  if (buf === null) return null;
  if (buf[0] === 0x7b) return parseLegacy(buf);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const c = new Cursor(buf);
  c.at = MAGIC.length;
  const gen = c.str();
  const n = c.int();
  if (gen === null || n === null || n < 0 || n > buf.length) return null;
  const entries = new IndexRows(roomFor(n));
  for (let i = 0; i < n; i++) {
    if (i % SLICE_ROWS === SLICE_ROWS - 1) await yieldLoop();
    if (!readRow(c, entries)) return null;
  }
  if (!c.done || !entries.check()) return null;
  return { gen, entries, legacy: false };
}

/** The snapshot's bytes for `entries` in their order, written a slice of rows at a time. */
export async function serialiseSnapshot(
  gen: string,
  entries: ReadonlyMap<string, IndexEntry>,
): Promise<Buffer> {
  const rows = IndexRows.from(entries);
  const n = rows.size;
  let size = MAGIC.length + 1 + gen.length + 4;
  for (let r = 0; r < n; r++) {
    size += 1 + stemLength(rows.seqAt(r)) + 4 + 1 + 4;
    if (rows.parentRow(r) === NO_ROW) size += 1 + (rows.parentStem(r)?.length ?? -1);
  }
  const buf = Buffer.allocUnsafe(size);
  let at = MAGIC.copy(buf, 0);
  const str = (s: string) => {
    at = buf.writeUInt8(s.length, at);
    at += buf.write(s, at, 'latin1');
  };
  str(gen);
  at = buf.writeInt32LE(n, at);
  for (let r = 0; r < n; r++) {
    if (r % SLICE_ROWS === SLICE_ROWS - 1) await yieldLoop();
    const time = rows.timeAt(r);
    const seq = rows.seqAt(r);
    at = buf.writeUInt8(stemLength(seq), at);
    at = writeStem(buf, at, time, seq);
    const p = rows.parentRow(r);
    const other = p === NO_ROW ? rows.parentStem(r) : null;
    at = buf.writeInt32LE(other !== null ? OTHER_PARENT : p, at);
    if (other !== null) str(other);
    at = buf.writeUInt8(rows.statusCode(r), at);
    at = buf.writeInt32LE(rows.likesAt(r), at);
  }
  return buf;
}
