import path from 'node:path';
import { createExclusive, isQuireError, makeDir } from '@quire/fs';
import { DEFAULT_CONFIG } from '../config-defaults.js';
import { clientKey } from './address.js';
import { type AddCommentOptions, type AddResult, Admission } from './admission.js';
import type { EventSink, StoreEventKind } from './events.js';
import { type PortAccess, portAccess } from './imports.js';
import { type ModeratedPage, type ModeratedQuery, ModerationLists, moderatedOf } from './moderation.js';
import { PostLocks } from './post-locks.js';
import { RecentIndex } from './recent.js';
import {
  type CommentChanges,
  type CommentDraft,
  type CommentRecord,
  createRecord,
  forgetExpired,
  formatCommentId,
  restorableUntil,
  type ThreadMeta,
} from './records.js';
import { type Actor, checkMayChange, deleted, edited, judged, restored } from './rules.js';
import { Hmacs, loadSecret } from './secret.js';
import { type Settings, SettingsFile } from './settings-file.js';
import { StatusIndex } from './status-index.js';
import type { CacheStats, FeedEntry, ModeratedComment, StoreOptions } from './store-types.js';
import { Summaries } from './summaries.js';
import { type StoredComment, StoreError, Threads } from './threads.js';
import { type ThreadHead, type ThreadView, ThreadViews } from './views.js';

export type { AddCommentOptions, AddResult } from './admission.js';
export type { EventSink, StoreEvent } from './events.js';
export type { Actor } from './rules.js';
export type { Settings } from './settings-file.js';
export type { CacheStats, FeedEntry, ModeratedComment, StoreOptions } from './store-types.js';
export { type StoredComment, StoreError, type StoreErrorCode, StoreUnavailableError } from './threads.js';
export type { ThreadHead, ThreadView } from './views.js';

/**
 * The comment store: plain files under one data directory, safe for several server processes (and, on a
 * filesystem with atomic link(2), hosts) at once. Every rule about comments lives here (what a record holds,
 * who may change it, what a moderator sees); above it, nothing knows a file name. Layout (docs/design.md):
 *
 *   DATA/quire.json                 layout version, created once
 *   DATA/secret                     32 random bytes (mode 0600), created once (secret.ts)
 *   DATA/settings.json              settings changed at run time through the admin API (replaced atomically)
 *   DATA/threads/<threadId>/        one spool per page; each comment one file <YYYYMMDDTHHMMSSZ-N>.json
 *                                   (records.ts; threads.ts)
 *   DATA/threads/<threadId>/.thread.json              the page's URI and title, created once
 *   DATA/threads/<threadId>/.votes/<stem>/<voter>     one file per like, created exclusively
 *   DATA/threads/<threadId>/.post.lock                byte-range locks: one per text hash (duplicate check) and
 *                                                     one per nonce (retried POSTs) (post-locks.ts)
 *   DATA/threads/<threadId>/.nonces/<sha256(nonce)>   a claim per nonce posted, a hard link to an empty
 *                                                     `.nonces/.anchor-<k>` (nonce-claims.ts)
 *   DATA/threads/<threadId>/.keys/<sha256(nonce)>     nonce marks of an earlier version, read, never made
 *
 *   DATA/status/<status>/<threadId>_<stem>            the comments of each status but approved (status-index.ts)
 *
 * The modules, one concern each, are named in docs/design.md (the store).
 */
export class CommentStore {
  readonly dataDir: string;
  readonly threadsDir: string;
  /** HMACs keyed by DATA/secret: addresses, voters, nonces, and the server's tokens. */
  readonly hmacs: Hmacs;
  readonly durable: boolean;
  private readonly clock: () => number;
  private readonly threads: Threads;
  private readonly views: ThreadViews;
  private readonly summaries: Summaries;
  private readonly admission: Admission;
  private readonly settingsFile: SettingsFile;
  /** The site's recent approved comments (recent.ts), fed by every write below. */
  readonly recent: RecentIndex;
  /** The site's comments by status but approved (status-index.ts: the queue, spam, deleted), fed by every write. */
  readonly statusIndex: StatusIndex;
  private readonly lists: ModerationLists;
  /** Told of every comment added or changed before the caller hears of it (the outbox: server/notify/). */
  events: EventSink | undefined;

