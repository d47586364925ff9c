import type { UriConfig } from '../config-types.js';
import { truncateIp } from '../store/address.js';
import type { Placement } from '../store/imports.js';
import {
  type CommentRecord,
  type CommentStatus,
  type ThreadMeta,
  textHashOf,
  tombstone,
} from '../store/records.js';
import type { CommentStore } from '../store/store.js';
import { normaliseUri, threadIdOf } from '../store/uri.js';
import type { ExportedComment, ImportFormat, SourceComment, SourceItem, SourceThread } from './source.js';
import { Summary } from './summary.js';

/** How an import runs. */
export interface ImportOptions {
  format: ImportFormat;
  /** `https://new.example`: the old pages' scheme, host and port become this (their path stays). */
  site?: string;
  dryRun?: boolean;
  uri: UriConfig;
  uriChars: number;
  textChars: number;
  /** Called every `progressEvery` comments (and at the end). */
  onProgress?: (s: Summary) => void;
  progressEvery?: number;
}

/**
 * Appends in flight at once: enough to fill the two import batches that commit at once (store/imports.ts) and to
 * gather a third meanwhile, so parsing goes on while they commit. Each thread's directories are fsynced once
 * per batch, so the more comments of one thread a batch holds, the fewer fsyncs per comment (1,000 pages: about
 * 2.2 directory fsyncs a comment with 1,024 in flight, 1.4 with 4,096); few enough to keep memory flat (a few
 * KiB each).
 */
const IN_FLIGHT = 6144;
/** Likes become this many vote files at most: a count, bounded in cost. */
const MAX_LIKES = 10_000;

type Thread = { threadId: string; meta: ThreadMeta } | { bad: string };
type GoodThread = { threadId: string; meta: ThreadMeta };
/** A placed comment: its thread and its stem (a promise while its append is under way; null if it failed). */
interface Placed {
  threadId: string;
  stem: string | null | Promise<string | null>;
}

/**
 * Imports a stream of SourceItems into a store. Each comment is one keyed append (key `FORMAT:id`) stamped with
 * its own time, so a second run, or a run after a crash, finds what was written and adds only what is missing.
 * A reply needs its parent's stem: from memory while the parent's append is under way, else from the parent's
 * keyed append on disk (PortAccess.keyedStem: placed earlier in this run or in an earlier run), so memory does not
 * grow with the comments imported. A reply met before its parent waits for it; a deleted comment is kept (as a
 * tombstone) only once a reply to it is met; at the end, replies whose parent never came are put at top level.
 */
export class Importer {
  readonly summary = new Summary();
  private readonly threads = new Map<string, Thread>();
  /**
   * Comments whose append is under way; a finished one is found on disk. A dry run writes nothing to find, so
   * there it keeps every comment placed.
   */
  private readonly inFlight = new Map<string, Placed>();
  private readonly held = new Map<string, SourceComment>();
  private readonly waiting = new Map<string, SourceComment[]>();
  private readonly running = new Set<Promise<unknown>>();
  /** Per thread, the second of the last append started and its promise: one second's appends go in order. */
  private readonly lastAppend = new Map<string, { second: number; done: Promise<unknown> }>();
  private failure: unknown = null;
  /** Wakes run() when an append in flight is over. */
  private freed: (() => void) | undefined;

  constructor(
    private readonly store: CommentStore,
    private readonly opts: ImportOptions,
  ) {}

  /** Runs the import to its end; rethrows the first I/O failure or malformed input. */
  async run(items: AsyncIterable<SourceItem>): Promise<Summary> {
    for await (const it of items) {
      if (this.failure !== null) break;
      await this.take(it);
      // Not Promise.race(this.running): each call would leave a reaction on every append in flight until it
      // settles, thousands per comment read.
      while (this.running.size >= IN_FLIGHT) await new Promise<void>((resolve) => (this.freed = resolve));
    }
    // Replies whose parent is being looked up on disk are orphans only if it is not found.
    while (this.failure === null && this.running.size > 0) await Promise.all(this.running);
    if (this.failure === null) this.finish();
    await Promise.all(this.running);
    if (this.failure !== null) throw this.failure;
    this.opts.onProgress?.(this.summary);
    return this.summary;
  }

  private async take(it: SourceItem): Promise<void> {
    switch (it.kind) {
      case 'bad':
        this.summary.skip(it.where, it.reason);
        return;
      case 'thread':
        this.threads.set(it.thread.key, this.resolveThread(it.thread));
        return;
      case 'exported-thread':
        this.threads.set(it.thread.id, { threadId: it.thread.id, meta: it.thread.meta });
        return;
      case 'exported-comment':
        this.start(() => this.restore(it.comment));
        return;
      case 'comment':
        this.comment(it.comment);
    }
  }

