import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  acquireLock,
  isQuireError,
  type Lock,
  listNames,
  makeDir,
  readComplete,
  replaceFile,
  type Spool,
  type Stamp,
  stampAsync,
  unchangedAsync,
} from '@quire/fs';
import { type IndexEntry, IndexRows, indexEntry, NO_ROW } from './index-rows.js';
import { parseSnapshot, serialiseSnapshot } from './index-snapshot.js';
import { type CommentRecord, compareStems, parseRecord } from './records.js';

export { type IndexEntry, IndexRows };

import {
  diffNames,
  INDEX_MARKS,
  type IndexPlace,
  type Listed,
  type ListingHint,
  listedSame,
  type Mark,
  markChanged,
  readMarks,
} from './index-marks.js';
import { isMissing, mapLimit, READ_CONCURRENCY, recordName } from './threads.js';

export { INDEX_MARKS, type IndexPlace, type Listed, listedSame, markChanged };

/**
 * The directory of a thread's index snapshot and its lock, in the thread directory: writing a snapshot there
 * does not change the thread directory, whose stamp vouches for the thread's names (views.ts).
 */
export const INDEX_DIR = '.index';
/** The snapshot (index-snapshot.ts). Its name is from the JSON form of earlier versions, which is still read. */
const INDEX_FILE = 'snapshot.json';
/** The lock file that makes one process at a time write the snapshot, in INDEX_DIR. */
const INDEX_LOCK = 'lock';
/** A load that found this many changes since the snapshot writes a new one (when no other process is at it). */
const COMPACT_AT = 32;

/** A thread's index as one load found it. */
export interface LoadedIndex {
  /** Every comment of the thread, by stem. */
  entries: IndexRows;
  /** The records this load read (new or changed comments): a hint for the record cache. */
  read: Map<string, CommentRecord>;
  /** Identifies the snapshot the load started from: when it changes, cached records of the thread may be old. */
  generation: string;
  /** Files this load opened or listed: the bench's count. */
  filesRead: number;
  /** The names listed (thread directory and marks), as listed: the same listing later means no change. */
  listed: Listed;
  /** The snapshot file as this load found it (stamped before it was read). */
  snapshotStamp: Stamp;
  /** Comments read since the snapshot was written (by this load and the loads it built on). */
  unsnapshotted: number;
  /** This load wrote the snapshot it names: the records cached before it are still those on disk. */
  wroteSnapshot: boolean;
  /** Record stems listed that could not be read (gone, or not parsed yet): the next load reads them again. */
  unread: readonly string[];
}

/**
 * How a load's entries differ from those of the load it built on (`from`, weakly held: a layout derived from
 * them may be advanced by `changed` and `removed` instead of being made again from every entry).
 */