  private constructor(dataDir: string, secret: Buffer, opts: StoreOptions) {
    this.dataDir = dataDir;
    this.threadsDir = path.join(dataDir, 'threads');
    this.hmacs = new Hmacs(secret);
    this.durable = opts.durable !== false;
    this.clock = opts.clock ?? Date.now;
    this.threads = new Threads(this.threadsDir, this.durable, this.clock);
    this.views = new ThreadViews(this.threads, opts.viewListAfterMs ?? 500, opts.cache);
    this.summaries = new Summaries(
      this.threads,
      this.views,
      opts.cache?.summaryBytes ?? DEFAULT_CONFIG.cache.summaryBytes,
    );
    const locks = new PostLocks(opts.lockWaitMs ?? 5_000);
    this.admission = new Admission(this.threads, locks, this.summaries, this.durable, this.clock);
    this.settingsFile = new SettingsFile(path.join(dataDir, 'settings.json'), this.durable);
    this.recent = new RecentIndex(dataDir, this.threads, this.durable);
    this.statusIndex = new StatusIndex(dataDir, this.threads, this.durable, async (id) =>
      [...(await this.view(id)).entries].map(([stem, e]): [string, CommentRecord['status']] => [
        stem,
        e.status,
      ]),
    );
    this.lists = new ModerationLists(this.threads, this.views, this.statusIndex, this.recent, this.clock);
  }

  /** Opens the data directory, creating it (and its secret) on first start. */
  static async open(dataDir: string, opts: StoreOptions = {}): Promise<CommentStore> {
    const dir = path.resolve(dataDir);
    const durable = opts.durable !== false;
    await makeDir(path.join(dir, 'threads'), { durable });
    const made = await createExclusive(path.join(dir, 'quire.json'), `${JSON.stringify({ layout: 1 })}\n`, {
      durable,
    }).then(
      () => true,
      (err: unknown) => {
        if (!isQuireError(err, 'EEXIST')) throw err;
        return false;
      },
    );
    const secret = await loadSecret(dir, durable);
    const store = new CommentStore(dir, secret, opts);
    // A new data directory has no comment: its status index is complete as it is, with nothing to build.
    if (made) await store.statusIndex.rebuildFrom([]);
    return store;
  }

  /** The store's clock (epoch ms). */
  now(): number {
    return this.clock();
  }

  /** The page of a thread (its URI and title), null if the thread is unknown. */
  threadMeta(threadId: string): Promise<ThreadMeta | null> {
    return this.threads.meta(threadId);
  }

  /** The page of a thread as last read, without reading (written once, it never changes); null if unseen. */
  threadMetaSeen(threadId: string): ThreadMeta | null {
    return this.views.last(threadId)?.meta ?? null;
  }

  /** Ids of all threads, unordered. */
  threadIds(): Promise<string[]> {
    return this.threads.ids();
  }

  /**
   * Every comment of a thread in id order ([] if there is no such thread), or the given ones. Unparsable files
   * are skipped. The records are shared with other readers: do not modify them.
   */
  async comments(threadId: string, stems?: readonly string[]): Promise<StoredComment[]> {
    if (stems === undefined) return this.views.records.stored(await this.view(threadId));
    const spool = await this.threads.spool(threadId);
    return spool === null ? [] : this.threads.readRecords(spool, stems);
  }

  /** The whole thread as on disk now (comments, likes, page); cached while unchanged, never older than the call. */
  view(threadId: string): Promise<ThreadView> {
    return this.views.get(threadId);
  }

  /** The thread's version as on disk now if known without loading its index (ThreadViews.head), else undefined. */
  viewHead(threadId: string): Promise<ThreadHead | undefined> {
    return this.views.head(threadId);
  }

  /** Files the thread caches have read so far, and the bytes they hold now: for tests and the bench. */
  cacheStats(): CacheStats {
    const { filesRead, listings } = this.views;
    return { filesRead, listings, ...this.views.bytes, summaryBytes: this.summaries.bytes };
  }

  /** The records of the given comments of a view (a page's): from memory or read, O(stems). */
  pageRecords(view: ThreadView, stems: readonly string[]): Promise<Map<string, CommentRecord>> {
    return this.views.records.read(view, stems);
  }

  /** Stems of a thread's comments, in id order, optionally newest first and limited. */
  stems(threadId: string, opts: { reverse?: boolean; limit?: number } = {}): Promise<string[]> {
    return this.threads.stems(threadId, opts);
  }

  /** One comment's record as it is on disk now; null if there is none. */
  comment(threadId: string, stem: string): Promise<CommentRecord | null> {
    return this.threads.comment(threadId, stem);
  }

  /** Resolves once the derived data of every write made so far (the recent-comments index) is written. */
  settled(): Promise<void> {
    return this.recent.idle();
  }

