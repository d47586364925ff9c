import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  createExclusive,
  hostId,
  isProcessAlive,
  isQuireError,
  listNames,
  makeDir,
  readComplete,
  removeFile,
  replaceFile,
  stampAsync,
} from '@quire/fs';
import { type CommentRecord, compareStems, formatCommentId, parseCommentId } from './records.js';
import { StoreUnavailableError, Threads } from './threads.js';

/** A comment of the queue: which thread, which comment. */
export interface PendingRef {
  threadId: string;
  stem: string;
}

/** A pending comment as the queue found it on disk, its record read just now. */
export interface PendingComment extends PendingRef {
  record: CommentRecord;
}

/** One page of the queue, newest first; `more`: a pending comment follows the page. */
export interface PendingPage {
  comments: PendingComment[];
  more: boolean;
}

/** Which part of the queue to read: of one thread or all, after a cursor, at most `limit`. */
export interface PendingQuery {
  threadId?: string;
  after?: PendingRef;
  limit: number;
}

/** Marks an index built from the threads (or started empty on a new data directory). */
const COMPLETE = '.complete';
/** Writers' marks: `<threadId>+<host id>+<pid>+<salt><n>`, one per change that may make a comment pending. */
const WRITING = '.writing';
/**
 * A mark of another host (whose writer cannot be asked whether it lives) older than this is a dead writer's:
 * as for @quire/fs's temps, far longer than any one write takes.
 */
const FOREIGN_MARK_MS = 3_600_000;
/** Comment records read at once while a page is verified. */
const VERIFY_AT_ONCE = 16;

/** Newest first (by stem), then by thread id: the order of every admin list. */
export function newestFirst(a: PendingRef, b: PendingRef): number {
  return compareStems(b.stem, a.stem) || (a.threadId < b.threadId ? -1 : a.threadId > b.threadId ? 1 : 0);
}

const salt = randomBytes(3).toString('hex');
let markSeq = 0;

/** A writer's mark, removed by end() once its change is in the index. */
export interface PendingMark {
  readonly file: string;
}

/**
 * The site's moderation queue, kept as names of its own: DATA/pending/ holds one empty file per pending comment,
 * named by the comment's id (`<threadId>_<stem>`), so the admin queue lists one directory of about as many names
 * as there are pending comments and reads only the records of the page it shows: its cost does not grow with
 * the site. Derived data like DATA/recent/: entries are written without fsync, rebuilt from the threads when
 * `.complete` is missing, and `quire fsck --repair` writes it afresh. Deleting the directory is always safe.
 *
 * An entry says "look here": every page verifies each entry against its comment's record, and one whose comment
 * is no longer pending is removed (then the record is read again, and the entry put back if a writer made the
 * comment pending meanwhile: a removal never hides a pending comment). A change that can make a comment pending
 * (a post, an edit, a restore) cannot name its entry before it is written (a post's name is chosen by its
 * publish), so it leaves a mark first, `.writing/<threadId>+<host>+<pid>+<n>` (durable when the store is), and
 * removes it once its entry is there. A crash between the comment and its entry leaves the mark; the next page
 * of any process finds it, sees that its writer is dead (a pid of this host that no longer runs, or a mark of
 * another host older than an hour) and reconciles that one thread from its index before it removes the mark.
 */
export class PendingIndex {
  private readonly dir: string;
  private readonly writing: string;
  private dirs: Promise<void> | undefined;
  private built: Promise<void> | undefined;

  /** `pendingStems`: the stems a thread's index says are pending (thread-index.ts, through the views). */
  constructor(
    dataDir: string,
    private readonly threads: Threads,
    private readonly durable: boolean,
    private readonly pendingStems: (threadId: string) => Promise<string[]>,
  ) {
    this.dir = path.join(dataDir, 'pending');
    this.writing = path.join(this.dir, WRITING);
  }

  /** Before a change that may make a comment of `threadId` pending: its mark (PendingIndex says why). */
  async begin(threadId: string): Promise<PendingMark> {
    await this.madeDirs();
    for (;;) {
      markSeq = (markSeq + 1) & 0xffffff;
      const file = path.join(this.writing, `${threadId}+${hostId()}+${process.pid}+${salt}${markSeq}`);
      try {
        await createExclusive(file, '', { durable: this.durable });
        return { file };
      } catch (err) {
        // A dead process of this pid left a mark of this name: take the next.
        if (!isQuireError(err, 'EEXIST')) throw err;
      }
    }
  }