  /** The thread of an old page: its URL moved to `--site`, normalised as the service does. */
  private resolveThread(t: SourceThread): Thread {
    try {
      let url = t.url;
      if (this.opts.site !== undefined) {
        // Isso keeps paths only: they are resolved against the site.
        const to = new URL(this.opts.site);
        const u = new URL(url, to);
        u.protocol = to.protocol;
        u.host = to.host;
        url = u.href;
      }
      const uri = normaliseUri(url, this.opts.uri, this.opts.uriChars);
      const created = t.created === null ? '' : new Date(t.created).toISOString();
      return { threadId: threadIdOf(uri), meta: { uri, title: t.title, created } };
    } catch (err) {
      return { bad: `page address ${JSON.stringify(t.url.slice(0, 200))}: ${(err as Error).message}` };
    }
  }

  /** Checks a comment, then places it now, holds it (deleted, no reply yet) or makes it wait for its parent. */
  private comment(c: SourceComment): void {
    const reason = this.problem(c);
    if (reason !== null) {
      this.summary.skip(c.where, reason);
      return;
    }
    if (c.status === 'deleted' && !this.waiting.has(c.key)) {
      // A tombstone keeps none of these: not held in memory either.
      this.held.set(c.key, { ...c, text: '', author: null, email: null, website: null, address: null });
      return;
    }
    this.release(c);
  }

  private problem(c: SourceComment): string | null {
    const t = this.threads.get(c.thread);
    if (t === undefined) return `unknown thread ${c.thread}`;
    if ('bad' in t) return t.bad;
    if (!Number.isFinite(c.created) || c.created < 0 || c.created >= 253402300800000)
      return 'impossible date';
    if (c.status !== 'deleted' && c.text.trim() === '') return 'empty text';
    if (c.text.length > this.opts.textChars) return `text longer than ${this.opts.textChars} characters`;
    // One placed earlier and finished is not in memory: its key finds its copy, as in a re-run.
    if (this.inFlight.has(c.key) || this.held.has(c.key)) return `comment ${c.key} appears twice`;
    return null;
  }

  /**
   * Places `c` once its parent is placed (placing a held deleted parent first); a parent neither under way nor
   * held is looked up on disk.
   */
  private release(c: SourceComment): void {
    if (c.parent !== null && !this.inFlight.has(c.parent)) {
      const parent = this.held.get(c.parent);
      if (parent === undefined) return void this.lookUp(c);
      this.held.delete(c.parent);
      this.release(parent);
      if (!this.inFlight.has(c.parent)) return void this.waitFor(c);
    }
    this.place(c, c.parent === null ? null : (this.inFlight.get(c.parent) ?? null));
  }

  /**
   * The reply `c` waits for its parent while the parent's keyed append is looked up in the reply's thread (done
   * earlier in this run, or in an earlier one): found, the reply goes under it; else it waits on (the parent may
   * come later in the file). A parent in another thread is not found there: the reply ends as an orphan.
   */
  private lookUp(c: SourceComment): void {
    this.waitFor(c);
    const t = this.threads.get(c.thread) as GoodThread;
    const key = `${this.opts.format}:${c.parent as string}`;
    this.start(async () => {
      const stem = await this.store.port.keyedStem(t.threadId, key);
      if (stem !== null && this.unwait(c)) this.place(c, { threadId: t.threadId, stem });
      return null;
    });
  }

  private waitFor(c: SourceComment): void {
    const list = this.waiting.get(c.parent as string) ?? [];
    list.push(c);
    this.waiting.set(c.parent as string, list);
  }