  /** Adds a comment whose record the caller made (admission.ts says how and in what order it is checked). */
  addComment(
    threadId: string,
    meta: ThreadMeta,
    record: CommentRecord,
    opts: AddCommentOptions,
  ): Promise<AddResult> {
    return this.statusIndex
      .guard(threadId, record.status === 'pending', async () => {
        await this.recent.writing();
        const r = await this.admission.add(threadId, meta, record, opts);
        if (r.created) this.recent.note(threadId, r.stem, r.record);
        // A comment posted public has no entry to make (nor one to remove: its name is new).
        const noted =
          r.record.status !== 'pending' || (await this.statusIndex.note(threadId, r.stem, r.record));
        return { result: r, noted };
      })
      .then(async (r) => {
        await this.events?.({ kind: 'added', threadId, ...r, before: null });
        return r;
      });
  }

  /** Imports and exports (port/): comments under their own time or name, likes as they are (store/imports.ts). */
  get port(): PortAccess {
    return portAccess(this.threads, this.durable, (threadId, stem, record) =>
      this.statusIndex.note(threadId, stem, record),
    );
  }

  /** Adds a new comment to the page `page`: its record made from the draft (createRecord), then addComment. */
  postComment(
    threadId: string,
    page: { uri: string; title: string | null },
    draft: CommentDraft,
    opts: AddCommentOptions,
  ): Promise<AddResult> {
    const record = createRecord(threadId, draft, this.hmacs, this.clock());
    return this.addComment(threadId, { ...page, created: record.created }, record, opts);
  }

  /**
   * Read-modify-write of one comment under its lock: `fn` returns the new record or undefined to leave it.
   * Resolves to the record after the call, or null if there is no such comment. What `fn` throws is rethrown
   * and nothing is written. No rule is checked: the rule methods below are built on it.
   */
  async updateComment(
    threadId: string,
    stem: string,
    fn: (current: CommentRecord) => CommentRecord | undefined,
  ): Promise<CommentRecord | null> {
    // Any update may give its comment an indexed status (a verdict, a delete, an edit under review): marked.
    return this.statusIndex.guard(threadId, true, async () => {
      await this.recent.writing();
      const updated = await this.threads.update(threadId, stem, fn);
      if (updated === null) return { result: null, noted: true };
      this.summaries.noteWritten(threadId, stem, updated);
      this.recent.note(threadId, stem, updated);
      return { result: updated, noted: await this.statusIndex.note(threadId, stem, updated) };
    });
  }

  /** The comment if `actor` may change it now; else StoreError 'not-found' or 'edit-window-closed'. */
  async mayChange(threadId: string, stem: string, actor: Actor): Promise<CommentRecord> {
    return checkMayChange(actor, await this.threads.commentToChange(threadId, stem), this.clock());
  }

  /** The rule-checked change: `rule` (rules.ts) makes the new record from the current one. */
  private async change(
    kind: StoreEventKind,
    threadId: string,
    stem: string,
    actor: Actor,
    rule: (current: CommentRecord, nowMs: number) => CommentRecord | undefined,
  ): Promise<CommentRecord> {
    const now = this.clock();
    let before: CommentRecord | null = null;
    const updated = await this.updateComment(threadId, stem, (cur) => {
      before = cur;
      return rule(checkMayChange(actor, cur, now), now);
    });
    if (updated === null) throw new StoreError('not-found', 'there is no such comment');
    // A rule that left the record as it was changed nothing: nothing to tell.
    if (updated !== before)
      await this.events?.({ kind, threadId, stem, record: updated, before, created: false });
    return updated;
  }

  /** Edits a comment; 'comment-deleted' for a tombstone. `review`: moderation all (rules.ts, edited). */
  editComment(threadId: string, stem: string, changes: CommentChanges, actor: Actor, review = false) {
    return this.change('edited', threadId, stem, actor, (c, now) => edited(actor, c, changes, now, review));
  }

  /** Deletes a comment: a tombstone, restorable by a moderator for `restoreWindowMs`. A tombstone stays. */
  deleteComment(
    threadId: string,
    stem: string,
    actor: Actor,
    restoreWindowMs: number,
  ): Promise<CommentRecord> {
    return this.change('deleted', threadId, stem, actor, (c, now) => deleted(actor, c, now, restoreWindowMs));
  }