  /** After the change: its entry is there (or was not needed), so the mark goes. */
  async end(mark: PendingMark): Promise<void> {
    await removeFile(mark.file, { durable: false });
  }

  /**
   * A comment was written as `record`: its entry is made or removed to match. Never fails the caller's write:
   * false if the entry could not be made (then the caller keeps its mark, and a rebuild or the mark finds it).
   */
  async note(threadId: string, stem: string, record: CommentRecord): Promise<boolean> {
    try {
      await this.madeDirs();
      if (record.status === 'pending') await this.add(threadId, stem);
      else await this.drop(threadId, stem);
      return true;
    } catch {
      return false;
    }
  }

  /** Every pending comment of one thread gets its entry (a change whose outcome is unknown: it failed). */
  async reconcile(threadId: string): Promise<void> {
    await this.madeDirs();
    for (const stem of await this.pendingStems(threadId)) await this.add(threadId, stem);
  }

  /**
   * Runs a write that may make a comment of `threadId` pending (`may`) under a mark: the mark is removed once
   * `write` says its entry is in place (`noted`, from note()); a failed write, whose outcome is unknown,
   * reconciles the thread first. A crash keeps the mark for the next reader.
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
      if (mark !== null && noted) await this.end(mark).catch(() => {});
    }
  }

  /** One page of the queue, each entry checked against its record; O(queue names + page), not O(site). */
  async page(q: PendingQuery): Promise<PendingPage> {
    await this.ready();
    await this.reconcileDeadWriters();
    const refs = (await this.entries()).filter(
      (r) =>
        (q.threadId === undefined || r.threadId === q.threadId) &&
        (q.after === undefined || newestFirst(q.after, r) < 0),
    );
    refs.sort(newestFirst);
    const comments: PendingComment[] = [];
    let i = 0;
    // Verified a few at a time, one past the page: `more` is only true when a pending comment follows.
    while (i < refs.length && comments.length <= q.limit) {
      const batch = refs.slice(i, i + Math.min(VERIFY_AT_ONCE, q.limit + 1 - comments.length));
      i += batch.length;
      const read = await Promise.all(batch.map((r) => this.verified(r)));
      for (const c of read) if (c !== null) comments.push(c);
    }
    return { comments: comments.slice(0, q.limit), more: comments.length > q.limit };
  }

  /**
   * Writes the index afresh: an entry for each of `pending` (every pending comment of the site, as a full scan
   * found it), every other entry checked and removed, then `.complete`. Writers' marks are left to page(),
   * which reconciles each dead writer's thread from its index: a writer may have died after the scan passed it.
   */
  async rebuildFrom(pending: readonly PendingRef[]): Promise<{ added: number; removed: number }> {
    await this.madeDirs();
    const want = new Set(pending.map((r) => formatCommentId(r.threadId, r.stem)));
    let added = 0;
    let removed = 0;
    const have = new Set((await this.entries()).map((r) => formatCommentId(r.threadId, r.stem)));
    for (const r of pending)
      if (!have.has(formatCommentId(r.threadId, r.stem)) && (await this.add(r.threadId, r.stem))) added++;
    for (const r of await this.entries()) {
      if (want.has(formatCommentId(r.threadId, r.stem))) continue;
      if ((await this.verified(r)) === null) removed++;
    }
    await replaceFile(path.join(this.dir, COMPLETE), '', { durable: false });
    return { added, removed };
  }

  /** The entries as listed now (names that are not comment ids are ignored). */
  private async entries(): Promise<PendingRef[]> {
    const out: PendingRef[] = [];
    for (const name of await listNames(this.dir)) {
      const ref = name.startsWith('.') ? null : parseCommentId(name);
      if (ref !== null) out.push(ref);
    }
    return out;
  }

  /** True if this call made the entry. */
  private async add(threadId: string, stem: string): Promise<boolean> {
    try {
      await createExclusive(path.join(this.dir, formatCommentId(threadId, stem)), '', { durable: false });
      return true;
    } catch (err) {
      if (isQuireError(err, 'EEXIST')) return false;
      throw err;
    }
  }

