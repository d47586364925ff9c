import path from 'node:path';
import {
  Coalescer,
  isLocalFilesystem,
  readComplete,
  type Stamp,
  sameStamp,
  settled,
  stampAsync,
  unchangedAsync,
} from '@quire/fs';
import { DEFAULT_CONFIG } from '../config-defaults.js';
import type { CacheConfig } from '../config-types.js';
import { Gate } from './gate.js';
import { ByteLru } from './lru.js';
import { NameList } from './name-list.js';
import { type CommentRecord, parseThreadMeta, type ThreadMeta } from './records.js';
import {
  baseOf,
  INDEX_MARKS,
  type IndexBase,
  type IndexPlace,
  IndexRows,
  indexDelta,
  type Listed,
  listedSame,
  loadIndex,
} from './thread-index.js';
import type { Threads } from './threads.js';
import { ViewRecords } from './view-records.js';

/**
 * A view older than this is read again even if no stamp changed: the stamps cannot see a file edited in place
 * by hand, and a network filesystem's attribute cache or a clock stepped back can hide a change from them.
 */
const MAX_VIEW_AGE_MS = 30_000;
/** Threads whose duplicate-check summaries are kept at most (summaries.ts). */
export const MAX_THREADS = 10_000;
/**
 * Bytes per comment the layout a page of a thread adds to its index (server/forest.ts, kept as long as the
 * index): its typed arrays, replies and top level. The index's own bytes are its rows' (IndexRows.bytes), the
 * listing's its names' (NameList.bytes).
 */
const LAYOUT_BYTES = 48;
/**
 * Bytes a cached view costs besides its rows, names and layout: the objects holding them (a dozen typed arrays
 * and their buffers), its stamps (bigint stats) and the coalescers. Measured: a view of every thread of a
 * 10,000-comment site (100 threads) held 156 bytes a comment in all, of which ~4,500 a thread is this.
 */
const VIEW_BYTES = 4_500;
/**
 * Index loads at once: each may hold a big thread's entries, names and snapshot until it is done. One: a load's
 * work is mostly on the event loop (parsing, the listing's pass), so two at once only interleave their slices;
 * measured on the 1M site's mixed load (two pairs back to back, load ~3): 131-135 requests/s and an event-loop
 * p99 of 12-14 ms with one, 126 and 20-21 ms with two, the same RSS.
 */
const LOADS_AT_ONCE = 1;

/** How much memory the store's caches may hold (config `cache`; the defaults are DEFAULT_CONFIG's). */
export type CacheBudget = Pick<CacheConfig, 'indexBytes' | 'recordBytes'>;

/**
 * A version of a thread without its index: enough for an answer derived from that version and kept (a rendered
 * page, server/pagecache.ts), which then needs no index in memory, only the stamps that say it is current.
 */
export interface ThreadHead {
  readonly threadId: string;
  readonly meta: ThreadMeta | null;
  /** Approved comments: what the public counts. */
  readonly approved: number;
  /**
   * Tells versions of any thread in this process apart: a load that finds the thread as an earlier load of it
   * found it (the same settled stamps, within MAX_VIEW_AGE_MS of that load) keeps its version, so what was
   * derived from it stays valid after the index left the cache.
   */
  readonly version: number;
}

/**
 * A thread as one reader saw it, without its comments' texts: the index of every comment (where it hangs, who
 * may see it, its likes; thread-index.ts), the page, and counts. Shared by every request until a file of the
 * thread changes, so it is frozen. The records a page shows are read by ThreadViews.records: O(page), not
 * O(thread).
 */
export interface ThreadView extends ThreadHead {
  /** Every comment of the thread by stem (rows in the order they joined: stem order, as a rule). */
  readonly entries: IndexRows;
}

/** What stays of a load once its index left the cache: its version and what tells whether it is current. */
interface Head {
  head: ThreadHead;
  /** As CachedView's (the same objects). */
  stamps: Stamp[];
  settled: boolean;
  loadedAt: number;
  listedAt: number;
  restat: Coalescer<boolean>;
}