  /** A moderator's verdict; StoreError 'comment-deleted' for a tombstone. */
  judgeComment(threadId: string, stem: string, status: 'approved' | 'spam'): Promise<CommentRecord> {
    return this.change('judged', threadId, stem, { by: 'moderator' }, (cur) => judged(cur, status));
  }

  /**
   * Erases what tombstones kept for a restore once their window has passed, in the given threads (default all):
   * until then a delete only hides the erased fields. Resolves to the number of records rewritten.
   */
  async eraseExpiredRestores(threadIds?: readonly string[]): Promise<number> {
    let erased = 0;
    for (const threadId of threadIds ?? (await this.threadIds())) {
      const now = this.clock();
      for (const c of await this.views.records.withStatus(await this.view(threadId), 'deleted')) {
        if (c.record.restore === undefined || restorableUntil(c.record, now) !== null) continue;
        const after = await this.updateComment(threadId, c.stem, (cur) => {
          const kept = forgetExpired(cur, now);
          return kept === cur ? undefined : kept;
        });
        if (after !== null && after.restore === undefined) erased++;
      }
    }
    return erased;
  }

  /** Undoes a delete within its window; StoreError 'not-restorable' otherwise. */
  restoreComment(threadId: string, stem: string): Promise<CommentRecord> {
    return this.change('restored', threadId, stem, { by: 'moderator' }, restored);
  }

  /**
   * Records a like by `voter` (an HMAC, never an address): the vote file is created exclusively, so a voter's
   * second like, from any process, fails in the kernel with EEXIST instead of being counted. True if counted.
   */
  vote(threadId: string, stem: string, voter: string): Promise<boolean> {
    return this.threads.vote(threadId, stem, voter);
  }

  /**
   * A like of an approved comment by the client at `address`, counted once per client (clientKey) and comment
   * (or with `withdraw`, that client's like taken back): whether it counted (was removed), and the comment's
   * likes. StoreError 'not-found' for any comment the public cannot see.
   */
  async like(threadId: string, stem: string, address: string | undefined, withdraw = false) {
    const record = await this.threads.commentToChange(threadId, stem);
    if (record === null || record.status !== 'approved')
      throw new StoreError('not-found', 'there is no such comment');
    const voter = this.hmacs.hex('vote', `${formatCommentId(threadId, stem)}\0${clientKey(address)}`);
    const counted = withdraw
      ? await this.threads.unvote(threadId, stem, voter)
      : await this.vote(threadId, stem, voter);
    return { counted, likes: await this.likesOf(threadId, stem) };
  }

  /** Likes of one comment: the number of vote files. */
  likesOf(threadId: string, stem: string): Promise<number> {
    return this.threads.likesOf(threadId, stem);
  }

  /** Likes of every comment of a thread that has any. */
  async likes(threadId: string): Promise<Map<string, number>> {
    return new Map(
      [...(await this.view(threadId)).entries].flatMap(([s, e]) => (e.likes > 0 ? [[s, e.likes]] : [])),
    );
  }

  /** Approved comments of a thread: what the public counts. */
  async approvedCount(threadId: string): Promise<number> {
    return (await this.view(threadId)).approved;
  }

  /** One comment as a moderator sees it; StoreError 'not-found' if there is none. */
  async moderated(threadId: string, stem: string): Promise<ModeratedComment> {
    const record = await this.comment(threadId, stem);
    if (record === null) throw new StoreError('not-found', 'there is no such comment');
    const [meta, likes, parent] = await Promise.all([
      this.threadMeta(threadId),
      this.likesOf(threadId, stem),
      record.parent === null ? null : this.comment(threadId, record.parent),
    ]);
    return moderatedOf(threadId, meta, { stem, record }, likes, parent, this.clock());
  }

  /** A page of a moderator's list (moderation.ts): site-wide, O(names of its status + page), not O(site). */
  moderatedPage(q: ModeratedQuery): Promise<ModeratedPage> {
    return this.lists.page(q);
  }

  /** The newest `max` approved comments of one thread, or of the whole site; reads only as many as needed. */
  newestApproved(max: number, threadId?: string): Promise<FeedEntry[]> {
    // The site's: from the recent-comments index, a bounded read however many threads there are.
    if (threadId === undefined) return this.recent.newestApproved(max);
    return this.recent.newestOfThread(threadId, max);
  }

  /** Run-time settings (DATA/settings.json), read again only when it changed. */
  settings(): Promise<Settings> {
    return this.settingsFile.get();
  }

  /** Replaces DATA/settings.json, for every process. */
  saveSettings(s: Settings): Promise<void> {
    return this.settingsFile.save(s);
  }
}
