import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  acquireLock,
  isQuireError,
  type Lock,
  listNames,
  makeDir,
  openSpool,
  readComplete,
  replaceFile,
  Spool,
  type Stamp,
  stampAsync,
  unchangedAsync,
} from '@quire/fs';
import { COMMENT_STEM, type CommentRecord, type CommentStatus, parseRecord, STATUSES } from './records.js';
import { isMissing, mapLimit, READ_CONCURRENCY, RECORD_SUFFIX, recordName } from './threads.js';

/**
 * The directory of a thread's index snapshot and its lock, in the thread directory: writing a snapshot there
 * does not change the thread directory, whose stamp vouches for the thread's names (views.ts).
 */
export const INDEX_DIR = '.index';
const INDEX_FILE = 'snapshot.json';
/** Marks of comments changed since the snapshot: a spool of records holding a stem each, in the thread directory. */
export const INDEX_MARKS = '.index-marks';
/** The lock file that makes one process at a time write the snapshot, in INDEX_DIR. */
const INDEX_LOCK = 'lock';
/** A load that found this many changes since the snapshot writes a new one (when no other process is at it). */
const COMPACT_AT = 32;

/** What listing a thread needs of a comment, without reading it: where it hangs, who may see it, its likes. */
export interface IndexEntry {
  readonly parent: string | null;
  readonly status: CommentStatus;
  readonly likes: number;
}

/** A thread's index as one load found it. */
export interface LoadedIndex {
  /** Every comment of the thread, by stem. */
  entries: Map<string, IndexEntry>;
  /** The records this load read (new or changed comments): a hint for the record cache. */
  read: Map<string, CommentRecord>;
  /** Identifies the snapshot the load started from: when it changes, cached records of the thread may be old. */
  generation: string;
  /** Files this load opened or listed: the bench's count. */
  filesRead: number;
  /** The record stems and marks listed (stemsIn's form): a later listing that differs means a change. */
  listed: Set<string>;
  /** The snapshot file as this load found it (stamped before it was read). */
  snapshotStamp: Stamp;
  /** Comments read since the snapshot was written (by this load and the loads it built on). */
  unsnapshotted: number;
}

/**
 * What a load may start from instead of the snapshot: the last load of this process, if the snapshot is still
 * the file it read (a stat). Its entries are the snapshot's plus what it read since; marks still there are
 * read again. This spares parsing the snapshot (65 ms of CPU for 50,000 comments) on every reload.
 */
export type IndexBase = Pick<LoadedIndex, 'entries' | 'generation' | 'snapshotStamp' | 'unsnapshotted'>;

/** Where a thread's index lives and how its records and likes are read. */
export interface IndexPlace {
  dir: string;
  votesDir: string;
  durable: boolean;
}

/** The index's files of a thread: dot names the store makes, which fsck must know. */
export const INDEX_NAMES: readonly string[] = [INDEX_DIR, INDEX_MARKS];

type Row = [string, string | null, CommentStatus, number];

function parseSnapshot(buf: Buffer | null): { gen: string; entries: Map<string, IndexEntry> } | null {
  if (buf === null) return null;
  try {
    const v = JSON.parse(buf.toString('utf8')) as { v?: unknown; gen?: unknown; rows?: unknown };
    if (v.v !== 1 || typeof v.gen !== 'string' || !Array.isArray(v.rows)) return null;
    const entries = new Map<string, IndexEntry>();
    for (const row of v.rows as unknown[]) {
      if (!Array.isArray(row)) return null;
      const [stem, parent, status, likes] = row as Row;
      if (typeof stem !== 'string' || !(STATUSES as readonly string[]).includes(status)) return null;
      if (parent !== null && typeof parent !== 'string') return null;
      if (typeof likes !== 'number') return null;
      entries.set(stem, { parent, status, likes });
    }
    return { gen: v.gen, entries };
  } catch {
    return null;
  }
}