/**
 * Bytes a Head costs (two stamps of bigint stats, the page's title and URI). Heads are counted in the index
 * budget: an eighth of it (at 4 MiB, about 350 threads; the rendered pages they serve are fewer).
 */
const HEAD_BYTES = 1_500;
const HEAD_SHARE = 8;

interface CachedView {
  view: ThreadView;
  /** Taken before the reads they vouch for: the thread directory and its index marks. */
  stamps: Stamp[];
  /** All stamps were old enough when the load began (@quire/fs's settled): a later change must change one. */
  settled: boolean;
  loadedAt: number;
  /** The snapshot the index came from: when another changes it, cached records of the thread may be old. */
  generation: string;
  /** What the next load may build on (thread-index.ts IndexBase); null for a thread without a directory. */
  base: IndexBase | null;
  /** The names and marks listed for this view, and when that listing (or the last check's) began. */
  listed: Listed;
  listedAt: number;
  /** Listings that check the view (validCached), shared by the readers waiting at the time. */
  relist: Coalescer<boolean>;
  /**
   * Stats of the stamps (validCached), shared the same way: concurrent readers of a thread share about two stats,
   * each begun after their calls, so a view is never older than the call that gets it.
   */
  restat: Coalescer<boolean>;
}

/** Whether every stamp still matches its file (a stat each, on the threadpool). */
export async function stampsUnchanged(stamps: readonly Stamp[]): Promise<boolean> {
  return (await Promise.all(stamps.map(unchangedAsync))).every(Boolean);
}

let versions = 0;

/**
 * The shared stat of `stamps`, made outside load(): a closure made there would hold load()'s whole scope (V8
 * keeps one context per function for all its closures), so a head would keep its thread's index alive.
 */
function restatOf(stamps: readonly Stamp[]): Coalescer<boolean> {
  return new Coalescer(() => stampsUnchanged(stamps));
}

/** Approved comments of `entries`: from the view they were loaded on top of and what changed, if that is it. */
function approvedIn(entries: IndexRows, before: ThreadView | undefined): number {
  const delta = indexDelta(entries);
  let n = 0;
  if (delta === undefined || before === undefined || delta.from.deref() !== before.entries) {
    for (let r = 0; r < entries.size; r++) if (entries.statusAt(r) === 'approved') n++;
    return n;
  }
  const was = (s: string) => (before.entries.get(s)?.status === 'approved' ? 1 : 0);
  n = before.approved;
  for (const s of delta.removed) n -= was(s);
  for (const s of delta.changed) n += (entries.get(s)?.status === 'approved' ? 1 : 0) - was(s);
  return n;
}

/**
 * The cache of thread views: the index of each recently read thread and recently read records, each an LRU
 * bounded by bytes (CacheBudget). A view is served from memory while the stamps it was read under are unchanged
 * (@quire/fs's stamps), else loaded again; concurrent callers share one load, and never one that began before
 * their call, so a comment acknowledged before the call is in it.
 */
export class ThreadViews {
  private readonly cached: ByteLru<string, CachedView>;
  /** The parsed records of shown comments (view-records.ts). */
  readonly records: ViewRecords;
  private readonly heads: ByteLru<string, Head>;
  private readonly loads = new Map<string, Coalescer<CachedView>>();
  /** Loads of different threads under way at once (gate.ts): what they hold is bounded too. */
  private readonly loading = new Gate(LOADS_AT_ONCE);
  /** Files opened or listed by index loads. */
  private indexFilesRead = 0;
  /** Listings made to check cached views (listingTrusted). */
  listings = 0;

