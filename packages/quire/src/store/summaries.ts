import path from 'node:path';
import { Coalescer, formatStamp, listNames, parseName, pathExists, type Spool } from '@quire/fs';
import { COMMENT_STEM, type CommentRecord, type CommentStatus } from './records.js';
import { RECORD_SUFFIX, recordName, type StoredComment, type Threads } from './threads.js';
import { MAX_THREADS, type ThreadViews } from './views.js';

/** Bytes a summary costs in memory (its strings, the object, its map slots), for the budget. */
export const SUMMARY_BYTES = 200;

/**
 * How much earlier than a check's window a comment's name may say it was made and still be summarised. A name's
 * second is that of its publish, which follows the record's `created` on the same host's clock, so a name older
 * than the window holds a comment created before it; the slack covers a clock stepped back in between.
 */
const NAME_SLACK_MS = 60_000;

/** What the duplicate and nonce checks need of a comment. */
export interface Summary {
  textHash: string;
  nonce: string | null;
  status: CommentStatus;
  created: number;
}

export function summarise(r: CommentRecord): Summary {
  return { textHash: r.textHash, nonce: r.nonce, status: r.status, created: Date.parse(r.created) };
}

/** The nonce and duplicate checks' picture of one thread: summaries of its comments (all, or since `from`), by stem. */
export interface ThreadSummaries {
  sums: Map<string, Summary>;
  /** Stems by nonce, of the summaries that have one. */
  byNonce: Map<string, string>;
  /** Names that are not records of the spool (hand-made), so they are not parsed again on every post. */
  strays: Set<string>;
  refresh: Coalescer<void>;
  /**
   * Epoch ms: every comment whose name's second is this or later was summarised by a completed refresh (listed
   * since this process started); -Infinity once all were, +Infinity before the first refresh.
   */
  from: number;
  /** The earliest time a caller waiting for the next refresh needs covered: where that refresh reads from. */
  want: number;
  /** Dropped from the store's map (posts in flight may still use it): no longer counted. */
  evicted: boolean;
}

/**
 * Per thread, summaries of its comments for the nonce and duplicate checks: of every comment once a nonce check
 * needed them, else of those of the duplicate window (least recently used first, at most `cache.summaryBytes`
 * over all threads). Summaries are hints: a hit is confirmed by reading the record.
 */
export class Summaries {
  private readonly byThread = new Map<string, ThreadSummaries>();
  private count = 0;

  private readonly maxSummaries: number;

  /**
   * `budgetBytes`: config `cache.summaryBytes`. The thread being posted to keeps its summaries even past it
   * (the checks need them all); the least recently posted-to threads go first.
   */
  constructor(
    private readonly threads: Threads,
    private readonly views: ThreadViews,
    budgetBytes: number,
  ) {
    this.maxSummaries = Math.floor(budgetBytes / SUMMARY_BYTES);
  }

  /** Bytes the summaries are counted at now. */
  get bytes(): number {
    return this.count * SUMMARY_BYTES;
  }

  /**
   * The thread's summaries, covering at least the comments whose names' time is `fromMs` or later (all of them
   * by default: the nonce check needs every comment, the duplicate check only those of its window, so that a
   * post to a thread of 50,000 comments reads the few of the last minutes, not every file). With `refresh` (and
   * whenever they do not cover `fromMs` yet) brought up to date by a refresh begun after this call: one readdir
   * (shared by the posts waiting at the time) and reads of the names it has not seen yet, or the last view's
   * records for them.
   */
  async of(
    threadId: string,
    spool: Spool,
    refresh: boolean,
    fromMs = Number.NEGATIVE_INFINITY,
  ): Promise<ThreadSummaries> {
    let index = this.byThread.get(threadId);
    if (index === undefined) {
      const created: ThreadSummaries = {
        sums: new Map(),
        byNonce: new Map(),
        strays: new Set(),
        refresh: new Coalescer(async () => {
          const from = created.want;
          await this.list(threadId, spool, created, from);
          created.from = Math.min(created.from, from);
        }),
        from: Number.POSITIVE_INFINITY,
        want: Number.POSITIVE_INFINITY,
        evicted: false,
      };
      index = created;
    } else {
      this.byThread.delete(threadId);
    }
    this.byThread.set(threadId, index);
    for (const [id, old] of this.byThread) {
      if ((this.count <= this.maxSummaries && this.byThread.size <= MAX_THREADS) || old === index) break;
      this.byThread.delete(id);
      old.evicted = true;
      this.count -= old.sums.size;
    }
    if (refresh || index.from > fromMs) {
      // Read by the refresh that next() starts: it begins after this call.
      index.want = Math.min(index.want, fromMs);
      await index.refresh.next();
    }
    return index;
  }

