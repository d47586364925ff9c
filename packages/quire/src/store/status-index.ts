import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  createExclusive,
  hostId,
  isQuireError,
  listNames,
  makeDir,
  readComplete,
  removeFile,
  replaceFile,
  stampAsync,
} from '@quire/fs';
import {
  type CommentRecord,
  type CommentStatus,
  compareStems,
  formatCommentId,
  parseCommentId,
} from './records.js';
import { StoreUnavailableError, Threads } from './threads.js';
import { writerGone } from './writer-marks.js';

/** The statuses the index keeps: every one but approved (the recent-comments index keeps the newest of those). */
export const INDEXED = ['pending', 'spam', 'deleted'] as const;
export type IndexedStatus = (typeof INDEXED)[number];

/** A comment: which thread, which comment. */
export interface CommentRef {
  threadId: string;
  stem: string;
}

/** A comment found through the index, its record read just now. */
export interface IndexedComment extends CommentRef {
  record: CommentRecord;
}

/** One page of a status's comments, newest first; `more`: another follows the page. */
export interface StatusPage {
  comments: IndexedComment[];
  more: boolean;
}

/** Which comments to read: of a status, of one thread or all, after a cursor, at most `limit`. */
export interface StatusQuery {
  status: IndexedStatus;
  threadId?: string;
  after?: CommentRef;
  limit: number;
}

/** Where a full scan found a comment of an indexed status (fsck, a rebuild). */
export type Found = CommentRef & { status: IndexedStatus };

/** Marks an index built from the threads (or started empty on a new data directory). */
const COMPLETE = '.complete';
/** Writers' marks: `<threadId>+<host id>+<pid>+<salt><n>`, one per change under way (StatusIndex says why). */
const WRITING = '.writing';
/** Comment records read at once while a page is verified. */
const VERIFY_AT_ONCE = 16;

/** Newest first (by stem), then by thread id: the order of every admin list. */
export function newestFirst(a: CommentRef, b: CommentRef): number {
  return compareStems(b.stem, a.stem) || (a.threadId < b.threadId ? -1 : a.threadId > b.threadId ? 1 : 0);
}

function isIndexed(status: CommentStatus): status is IndexedStatus {
  return (INDEXED as readonly string[]).includes(status);
}

const salt = randomBytes(3).toString('hex');
let markSeq = 0;

/** A writer's mark, removed once its change is in the index. */
interface Mark {
  readonly file: string;
}

/**
 * The site's comments by status, kept as names of their own: DATA/status/<status>/ holds one empty file per
 * comment of that status (pending: the moderation queue; spam; deleted), named by the comment's id
 * (`<threadId>_<stem>`). A moderator's list of a status lists one directory of about as many names as there are
 * such comments and reads only the records of the page it shows: its cost does not grow with the site. Derived
 * data like DATA/recent/: entries are written without fsync, rebuilt from the threads when `.complete` is
 * missing, and `quire fsck --repair` writes them afresh. Deleting the directory is always safe.
 *
 * An entry says "look here": every page verifies each entry against its comment's record, and one whose comment
 * has another status by now is removed (then the record is read again, and the entry put back if a writer gave
 * the comment that status meanwhile: a removal never hides a comment). A change that can give a comment an
 * indexed status (a pending post, any update) cannot always name its entry before it is written (a post's name
 * is chosen by its publish), so it leaves a mark first, `.writing/<threadId>+<host>+<pid>+<n>` (durable when the
 * store is), and removes it once its entries are right. A crash between the comment and its entry leaves the
 * mark; the next page of any process finds it, sees that its writer is dead (a pid of this host that no longer
 * runs, or a mark of another host older than an hour) and reconciles that one thread from its index before it
 * removes the mark.
 */
export class StatusIndex {
  private readonly dir: string;
  private readonly writing: string;
  private dirs: Promise<void> | undefined;
  private built: Promise<void> | undefined;

  /** `statusOf`: each comment's status as a thread's index says (thread-index.ts, through the views). */
  constructor(
    dataDir: string,
    private readonly threads: Threads,
    private readonly durable: boolean,
    private readonly statusOf: (threadId: string) => Promise<Iterable<[string, CommentStatus]>>,
  ) {
    this.dir = path.join(dataDir, 'status');
    this.writing = path.join(this.dir, WRITING);
  }

  /**
   * Runs a write that may give a comment of `threadId` an indexed status (`may`) under a mark: the mark is
   * removed once `write` says its entries are right (`noted`, from note()); a failed write, whose outcome is
   * unknown, reconciles the thread first. A crash keeps the mark for the next reader.
   */
  async guard<T>(
    threadId: string,
    may: boolean,
    write: () => Promise<{ result: T; noted: boolean }>,
  ): Promise<T> {
    const mark = may ? await this.begin(threadId) : null;
    let noted = false;
    try {
      const out = await write();
      noted = out.noted;
      return out.result;
    } catch (err) {
      if (mark !== null)
        noted = await this.reconcile(threadId).then(
          () => true,
          () => false,
        );
      throw err;
    } finally {
      if (mark !== null && noted) await removeFile(mark.file, { durable: false }).catch(() => {});
    }
  }