  /**
   * Removes the entry, then reads the record again: a writer that made the comment pending after the caller
   * looked may have found the entry there (and made none); then it is put back.
   */
  private async drop(threadId: string, stem: string): Promise<void> {
    if (!(await removeFile(path.join(this.dir, formatCommentId(threadId, stem)), { durable: false }))) return;
    const now = await this.threads.comment(threadId, stem).catch(() => null);
    if (now?.status === 'pending') await this.add(threadId, stem);
  }

  /** The entry's comment if it is pending now; else the entry is dropped and null. */
  private async verified(r: PendingRef): Promise<PendingComment | null> {
    const record = await this.threads.comment(r.threadId, r.stem).catch(() => null);
    if (record?.status === 'pending') return { ...r, record };
    await this.drop(r.threadId, r.stem).catch(() => {});
    return null;
  }

  /** Marks whose writer is dead: this host's by their pid, another host's by their age. */
  private async deadMarks(): Promise<(PendingMark & { threadId: string })[]> {
    const dead: (PendingMark & { threadId: string })[] = [];
    for (const name of await listNames(this.writing)) {
      const [threadId, host, pid] = name.split('+');
      if (threadId === undefined || host === undefined || pid === undefined) continue;
      const file = path.join(this.writing, name);
      let gone: boolean;
      if (host === hostId()) gone = Number(pid) !== process.pid && !isProcessAlive(Number(pid));
      else {
        const st = (await stampAsync(file)).st;
        gone = st != null && Date.now() - Number(st.mtimeMs) > FOREIGN_MARK_MS;
      }
      if (gone) dead.push({ file, threadId });
    }
    return dead;
  }

  /** Each dead writer's thread is reconciled from its index (an entry per pending comment), then its mark goes. */
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
    await makeDir(this.writing, { durable: this.durable, parents: false });
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

  /**
   * The index as readers need it: once per process, built from every thread if it never was (a data directory
   * from before it, or one whose build was cut short). Writers never wait for this: their entries go in beside it.
   */
  ready(): Promise<void> {
    this.built ??= (async () => {
      await this.madeDirs();
      if ((await readComplete(path.join(this.dir, COMPLETE)).catch(() => null)) !== null) return;
      const found: PendingRef[] = [];
      for (const threadId of await this.threads.ids())
        for (const stem of await this.pendingStems(threadId)) found.push({ threadId, stem });
      await this.rebuildFrom(found);
    })();
    this.built.catch(() => {
      this.built = undefined;
    });
    return this.built;
  }
}

/** What `quire fsck` found of the pending index (check.ts). */
export interface PendingCheck {
  /** Pending comments without an entry. */
  missing: number;
  /** Entries of comments that are not pending (harmless: a page skips and removes them). */
  stale: number;
  /** Whether the index was written afresh (`repair`). */
  repaired: boolean;
}

/**
 * Compares the pending index of `dataDir` with `pending`, every pending comment a full scan found, and with
 * `repair` writes it afresh from them (PendingIndex.rebuildFrom). For `quire fsck`.
 */
export async function checkPendingIndex(
  dataDir: string,
  pending: readonly PendingRef[],
  repair: boolean,
): Promise<PendingCheck> {
  const dir = path.join(dataDir, 'pending');
  const names = new Set(await listNames(dir));
  const ids = new Set(pending.map((r) => formatCommentId(r.threadId, r.stem)));
  // An index never built (.complete missing) is no fault: the service builds it at start.
  const built = names.has(COMPLETE);
  const missing = built ? [...ids].filter((id) => !names.has(id)).length : 0;
  const stale = [...names].filter((n) => !n.startsWith('.') && !ids.has(n)).length;
  if (!repair || (built && missing === 0 && stale === 0)) return { missing, stale, repaired: false };
  const threads = new Threads(path.join(dataDir, 'threads'), false, Date.now);
  // Reconciling a dead writer's thread is a page's work (the service's views): fsck has written the entries.
  await new PendingIndex(dataDir, threads, false, async () => []).rebuildFrom(pending);
  return { missing, stale, repaired: true };
}