  /**
   * `listAfterMs`: a view whose directory was last listed longer ago than this is checked by a listing too, not
   * by its stamps alone. A network filesystem's attribute cache can keep a stat from seeing a comment another
   * host has just published (GlusterFS defaults: 1-1.2 s); its listing (readdir) sees the name. So a comment
   * acknowledged anywhere is in every instance's view within about listAfterMs (docs/comment-service.md).
   */
  constructor(
    private readonly threads: Threads,
    private readonly listAfterMs: number,
    budget: CacheBudget = DEFAULT_CONFIG.cache,
  ) {
    const heads = Math.floor(budget.indexBytes / HEAD_SHARE);
    this.cached = new ByteLru(budget.indexBytes - heads);
    this.heads = new ByteLru(heads);
    this.records = new ViewRecords(threads, budget.recordBytes);
  }

  /** Bytes the caches hold now (the heads are counted with the indexes). */
  get bytes(): { indexBytes: number; recordBytes: number } {
    return { indexBytes: this.cached.bytes + this.heads.bytes, recordBytes: this.records.bytes };
  }

  /** Files opened or listed by index loads and record reads: what the bench counts. */
  get filesRead(): number {
    return this.indexFilesRead + this.records.filesRead;
  }

  /** Records of the thread kept in memory, a hint that spares reads (valid or not); undefined if none. */
  last(
    threadId: string,
  ): { meta: ThreadMeta | null; byStem: { get(stem: string): CommentRecord | undefined } } | undefined {
    const entry = this.cached.peek(threadId);
    if (entry === undefined) return undefined;
    return { meta: entry.view.meta, byStem: { get: (stem) => this.records.peek(threadId, stem) } };
  }

  /**
   * Whether a view whose stamps are unchanged still holds every name: on a local filesystem the stamps say so
   * already (a link changes the directory's at once), elsewhere a listing must (an attribute cache may hide a
   * name another host linked; the listing of a 50,000-comment thread costs ~30 ms of CPU, so it is not repeated
   * where it tells nothing).
   */
  private async listingTrusted(threadId: string, entry: CachedView): Promise<boolean> {
    if (await isLocalFilesystem(this.threads.dir(threadId))) return true;
    this.listings++;
    return entry.relist.next();
  }

  /**
   * The thread's cached view if it is still valid: settled, young enough, and every stamp unchanged by a stat
   * on the threadpool (never on the event loop: on a network filesystem a stat may wait for the server).
   */
  private async validCached(threadId: string): Promise<ThreadView | undefined> {
    const entry = this.cached.peek(threadId);
    if (!entry?.settled || Date.now() - entry.loadedAt >= MAX_VIEW_AGE_MS) return undefined;
    if (!(await entry.restat.next())) return undefined;
    if (Date.now() - entry.listedAt >= this.listAfterMs && !(await this.listingTrusted(threadId, entry))) {
      return undefined;
    }
    if (this.cached.peek(threadId) !== entry) return undefined;
    this.cached.get(threadId);
    return entry.view;
  }

  /**
   * The thread's version as it is on disk now, without loading its index if that is not cached: undefined
   * unless a load of it is known and still current (by the same rules as a cached view: settled, younger than
   * MAX_VIEW_AGE_MS, its stamps unchanged; a view not listed within listAfterMs counts only on a local
   * filesystem). The cached view itself when there is one.
   */
  async head(threadId: string): Promise<ThreadHead | undefined> {
    if (this.cached.peek(threadId) !== undefined) return this.validCached(threadId);
    const h = this.heads.get(threadId);
    if (!h?.settled || Date.now() - h.loadedAt >= MAX_VIEW_AGE_MS) return undefined;
    if (Date.now() - h.listedAt >= this.listAfterMs && !(await isLocalFilesystem(this.threads.dir(threadId))))
      return undefined;
    if (!(await h.restat.next())) return undefined;
    return this.heads.peek(threadId) === h ? h.head : undefined;
  }

  /** The thread's index as it is on disk now, and its page. */
  async get(threadId: string): Promise<ThreadView> {
    const dir = this.threads.dir(threadId);
    const cached = await this.validCached(threadId);
    if (cached !== undefined) return cached;
    let load = this.loads.get(threadId);
    if (load === undefined) {
      load = new Coalescer(
        () => this.loading.run(() => this.load(threadId, dir)),
        () => this.loads.delete(threadId),
      );
      this.loads.set(threadId, load);
    }
    return (await load.next()).view;
  }