  /**
   * A comment was written as `record`: its entry is made in its status's directory and removed from the others.
   * Never fails the caller's write: false if that could not be done (the caller keeps its mark).
   */
  async note(threadId: string, stem: string, record: CommentRecord): Promise<boolean> {
    try {
      await this.madeDirs();
      for (const s of INDEXED) {
        if (record.status === s) await this.add(s, threadId, stem);
        else await this.drop(s, threadId, stem);
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Every comment of one thread with an indexed status gets its entry. */
  async reconcile(threadId: string): Promise<void> {
    await this.madeDirs();
    for (const [stem, status] of await this.statusOf(threadId))
      if (isIndexed(status)) await this.add(status, threadId, stem);
  }

  /** One page of a status, each entry checked against its record; O(names of the status + page), not O(site). */
  async page(q: StatusQuery): Promise<StatusPage> {
    await this.ready();
    await this.reconcileDeadWriters();
    const refs = (await this.entries(q.status)).filter(
      (r) =>
        (q.threadId === undefined || r.threadId === q.threadId) &&
        (q.after === undefined || newestFirst(q.after, r) < 0),
    );
    refs.sort(newestFirst);
    const comments: IndexedComment[] = [];
    let i = 0;
    // Verified a few at a time, one past the page: `more` is only true when a comment follows.
    while (i < refs.length && comments.length <= q.limit) {
      const batch = refs.slice(i, i + Math.min(VERIFY_AT_ONCE, q.limit + 1 - comments.length));
      i += batch.length;
      const read = await Promise.all(batch.map((r) => this.verified(q.status, r)));
      for (const c of read) if (c !== null) comments.push(c);
    }
    return { comments: comments.slice(0, q.limit), more: comments.length > q.limit };
  }

  /**
   * Writes the index afresh: an entry for each of `found` (every comment of an indexed status, as a full scan
   * found it), every other entry checked and removed, then `.complete`. Writers' marks are left to page(),
   * which reconciles each dead writer's thread from its index: a writer may have died after the scan passed it.
   */
  async rebuildFrom(found: readonly Found[]): Promise<void> {
    await this.madeDirs();
    for (const s of INDEXED) {
      const want = found.filter((f) => f.status === s);
      const ids = new Set(want.map((r) => formatCommentId(r.threadId, r.stem)));
      const have = new Set((await this.entries(s)).map((r) => formatCommentId(r.threadId, r.stem)));
      for (const r of want)
        if (!have.has(formatCommentId(r.threadId, r.stem))) await this.add(s, r.threadId, r.stem);
      for (const r of await this.entries(s))
        if (!ids.has(formatCommentId(r.threadId, r.stem))) await this.verified(s, r);
    }
    await replaceFile(path.join(this.dir, COMPLETE), '', { durable: false });
  }

  /**
   * The index as readers need it: once per process, built from every thread if it never was (a data directory
   * from before it, or one whose build was cut short). Writers never wait for this: their entries go in beside it.
   */
  ready(): Promise<void> {
    this.built ??= (async () => {
      await this.madeDirs();
      if ((await readComplete(path.join(this.dir, COMPLETE)).catch(() => null)) !== null) return;
      const found: Found[] = [];
      for (const threadId of await this.threads.ids())
        for (const [stem, status] of await this.statusOf(threadId))
          if (isIndexed(status)) found.push({ threadId, stem, status });
      await this.rebuildFrom(found);
    })();
    this.built.catch(() => {
      this.built = undefined;
    });
    return this.built;
  }

  /** The entries of a status as listed now (names that are not comment ids are ignored). */
  private async entries(status: IndexedStatus): Promise<CommentRef[]> {
    const out: CommentRef[] = [];
    for (const name of await listNames(path.join(this.dir, status))) {
      const ref = name.startsWith('.') ? null : parseCommentId(name);
      if (ref !== null) out.push(ref);
    }
    return out;
  }

  private entry(status: IndexedStatus, threadId: string, stem: string): string {
    return path.join(this.dir, status, formatCommentId(threadId, stem));
  }

  private async add(status: IndexedStatus, threadId: string, stem: string): Promise<void> {
    await createExclusive(this.entry(status, threadId, stem), '', { durable: false }).catch(
      (err: unknown) => {
        if (!isQuireError(err, 'EEXIST')) throw err;
      },
    );
  }

  /**
   * Removes the entry, then reads the record again: a writer that gave the comment this status after the caller
   * looked may have found the entry there (and made none); then it is put back.
   */
  private async drop(status: IndexedStatus, threadId: string, stem: string): Promise<void> {
    if (!(await removeFile(this.entry(status, threadId, stem), { durable: false }))) return;
    const now = await this.threads.comment(threadId, stem).catch(() => null);
    if (now?.status === status) await this.add(status, threadId, stem);
  }

  /** The entry's comment if it has the status now; else the entry is dropped and null. */
  private async verified(status: IndexedStatus, r: CommentRef): Promise<IndexedComment | null> {
    const record = await this.threads.comment(r.threadId, r.stem).catch(() => null);
    if (record?.status === status) return { ...r, record };
    await this.drop(status, r.threadId, r.stem).catch(() => {});
    return null;
  }

  /** Before a change: its mark (StatusIndex says why). */
  private async begin(threadId: string): Promise<Mark> {
    await this.madeDirs();
    for (let remade = false; ; ) {
      markSeq = (markSeq + 1) & 0xffffff;
      const file = path.join(this.writing, `${threadId}+${hostId()}+${process.pid}+${salt}${markSeq}`);
      try {
        await createExclusive(file, '', { durable: this.durable });
        return { file };
      } catch (err) {
        // A dead process of this pid left a mark of this name: take the next.
        if (isQuireError(err, 'EEXIST')) continue;
        // The directory went (removed by hand, or the whole data directory: then StoreUnavailableError).
        if (!isQuireError(err, 'ENOENT') || remade) throw err;
        remade = true;
        this.dirs = undefined;
        await this.madeDirs();
      }
    }
  }

  /** Marks whose writer is dead: this host's by their pid, another host's by their age. */
  private async deadMarks(): Promise<(Mark & { threadId: string })[]> {
    const dead: (Mark & { threadId: string })[] = [];
    for (const name of await listNames(this.writing)) {
      const [threadId, host, pid] = name.split('+');
      if (threadId === undefined || host === undefined || pid === undefined) continue;
      const file = path.join(this.writing, name);
      if (await writerGone(file, host, Number(pid))) dead.push({ file, threadId });
    }
    return dead;
  }

  /** Each dead writer's thread is reconciled from its index, then its mark goes. */
  private async reconcileDeadWriters(): Promise<void> {
    for (const m of await this.deadMarks()) {
      await this.reconcile(m.threadId);
      await removeFile(m.file, { durable: false });
    }
  }

  private async makeDirs(): Promise<void> {
    // Never re-creates a vanished data directory: threads/ must be there, and each directory is one mkdir(2).
    if ((await stampAsync(this.threads.threadsDir)).st?.isDirectory() !== true)
      throw new StoreUnavailableError(this.threads.threadsDir);
    await makeDir(this.dir, { durable: this.durable, parents: false });
    for (const sub of [WRITING, ...INDEXED])
      await makeDir(path.join(this.dir, sub), { durable: this.durable, parents: false });
  }

  /** The directories, made once per process (what writers need). */
  private madeDirs(): Promise<void> {
    this.dirs ??= this.makeDirs();
    // A failed attempt is made again by the next call.
    this.dirs.catch(() => {
      this.dirs = undefined;
    });
    return this.dirs;
  }
}

/** What `quire fsck` found of the status index (check.ts). */
export interface StatusCheck {
  /** Comments of an indexed status without their entry. */
  missing: number;
  /** Entries of comments that have another status (harmless: a page skips and removes them). */
  stale: number;
  /** Whether the index was written afresh (`repair`). */
  repaired: boolean;
}

/**
 * Compares the status index of `dataDir` with `found`, every comment of an indexed status a full scan found,
 * and with `repair` writes it afresh from them (StatusIndex.rebuildFrom). For `quire fsck`.
 */
export async function checkStatusIndex(
  dataDir: string,
  found: readonly Found[],
  repair: boolean,
): Promise<StatusCheck> {
  const dir = path.join(dataDir, 'status');
  // An index never built (.complete missing) is no fault: the service builds it at start.
  const built = (await listNames(dir)).includes(COMPLETE);
  let missing = 0;
  let stale = 0;
  for (const s of INDEXED) {
    const names = new Set((await listNames(path.join(dir, s))).filter((n) => !n.startsWith('.')));
    const ids = new Set(found.filter((f) => f.status === s).map((r) => formatCommentId(r.threadId, r.stem)));
    if (built) missing += [...ids].filter((id) => !names.has(id)).length;
    stale += [...names].filter((n) => !ids.has(n)).length;
  }
  if (!repair || (built && missing === 0 && stale === 0)) return { missing, stale, repaired: false };
  const threads = new Threads(path.join(dataDir, 'threads'), false, Date.now);
  // Reconciling a dead writer's thread is a page's work (the service's views): fsck has written the entries.
  await new StatusIndex(dataDir, threads, false, async () => []).rebuildFrom(found);
  return { missing, stale, repaired: true };
}