  /** Keeps the summary of a record written by this process, if its thread's summaries know the stem. */
  noteWritten(threadId: string, stem: string, record: CommentRecord): void {
    const index = this.byThread.get(threadId);
    if (index?.sums.has(stem)) this.set(index, stem, summarise(record));
  }

  set(index: ThreadSummaries, stem: string, sum: Summary): void {
    const old = index.sums.get(stem);
    if (old === undefined && !index.evicted) this.count++;
    if (old?.nonce != null && old.nonce !== sum.nonce && index.byNonce.get(old.nonce) === stem) {
      index.byNonce.delete(old.nonce);
    }
    index.sums.set(stem, sum);
    // The first comment with a nonce keeps it (only a hand edit can give two comments one nonce).
    if (sum.nonce !== null && !index.byNonce.has(sum.nonce)) index.byNonce.set(sum.nonce, stem);
  }

  private drop(index: ThreadSummaries, stem: string): void {
    const old = index.sums.get(stem);
    if (old === undefined) return;
    index.sums.delete(stem);
    if (!index.evicted) this.count--;
    if (old.nonce === null || index.byNonce.get(old.nonce) !== stem) return;
    index.byNonce.delete(old.nonce);
    // Another comment with that nonce (hand edits) takes its place.
    for (const [s, sum] of index.sums) {
      if (sum.nonce === old.nonce) {
        index.byNonce.set(old.nonce, s);
        break;
      }
    }
  }

  /** The comment with this nonce in the summaries, confirmed by reading its file; null if there is none. */
  async withNonce(threadId: string, index: ThreadSummaries, nonce: string): Promise<StoredComment | null> {
    for (let stem = index.byNonce.get(nonce); stem !== undefined; ) {
      const earlier = await this.threads.comment(threadId, stem);
      if (earlier === null) this.drop(index, stem);
      else {
        this.set(index, stem, summarise(earlier));
        if (earlier.nonce === nonce) return { stem, record: earlier };
      }
      // Edited by hand to another nonce, or gone: another file may still have this nonce.
      const next = index.byNonce.get(nonce);
      stem = next === stem ? undefined : next;
    }
    return null;
  }

  /** A comment with this text hash, live and created since `sinceMs`, confirmed by reading it; else false. */
  async hasRecentText(
    threadId: string,
    index: ThreadSummaries,
    textHash: string,
    sinceMs: number,
  ): Promise<boolean> {
    for (const [stem, sum] of index.sums) {
      if (sum.textHash !== textHash || sum.status === 'deleted' || sum.created < sinceMs) continue;
      const current = await this.threads.comment(threadId, stem);
      if (current === null) continue;
      this.set(index, stem, summarise(current));
      if (current.textHash === textHash && current.status !== 'deleted') return true;
    }
    return false;
  }

  /**
   * One refresh: the spool's names, the summaries of those not seen yet whose second is `fromMs` or later (less
   * NAME_SLACK_MS), and none of those gone.
   */
  private async list(threadId: string, spool: Spool, index: ThreadSummaries, fromMs: number): Promise<void> {
    const names = await listNames(spool.dir);
    const unseen: string[] = [];
    let known = 0;
    // Names sort by their stamp (YYYYMMDDTHHMMSSZ) as strings: an older one is told by one comparison, with no
    // parse, on every refresh that skips it ('' skips none).
    const oldest = Number.isFinite(fromMs) ? formatStamp(fromMs - NAME_SLACK_MS) : '';
    for (const name of names) {
      if (!name.endsWith(RECORD_SUFFIX) || index.strays.has(name)) continue;
      const stem = name.slice(0, -RECORD_SUFFIX.length);
      if (index.sums.has(stem)) {
        known++;
        continue;
      }
      if (name < oldest) continue;
      if (!COMMENT_STEM.test(stem) || parseName(name) === null) index.strays.add(name);
      else unseen.push(stem);
    }
    if (known < index.sums.size) {
      // Not listed: removed (by hand), or published by this process after the listing began.
      const present = new Set(names);
      for (const stem of index.sums.keys()) {
        const name = recordName(stem);
        if (!present.has(name) && !(await pathExists(path.join(spool.dir, name)))) this.drop(index, stem);
      }
    }
    // Posts of this process that finished meanwhile, and the last view, spare most reads.
    const viewed = this.views.last(threadId)?.byStem;
    const toRead: string[] = [];
    for (const stem of unseen) {
      if (index.sums.has(stem)) continue;
      const r = viewed?.get(stem);
      if (r === undefined) toRead.push(stem);
      else this.set(index, stem, summarise(r));
    }
    // On the threadpool, however few: the event loop never waits for a read (issue 13).
    for (const c of await this.threads.readRecords(spool, toRead)) {
      if (!index.sums.has(c.stem)) this.set(index, c.stem, summarise(c.record));
    }
  }
}