  /** Where the index of a thread lives. */
  place(threadId: string): IndexPlace {
    return {
      dir: this.threads.dir(threadId),
      votesDir: this.threads.votesDir(threadId),
      durable: this.threads.durable,
    };
  }

  private async load(threadId: string, dir: string): Promise<CachedView> {
    const started = Date.now();
    // Every stamp is taken before what it vouches for is read: a new comment or a replaced record changes the
    // thread directory, a mark (made for every change of a record or its likes) changes the marks' directory;
    // while that is missing, the thread directory's stamp covers its making.
    const stamps = [await stampAsync(dir)];
    const marksStamp = await stampAsync(path.join(dir, INDEX_MARKS));
    if (marksStamp.st !== undefined) stamps.push(marksStamp);
    let entries = new IndexRows(1);
    let meta: ThreadMeta | null = null;
    let generation = '';
    let listed: Listed = { names: [], marks: [] };
    let base: IndexBase | null = null;
    if (stamps[0]?.st !== undefined) {
      const before = this.cached.peek(threadId);
      const [loaded, metaBuf] = await Promise.all([
        loadIndex(this.place(threadId), before?.base ?? undefined),
        readComplete(this.threads.metaFile(threadId)),
      ]);
      meta = parseThreadMeta(metaBuf);
      entries = loaded.entries;
      generation = loaded.generation;
      listed = loaded.listed;
      this.indexFilesRead += loaded.filesRead + 1;
      base = baseOf(loaded);
      // A snapshot another process wrote may hide changes this one's records predate (their marks are gone).
      if (before !== undefined && before.generation !== generation && !loaded.wroteSnapshot)
        this.records.forget(threadId);
      for (const [stem, r] of loaded.read) this.records.keep(threadId, stem, r);
    }
    const approved = approvedIn(entries, this.cached.peek(threadId)?.view);
    const prior = this.heads.peek(threadId);
    // Nothing changed since a settled load still young enough: the same version (pages rendered from it hold).
    const same =
      prior?.settled === true &&
      started - prior.loadedAt < MAX_VIEW_AGE_MS &&
      prior.stamps.length === stamps.length &&
      prior.stamps.every((s, i) => sameStamp(s, stamps[i] as Stamp));
    const loadedAt = same ? prior.loadedAt : started;
    const version = same ? prior.head.version : ++versions;
    const restat = restatOf(stamps);
    const entry: CachedView = {
      view: Object.freeze({ threadId, entries, meta, approved, version }),
      stamps,
      settled: settled(stamps, started),
      loadedAt,
      generation,
      base,
      listed,
      listedAt: started,
      relist: new Coalescer(() => this.sameListing(threadId, entry)),
      restat,
    };
    const head = Object.freeze({ threadId, meta, approved, version });
    const h: Head = { head, stamps, settled: entry.settled, loadedAt, listedAt: started, restat };
    this.heads.set(threadId, h, HEAD_BYTES);
    const bytes = entries.bytes + entries.size * LAYOUT_BYTES + NameList.bytesOf(listed.names) + VIEW_BYTES;
    if (this.cached.fits(bytes)) {
      // Kept: the listing as numbers (name-list.ts), for the view's checks and the next load's comparison.
      entry.listed = { names: NameList.of(listed.names), marks: listed.marks };
      if (base !== null) base.listed = entry.listed;
    }
    // Not kept when over the budget, and then no older view of the thread is either.
    this.cached.set(threadId, entry, bytes);
    return entry;
  }

  /** Whether the thread's names and marks, listed now, are those `entry` was loaded from (then it is renewed). */
  private async sameListing(threadId: string, entry: CachedView): Promise<boolean> {
    const started = Date.now();
    if (!(await listedSame(this.place(threadId), entry.listed).catch(() => false))) return false;
    entry.listedAt = started;
    return true;
  }
}