function serialiseSnapshot(gen: string, entries: ReadonlyMap<string, IndexEntry>): string {
  const rows: Row[] = [];
  for (const [stem, e] of entries) rows.push([stem, e.parent, e.status, e.likes]);
  return `${JSON.stringify({ v: 1, gen, rows })}\n`;
}

const MARK_SUFFIX = '.mark';
/**
 * Records are never published empty: an empty read is a network filesystem's stale size (GlusterFS can serve a
 * just-linked name with its temp's size 0), read again by @quire/fs within its bound.
 */
export const NON_EMPTY = { accept: (b: Buffer) => b.length > 0 };

/** The spool of marks, if the thread has one (a thread nobody changed has none). */
async function marksSpool(place: IndexPlace, create: boolean): Promise<Spool | null> {
  const dir = path.join(place.dir, INDEX_MARKS);
  if (create) {
    // By one mkdir(2): a vanished thread directory is never re-created by a mark.
    await makeDir(dir, { durable: place.durable, parents: false }).catch((e: unknown) => {
      if (!isQuireError(e, 'EEXIST')) throw e;
    });
  }
  try {
    return await openSpool(dir, { suffix: MARK_SUFFIX, durable: place.durable, create: false });
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/** A mark: its id in the spool and the stem it names. */
interface Mark {
  id: string;
  stem: string;
}

async function readMarks(place: IndexPlace): Promise<{ spool: Spool | null; marks: Mark[] }> {
  const spool = await marksSpool(place, false);
  if (spool === null) return { spool, marks: [] };
  const ids = await spool.ids();
  const marks = await mapLimit(ids, READ_CONCURRENCY, async (id) => ({
    id,
    stem: (await spool.get(id))?.toString('utf8') ?? '',
  }));
  return { spool, marks };
}

/** What a load starts from: the snapshot, the marks and the thread's record names, read together. */
interface Listing {
  snapshot: { gen: string; entries: Map<string, IndexEntry> } | null;
  marks: Mark[];
  marksSpool: Spool | null;
  stems: Set<string>;
  snapshotStamp: Stamp;
  /** Comments read since the snapshot by the loads this listing builds on. */
  since: number;
}

/** The record stems among a thread directory's names. */
function recordStems(names: readonly string[]): Set<string> {
  const stems = new Set<string>();
  for (const n of names) {
    if (!n.endsWith(RECORD_SUFFIX) || n.startsWith('.')) continue;
    const stem = n.slice(0, -RECORD_SUFFIX.length);
    if (COMMENT_STEM.test(stem)) stems.add(stem);
  }
  return stems;
}

/** Record stems, and mark ids prefixed with `~`: what an index was loaded from. */
function listedOf(stems: ReadonlySet<string>, markIds: readonly string[]): Set<string> {
  const out = new Set(stems);
  for (const id of markIds) out.add(`~${id}`);
  return out;
}

/**
 * What the thread's index depends on, listed now (names only, nothing read): equal to a load's `listed` unless a
 * comment was added or removed or a change marked since.
 */
export async function stemsIn(place: IndexPlace): Promise<Set<string>> {
  const [names, marks] = await Promise.all([
    listNames(place.dir),
    listNames(path.join(place.dir, INDEX_MARKS)).catch((err: unknown) => {
      if (isMissing(err)) return [];
      throw err;
    }),
  ]);
  return listedOf(
    recordStems(names),
    marks.filter((m) => m.endsWith(MARK_SUFFIX)),
  );
}

/** The snapshot as a load starts from it: entries null when there is none (or it does not parse). */
interface SnapshotRead {
  gen: string;
  entries: Map<string, IndexEntry> | null;
  stamp: Stamp;
  since: number;
}

async function readSnapshot(place: IndexPlace, base: IndexBase | undefined): Promise<SnapshotRead> {
  const file = path.join(place.dir, INDEX_DIR, INDEX_FILE);
  if (base?.snapshotStamp.st != null && (await unchangedAsync(base.snapshotStamp)))
    return {
      gen: base.generation,
      entries: new Map(base.entries),
      stamp: base.snapshotStamp,
      since: base.unsnapshotted,
    };
  const stamp = await stampAsync(file);
  const snap = parseSnapshot(await readComplete(file));
  return snap === null ? { gen: '', entries: null, stamp, since: 0 } : { ...snap, stamp, since: 0 };
}

async function list(place: IndexPlace, base?: IndexBase): Promise<Listing> {
  const [snap, marks, names] = await Promise.all([
    readSnapshot(place, base),
    readMarks(place),
    listNames(place.dir),
  ]);
  const stems = recordStems(names);
  const snapshot = snap.entries === null ? null : { gen: snap.gen, entries: snap.entries };
  return {
    snapshot,
    marks: marks.marks,
    marksSpool: marks.spool,
    stems,
    snapshotStamp: snap.stamp,
    since: snap.since,
  };
}

/** The stems a load must read: names the snapshot lacks, and marked ones still there. */
function toRead(l: Listing): string[] {
  const out = new Set<string>();
  const known = l.snapshot?.entries;
  for (const s of l.stems) if (known?.has(s) !== true) out.add(s);
  for (const m of l.marks) if (l.stems.has(m.stem)) out.add(m.stem);
  return [...out];
}

function changes(l: Listing): number {
  let gone = 0;
  for (const s of l.snapshot?.entries.keys() ?? []) if (!l.stems.has(s)) gone++;
  return toRead(l).length + gone + l.marks.length + l.since;
}

async function countLikes(place: IndexPlace, stem: string): Promise<number> {
  const voters = await listNames(path.join(place.votesDir, stem)).catch((err: unknown) => {
    if (isMissing(err)) return [];
    throw err;
  });
  return voters.filter((n) => !n.startsWith('.')).length;
}

/** Reads `stems` and their likes into entries; a stem whose file vanished or does not parse is left out. */
async function readInto(
  place: IndexPlace,
  stems: readonly string[],
  entries: Map<string, IndexEntry>,
  read: Map<string, CommentRecord>,
): Promise<number> {
  // Likes only of comments with a vote directory: one listing of `.votes` instead of one per comment.
  const voted = new Set(
    stems.length === 0
      ? []
      : await listNames(place.votesDir).catch((err: unknown) => {
          if (isMissing(err)) return [];
          throw err;
        }),
  );
  let files = voted.size > 0 ? 1 : 0;
  await mapLimit(stems, READ_CONCURRENCY, async (stem) => {
    const [buf, likes] = await Promise.all([
      readComplete(path.join(place.dir, recordName(stem)), NON_EMPTY),
      voted.has(stem) ? countLikes(place, stem) : 0,
    ]);
    files += voted.has(stem) ? 2 : 1;
    const record = buf === null ? null : parseRecord(buf);
    entries.delete(stem);
    if (record === null) return;
    read.set(stem, record);
    entries.set(stem, { parent: record.parent, status: record.status, likes });
  });
  return files;
}

/** One load from a listing: the snapshot's entries, minus names gone, plus what changed, read. */
async function loadFrom(place: IndexPlace, l: Listing): Promise<LoadedIndex> {
  const entries = new Map<string, IndexEntry>();
  for (const [s, e] of l.snapshot?.entries ?? []) if (l.stems.has(s)) entries.set(s, e);
  const read = new Map<string, CommentRecord>();
  const stems = toRead(l);
  const files = 3 + l.marks.length + (await readInto(place, stems, entries, read));
  const listed = listedOf(
    l.stems,
    l.marks.map((m) => m.id),
  );
  return {
    entries,
    read,
    generation: l.snapshot?.gen ?? '',
    filesRead: files,
    listed,
    snapshotStamp: l.snapshotStamp,
    unsnapshotted: l.since + stems.length,
  };
}

/** The snapshot's lock file, its directory made (by one mkdir(2)) if needed. */
async function lockFile(place: IndexPlace): Promise<string> {
  const dir = path.join(place.dir, INDEX_DIR);
  await makeDir(dir, { durable: false, parents: false }).catch((e: unknown) => {
    if (!isQuireError(e, 'EEXIST')) throw e;
  });
  return path.join(dir, INDEX_LOCK);
}

/** The lock of the snapshot if no other process holds it now; null if one does (it is writing one). */
async function tryLock(place: IndexPlace): Promise<Lock | null> {
  try {
    return await acquireLock(await lockFile(place), { timeoutMs: 0 });
  } catch (err) {
    if (isQuireError(err, 'ERR_LOCK_TIMEOUT')) return null;
    throw err;
  }
}

/**
 * Writes the snapshot of `loaded` and removes the marks it covers. Called under the lock with a listing taken
 * under it: a mark made after that listing stays, so a change a concurrent writer makes after this load read its
 * comment is still marked for the next load. Derived data: written without fsync (a lost snapshot is rebuilt).
 */
async function compact(place: IndexPlace, loaded: LoadedIndex, l: Listing): Promise<void> {
  const gen = randomBytes(8).toString('hex');
  await replaceFile(path.join(place.dir, INDEX_DIR, INDEX_FILE), serialiseSnapshot(gen, loaded.entries), {
    durable: false,
  });
  loaded.generation = gen;
  // Stamped after the write: the next load of this process starts from these entries, not from the file.
  loaded.snapshotStamp = await stampAsync(path.join(place.dir, INDEX_DIR, INDEX_FILE));
  loaded.unsnapshotted = 0;
  const spool = l.marksSpool;
  if (spool !== null) await mapLimit(l.marks, READ_CONCURRENCY, (m) => spool.delete(m.id).catch(() => false));
}

/**
 * A thread's index: the snapshot (one file), the thread's names (one listing) and the marks (one listing), plus
 * a read of every comment the snapshot does not cover or that a mark names. The comment files stay the truth:
 * a comment whose index update never happened (a crash between the two) has a name the snapshot lacks, or a
 * mark made before it changed, and is read. A load that found many changes (or no snapshot) writes a new
 * snapshot, if no other process is writing one, from a listing taken under the lock.
 */
export async function loadIndex(place: IndexPlace, base?: IndexBase): Promise<LoadedIndex> {
  const first = await list(place, base);
  if (first.snapshot !== null && changes(first) < COMPACT_AT) return loadFrom(place, first);
  const lock = await tryLock(place).catch(() => null);
  if (lock === null) return loadFrom(place, first);
  try {
    const l = await list(place);
    const loaded = await loadFrom(place, l);
    await compact(place, loaded, l).catch(() => {});
    return loaded;
  } finally {
    await lock.release().catch(() => {});
  }
}

/**
 * Marks `stem` as changed: made before a change of its record or likes (so a crash after the change still
 * leaves it marked) and again after (so a snapshot written from a read before the change does not hide it).
 * `durable` for the mark before: it must outlive a power cut that the change itself outlives.
 */
export async function markChanged(place: IndexPlace, stem: string, durable: boolean): Promise<void> {
  const spool = await marksSpool(place, true);
  if (spool === null) throw Object.assign(new Error(`${place.dir} is gone`), { code: 'ENOENT' });
  const marked = new Spool(spool.dir, { suffix: MARK_SUFFIX, durable });
  await marked.append(stem);
}

/** Writes a thread's snapshot afresh from every comment file, whatever was there (fsck --repair). */
export async function rebuildIndex(place: IndexPlace): Promise<number> {
  const lock = await acquireLock(await lockFile(place), { timeoutMs: 10_000 });
  try {
    const l = await list(place);
    const loaded = await loadFrom(place, { ...l, snapshot: null });
    await compact(place, loaded, l);
    return loaded.entries.size;
  } finally {
    await lock.release();
  }
}
