/** A thread index's change marks (a spool of stems changed since the snapshot), and its listings compared. */
import path from 'node:path';
import { isQuireError, listNames, makeDir, openSpool, Spool } from '@quire/fs';
import { type IndexRows, NO_ROW } from './index-rows.js';
import { SLICE_ROWS, yieldLoop } from './index-snapshot.js';
import { NameList } from './name-list.js';
import { compareStems } from './records.js';
import { KEY, readStemKey } from './stem-keys.js';
import { isMissing, mapLimit, READ_CONCURRENCY, RECORD_SUFFIX, recordName } from './threads.js';

/** Marks of comments changed since the snapshot: a spool of records holding a stem each, in the thread directory. */
export const INDEX_MARKS = '.index-marks';
/** Where a thread's index lives and how its records and likes are read. */
export interface IndexPlace {
  dir: string;
  votesDir: string;
  durable: boolean;
}

const MARK_SUFFIX = '.mark';

/** The spool of marks, if the thread has one (a thread nobody changed has none). */
export async function marksSpool(place: IndexPlace, create: boolean): Promise<Spool | null> {
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
export interface Mark {
  id: string;
  stem: string;
}

export async function readMarks(place: IndexPlace): Promise<{ spool: Spool | null; marks: Mark[] }> {
  const spool = await marksSpool(place, false);
  if (spool === null) return { spool, marks: [] };
  const ids = await spool.ids();
  const marks = await mapLimit(ids, READ_CONCURRENCY, async (id) => ({
    id,
    stem: (await spool.get(id))?.toString('utf8') ?? '',
  }));
  return { spool, marks };
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

/** The raw listings an index was loaded from. */
export interface Listed {
  /** The thread directory's names, as listed (NameList.of: kept compact). */
  readonly names: NameList | readonly string[];
  readonly marks: readonly string[];
}

/**
 * Whether two listings hold the same names in the same order (a directory unchanged lists the same), dot names
 * aside: a writer's temp comes and goes in the thread directory with every post and changes no comment.
 */
function sameOrder(a: readonly string[], b: NameList): boolean {
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && (a[i] as string).startsWith('.')) i++;
    while (j < b.length && b.isDot(j)) j++;
    if (i === a.length || j === b.length) return i === a.length && j === b.length;
    if (!b.is(j++, a[i++] as string)) return false;
  }
}

/**
 * Whether the thread's names and marks, listed now, are those a load listed (names only, nothing read). A
 * directory nobody changed lists its names in the same order, so this is one comparison per name.
 */
export async function listedSame(place: IndexPlace, listed: Listed): Promise<boolean> {
  const [names, marks] = await Promise.all([
    listNames(place.dir),
    listNames(path.join(place.dir, INDEX_MARKS)).catch((err: unknown) => {
      if (isMissing(err)) return [];
      throw err;
    }),
  ]);
  const now = marks.filter((m) => m.endsWith(MARK_SUFFIX));
  const before = new Set(listed.marks);
  if (now.length !== before.size || !now.every((m) => before.has(m))) return false;
  const was = NameList.of(listed.names);
  return sameOrder(names, was) || sameNames(names, was);
}

/**
 * The same names, in whatever order (dot names aside): a network filesystem may list a directory nobody changed
 * in another order (a distributed volume merges its bricks' listings), which must not count as a change.
 */
function sameNames(a: readonly string[], b: NameList): boolean {
  const was = new Set<string>();
  for (let j = 0; j < b.length; j++) if (!b.isDot(j)) was.add(b.at(j));
  const now = a.filter((n) => !n.startsWith('.'));
  return now.length === was.size && now.every((n) => was.has(n));
}

/** What the load a listing builds on listed, and the stems it listed but could not read (read again). */
export interface ListingHint {
  names: NameList | readonly string[];
  unread: readonly string[];
}

/**
 * The names of `names` inserted among `old`, if every name of `old` is still there in the same order (a
 * directory to which names were only added lists the old ones in their order, as a rule); else null. String
 * comparisons of a name's stem with a kept one's numbers only: no hashing, no new strings.
 */
function insertions(names: readonly string[], old: NameList): string[] | null {
  const inserted: string[] = [];
  let j = 0;
  const skipDots = () => {
    while (j < old.length && old.isDot(j)) j++;
  };
  for (const n of names) {
    if (n.startsWith('.')) continue;
    skipDots();
    if (j < old.length && old.is(j, n)) j++;
    // Many at once: a name gone or another order shifted the rest; the full comparison is cheaper then.
    else if (inserted.push(n) > 1024) return null;
  }
  skipDots();
  return j === old.length ? inserted : null;
}

/**
 * The record stems among a thread directory's names that `known` lacks, and the known stems not among them.
 * With the names the load of `known` listed (`hint`), usually a walk of string comparisons; else one pass that
 * looks every name up (no set of every name), in slices of SLICE_ROWS names: a load of a 50,000-comment thread
 * must not hold the event loop for the ~10 ms that pass takes.
 */
export async function diffNames(names: readonly string[], known: IndexRows | undefined, hint?: ListingHint) {
  const added: string[] = [];
  // A known name is looked up by its stem's key (stem-keys.ts): no string made for it; a new one's stem is kept.
  const fresh = (n: string) => {
    if (!n.endsWith(RECORD_SUFFIX) || n.startsWith('.')) return false;
    const end = n.length - RECORD_SUFFIX.length;
    if (!readStemKey(n, end)) return false;
    if (known !== undefined && known.rowOfKey(KEY[0] as number, KEY[1] as number) !== NO_ROW) return true;
    added.push(n.slice(0, end));
    return false;
  };
  const inserted = hint === undefined ? null : insertions(names, NameList.of(hint.names));
  if (inserted !== null && hint !== undefined) {
    for (const n of inserted) fresh(n);
    for (const s of hint.unread) if (!added.includes(s)) added.push(s);
    return { added: added.sort(compareStems), removed: [] };
  }
  let seen = 0;
  for (let i = 0; i < names.length; i++) {
    if (fresh(names[i] as string)) seen++;
    if (i % SLICE_ROWS === SLICE_ROWS - 1) await yieldLoop();
  }
  const removed: string[] = [];
  if (known !== undefined && seen < known.size) {
    const present = new Set(names);
    for (const s of known.keys()) if (!present.has(recordName(s))) removed.push(s);
  }
  return { added: added.sort(compareStems), removed };
}