  /** Takes `c` off its parent's waiting list: false if it is not there (the parent came and released it). */
  private unwait(c: SourceComment): boolean {
    const list = this.waiting.get(c.parent as string);
    const i = list === undefined ? -1 : list.indexOf(c);
    if (list === undefined || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.waiting.delete(c.parent as string);
    return true;
  }

  /** Starts the append of `c` under `parent`, then releases the replies that waited for it. */
  private place(c: SourceComment, parent: Placed | null): void {
    const t = this.threads.get(c.thread) as GoodThread;
    const entry: Placed = { threadId: t.threadId, stem: null };
    const second = Math.floor(c.created / 1000);
    const last = this.lastAppend.get(t.threadId);
    // Comments of one second in one thread are numbered -0, -1, ... in the order of the file: not in parallel.
    const before = last !== undefined && last.second === second ? last.done : null;
    entry.stem = this.start(async () => {
      await before;
      let parentStem = parent === null ? null : await parent.stem;
      if (parent !== null && (parentStem === null || parent.threadId !== t.threadId)) {
        this.summary.orphans++;
        parentStem = null;
      }
      const stem = await this.append(c, t, parentStem);
      entry.stem = stem;
      // Its key now finds it on disk (keyedStem); replies placed meanwhile hold the entry itself.
      if (this.opts.dryRun !== true && this.inFlight.get(c.key) === entry) this.inFlight.delete(c.key);
      return stem;
    });
    this.lastAppend.set(t.threadId, { second, done: entry.stem });
    this.inFlight.set(c.key, entry);
    const replies = this.waiting.get(c.key);
    if (replies === undefined) return;
    this.waiting.delete(c.key);
    for (const r of replies) this.release(r);
  }

  /** The end of the input: replies whose parent never came go to top level; held deleted ones are dropped. */
  private finish(): void {
    while (this.waiting.size > 0) {
      const [parentKey, replies] = this.waiting.entries().next().value as [string, SourceComment[]];
      this.waiting.delete(parentKey);
      for (const r of replies) {
        this.summary.orphans++;
        this.release({ ...r, parent: null });
      }
    }
    this.summary.droppedDeleted += this.held.size;
    this.held.clear();
  }

  /** Runs `fn` as one of the appends in flight; a failure stops the import. */
  private start<T>(fn: () => Promise<T>): Promise<T | null> {
    const p = fn().catch((err: unknown) => {
      this.failure ??= err;
      return null;
    });
    this.running.add(p);
    void p.finally(() => {
      this.running.delete(p);
      const freed = this.freed;
      this.freed = undefined;
      freed?.();
    });
    return p;
  }

  /** The record of `c`, then its keyed append and its likes. */
  private async append(c: SourceComment, t: GoodThread, parent: string | null): Promise<string | null> {
    const record = this.recordOf(c, t.threadId, parent);
    this.summary.count(c.status);
    if (this.opts.dryRun === true) {
      this.summary.thread(t.threadId);
      return `dry-${c.key}`;
    }
    const meta = { ...t.meta, created: t.meta.created || record.created };
    const r = await this.store.port.importComment(t.threadId, meta, record, {
      key: `${this.opts.format}:${c.key}`,
    });
    this.summary.note(t.threadId, r.outcome);
    const likes = Math.min(c.likes, MAX_LIKES);
    if (likes > 0) {
      const votes = Array.from({ length: likes }, (_, i) => ({
        voter: this.store.hmacs.hex('vote', `import\0${this.opts.format}:${c.key}\0${i}`),
        content: `${JSON.stringify({ at: record.created })}\n`,
      }));
      await this.store.port.putVotes(t.threadId, r.stem, votes);
    }
    this.progress();
    return r.stem;
  }

  /**
   * The record, deterministic (a re-run must write the same bytes: the keyed append recognises a record by its
   * checksum after a crash). Its nonce is the HMAC of the import key, as a posted comment's is of its nonce.
   */
  private recordOf(c: SourceComment, threadId: string, parent: string | null): CommentRecord {
    const status: CommentStatus = c.status;
    const created = new Date(c.created).toISOString();
    const record: CommentRecord = {
      v: 1,
      parent,
      author: c.author,
      email: c.email,
      website: c.website,
      text: c.text,
      status,
      created,
      edited: c.edited === null || !Number.isFinite(c.edited) ? null : new Date(c.edited).toISOString(),
      deleted: null,
      ip: c.address === null ? null : truncateIp(c.address),
      ipHash: c.address === null ? null : this.store.hmacs.hex('ip', c.address),
      nonce: this.store.hmacs.hex('nonce', `${threadId}\0import:${this.opts.format}:${c.key}`),
      textHash: textHashOf(c.text),
    };
    return status === 'deleted' ? tombstone({ ...record, status: 'approved' }, created) : record;
  }

  /** Our own export: the record under its own name, its likes as they were. */
  private async restore(c: ExportedComment): Promise<string | null> {
    const t = this.threads.get(c.thread);
    if (t === undefined || 'bad' in t) {
      this.summary.skip(c.where, `unknown thread ${c.thread}`);
      return null;
    }
    this.summary.count(c.record.status);
    if (this.opts.dryRun === true) {
      this.summary.thread(t.threadId);
      return c.stem;
    }
    const at: Placement = { stem: c.stem };
    const r = await this.store.port.importComment(t.threadId, t.meta, c.record, at);
    this.summary.note(t.threadId, r.outcome);
    if (r.outcome === 'conflict') this.summary.skip(c.where, `another comment is already named ${c.stem}`);
    else await this.store.port.putVotes(t.threadId, c.stem, c.votes);
    this.progress();
    return r.stem;
  }

  private progress(): void {
    const every = this.opts.progressEvery ?? 1000;
    if (this.opts.onProgress !== undefined && this.summary.comments % every === 0)
      this.opts.onProgress(this.summary);
  }
}