export interface IndexDelta {
  readonly from: WeakRef<IndexRows>;
  /** Stems added or changed, in stem order. */
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

const deltas = new WeakMap<object, IndexDelta>();

/** What changed between the entries a load built on and `entries`; undefined for a load made afresh. */
export function indexDelta(entries: object): IndexDelta | undefined {
  return deltas.get(entries);
}

/**
 * What a load may start from instead of the snapshot: the last load of this process, if the snapshot is still
 * the file it read (a stat). Its entries are the snapshot's plus what it read since; marks still there are
 * read again. This spares parsing the snapshot (65 ms of CPU for 50,000 comments) on every reload. Not the
 * records the load read: a cached view must not keep them past the record cache's budget.
 */
export type IndexBase = Pick<
  LoadedIndex,
  'entries' | 'generation' | 'snapshotStamp' | 'unsnapshotted' | 'listed' | 'unread'
>;

/** The part of a load the next one may build on. */
export function baseOf(l: LoadedIndex): IndexBase {
  const { entries, generation, snapshotStamp, unsnapshotted, listed, unread } = l;
  return { entries, generation, snapshotStamp, unsnapshotted, listed, unread };
}

/** The index's files of a thread: dot names the store makes, which fsck must know. */
export const INDEX_NAMES: readonly string[] = [INDEX_DIR, INDEX_MARKS];

/**
 * Records are never published empty: an empty read is a network filesystem's stale size (GlusterFS can serve a
 * just-linked name with its temp's size 0), read again by @quire/fs within its bound.
 */
export const NON_EMPTY = { accept: (b: Buffer) => b.length > 0 };

/** What a load starts from: the snapshot, the marks and the thread's record names, read together. */
interface Listing {
  /** The snapshot's entries; the base's own when it is `base` (never changed: loadFrom copies them). */
  snapshot: { gen: string; entries: IndexRows } | null;
  /** The entries of the load this one builds on, when the snapshot is theirs: a delta can be told. */
  base: IndexRows | null;
  marks: Mark[];
  marksSpool: Spool | null;
  listed: Listed;
  /** Record stems listed that the snapshot lacks (in stem order), and its stems no longer listed. */
  added: string[];
  removed: string[];
  snapshotStamp: Stamp;
  /** Comments read since the snapshot by the loads this listing builds on. */
  since: number;
}

/** The snapshot as a load starts from it: entries null when there is none (or it does not parse). */
interface SnapshotRead {
  /** The base's listing, when the entries are the base's. */
  hint?: ListingHint;
  gen: string;
  entries: IndexRows | null;
  stamp: Stamp;
  since: number;
  base: IndexRows | null;
}

async function readSnapshot(place: IndexPlace, base: IndexBase | undefined): Promise<SnapshotRead> {
  const file = path.join(place.dir, INDEX_DIR, INDEX_FILE);
  if (base?.snapshotStamp.st != null && (await unchangedAsync(base.snapshotStamp)))
    return {
      gen: base.generation,
      entries: base.entries,
      stamp: base.snapshotStamp,
      since: base.unsnapshotted,
      base: base.entries,
      hint: { names: base.listed.names, unread: base.unread },
    };
  const stamp = await stampAsync(file);
  const snap = await parseSnapshot(await readComplete(file));
  return snap === null
    ? { gen: '', entries: null, stamp, since: 0, base: null }
    : {
        gen: snap.gen,
        entries: snap.entries,
        stamp,
        // A snapshot of an earlier version, or out of stem order, is written anew by this load.
        since: snap.legacy || !snap.entries.inStemOrder ? COMPACT_AT : 0,
        base: null,
      };
}

/** The snapshot (unless `fresh`: every comment to be read), the marks and the names, listed together. */
async function list(place: IndexPlace, base?: IndexBase, fresh = false): Promise<Listing> {
  const [snap, marks, names] = await Promise.all([
    fresh ? null : readSnapshot(place, base),
    readMarks(place),
    listNames(place.dir),
  ]);
  const snapshot = snap?.entries == null ? null : { gen: snap.gen, entries: snap.entries };
  return {
    snapshot,
    base: snapshot === null ? null : (snap?.base ?? null),
    marks: marks.marks,
    marksSpool: marks.spool,
    // As listed: made a NameList only if the view is kept (views.ts), not for a big thread's load that is not.
    listed: { names, marks: marks.marks.map((m) => m.id) },
    ...(await diffNames(names, snapshot?.entries, snapshot === null ? undefined : snap?.hint)),
    snapshotStamp: snap?.stamp ?? (await stampAsync(path.join(place.dir, INDEX_DIR, INDEX_FILE))),
    since: snap?.since ?? 0,
  };
}

/** The stems a load must read, in stem order: names the snapshot lacks, and marked ones still there. */
function toRead(l: Listing): string[] {
  const out = new Set(l.added);
  const gone = new Set(l.removed);
  const known = l.snapshot?.entries;
  for (const m of l.marks) if (known?.has(m.stem) === true && !gone.has(m.stem)) out.add(m.stem);
  return out.size === l.added.length ? l.added : [...out].sort(compareStems);
}

function changes(l: Listing): number {
  return toRead(l).length + l.removed.length + l.marks.length + l.since;
}

async function countLikes(place: IndexPlace, stem: string): Promise<number> {
  const voters = await listNames(path.join(place.votesDir, stem)).catch((err: unknown) => {
    if (isMissing(err)) return [];
    throw err;
  });
  return voters.filter((n) => !n.startsWith('.')).length;
}

/**
 * Reads `stems` (in stem order) and their likes into entries, in that order: a known stem keeps its place, new
 * ones follow, so entries stay in stem order. A stem whose file vanished or does not parse is left out and
 * returned in `dropped`.
 */
async function readInto(
  place: IndexPlace,
  stems: readonly string[],
  entries: IndexRows,
  read: Map<string, CommentRecord>,
): Promise<{ files: number; dropped: string[] }> {
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
  const got = new Map<string, { record: CommentRecord; likes: number } | null>();
  await mapLimit(stems, READ_CONCURRENCY, async (stem) => {
    const [buf, likes] = await Promise.all([
      readComplete(path.join(place.dir, recordName(stem)), NON_EMPTY),
      voted.has(stem) ? countLikes(place, stem) : 0,
    ]);
    files += voted.has(stem) ? 2 : 1;
    const record = buf === null ? null : parseRecord(buf);
    got.set(stem, record === null ? null : { record, likes });
  });
  const dropped: string[] = [];
  const gone = new Set<number>();
  for (const stem of stems) {
    const g = got.get(stem);
    if (g == null) {
      const r = entries.row(stem);
      if (r !== NO_ROW) {
        gone.add(r);
        dropped.push(stem);
      }
      continue;
    }
    read.set(stem, g.record);
    entries.set(stem, indexEntry(g.record.parent, g.record.status, g.likes));
  }
  entries.remove(gone);
  return { files, dropped };
}

/**
 * One load from a listing: the snapshot's entries (the base's copied, with room for what is read: readers keep
 * the base's), minus names gone, plus what changed.
 */
async function loadFrom(place: IndexPlace, l: Listing): Promise<LoadedIndex> {
  const stems = toRead(l);
  const snap = l.snapshot?.entries;
  const entries = snap === undefined ? new IndexRows() : l.base === snap ? snap.clone(stems.length) : snap;
  entries.remove(new Set(l.removed.map((s) => entries.row(s)).filter((r) => r !== NO_ROW)));
  const read = new Map<string, CommentRecord>();
  entries.reserve(stems.length);
  const got = await readInto(place, stems, entries, read);
  entries.trim();
  if (l.base !== null)
    deltas.set(entries, {
      from: new WeakRef(l.base),
      changed: stems.filter((s) => entries.has(s)),
      removed: [...l.removed, ...got.dropped],
    });
  return {
    entries,
    read,
    generation: l.snapshot?.gen ?? '',
    filesRead: 3 + l.marks.length + got.files,
    listed: l.listed,
    snapshotStamp: l.snapshotStamp,
    unsnapshotted: l.since + stems.length,
    wroteSnapshot: false,
    unread: stems.filter((s) => !entries.has(s)),
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
  if (!loaded.entries.inStemOrder) {
    // Once per thread whose snapshot came from an earlier version (its rows in any order), or after a comment
    // joined out of order (a clock stepped back): a layout then needs no sort of the whole thread.
    const sorted = loaded.entries.sorted();
    const delta = deltas.get(loaded.entries);
    if (delta !== undefined) deltas.set(sorted, delta);
    loaded.entries = sorted;
  }
  await replaceFile(
    path.join(place.dir, INDEX_DIR, INDEX_FILE),
    await serialiseSnapshot(gen, loaded.entries),
    {
      durable: false,
    },
  );
  loaded.generation = gen;
  // Stamped after the write: the next load of this process starts from these entries, not from the file.
  loaded.snapshotStamp = await stampAsync(path.join(place.dir, INDEX_DIR, INDEX_FILE));
  loaded.unsnapshotted = 0;
  loaded.wroteSnapshot = true;
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
    // Listed again under the lock, from the same base: the snapshot of this process is not parsed again.
    const l = await list(place, base);
    const loaded = await loadFrom(place, l);
    await compact(place, loaded, l).catch(() => {});
    return loaded;
  } finally {
    await lock.release().catch(() => {});
  }
}

/** Writes a thread's snapshot afresh from every comment file, whatever was there (fsck --repair). */
export async function rebuildIndex(place: IndexPlace): Promise<number> {
  const lock = await acquireLock(await lockFile(place), { timeoutMs: 10_000 });
  try {
    const l = await list(place, undefined, true);
    const loaded = await loadFrom(place, l);
    await compact(place, loaded, l);
    return loaded.entries.size;
  } finally {
    await lock.release();
  }
}
