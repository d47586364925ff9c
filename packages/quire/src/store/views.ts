import path from 'node:path';
import {
  Coalescer,
  readComplete,
  replaceFile,
  type Stamp,
  settled,
  stampAsync,
  unchangedAsync,
} from '@quire/fs';
import { type CommentRecord, parseRecord, parseThreadMeta, type ThreadMeta } from './records.js';
import { mapLimit, READ_CONCURRENCY, type StoredComment, stemOf, type Threads } from './threads.js';

/** Bytes of comment files kept parsed in thread views, over all threads. */
const MAX_VIEW_BYTES = 64 * 1024 * 1024;
/** Threads with a view kept (views of pages without comments weigh nothing, but count). */
export const MAX_THREADS = 10_000;
/**
 * A view older than this is read again even if no stamp changed: the stamps cannot see a file edited in place
 * by hand, and a network filesystem's attribute cache or a clock stepped back can hide a change from them.
 */
const MAX_VIEW_AGE_MS = 30_000;

/**
 * A thread as one reader saw it: every comment, the like counts and the page. Shared by every request until
 * a file of the thread changes, so it is frozen; `version` tells derived caches (rendered pages) apart.
 */
export interface ThreadView {
  readonly threadId: string;
  /** Every parsable comment, in id order. */
  readonly comments: readonly StoredComment[];
  /** The same comments by stem. */
  readonly byStem: ReadonlyMap<string, CommentRecord>;
  /** Likes of every comment that has any. */
  readonly likes: ReadonlyMap<string, number>;
  readonly meta: ThreadMeta | null;
  /** Different for every load of any thread in this process. */
  readonly version: number;
}

interface CachedView {
  view: ThreadView;
  /** Taken before the reads they vouch for: the thread directory, `.votes`, and each `.votes/<stem>`. */
  stamps: Stamp[];
  /** All stamps were old enough when the load began (@quire/fs's settled): a later change must change one. */
  settled: boolean;
  loadedAt: number;
  bytes: number;
  /** The thread's record ids as listed for this view, and when that listing (or the last check's) began. */
  ids: readonly string[];
  listedAt: number;
  /** Listings that check the view (validCached), shared by the readers waiting at the time. */
  relist: Coalescer<boolean>;
}

let versions = 0;

/**
 * The cache of thread views. A view is served from memory while the stamps it was read under are unchanged
 * (@quire/fs's stamps), else read again; concurrent callers share one read, and never one that began before their call,
 * so a comment acknowledged before the call is in it.
 */
export class ThreadViews {
  /** Per thread, the last view loaded and the stamps that vouch for it (least recently used first). */
  private readonly cached = new Map<string, CachedView>();
  private cachedBytes = 0;
  private readonly loads = new Map<string, Coalescer<CachedView>>();

  /**
   * `listAfterMs`: a view whose directory was last listed longer ago than this is checked by a listing too, not
   * by its stamps alone. A network filesystem's attribute cache can keep a stat from seeing a comment another
   * host has just published (GlusterFS defaults: 1-1.2 s); its listing (readdir) sees the name. So a comment
   * acknowledged anywhere is in every instance's view within about listAfterMs (docs/comment-service.md).
   */
  constructor(
    private readonly threads: Threads,
    private readonly listAfterMs: number,
  ) {}

  /** The view last loaded, valid or not (a hint: its records spare reads); undefined if there is none. */
  last(threadId: string): ThreadView | undefined {
    return this.cached.get(threadId)?.view;
  }

  /**
   * The thread's cached view if it is still valid: settled, young enough, and every stamp unchanged by a stat
   * on the threadpool (never on the event loop: on a network filesystem a stat may wait for the server).
   */
  private async validCached(threadId: string): Promise<ThreadView | undefined> {
    const entry = this.cached.get(threadId);
    if (!entry?.settled || Date.now() - entry.loadedAt >= MAX_VIEW_AGE_MS) return undefined;
    const same = await Promise.all(entry.stamps.map(unchangedAsync));
    if (!same.every(Boolean)) return undefined;
    if (Date.now() - entry.listedAt >= this.listAfterMs && !(await entry.relist.next())) return undefined;
    if (this.cached.get(threadId) !== entry) return undefined;
    // Least recently used goes first.
    this.cached.delete(threadId);
    this.cached.set(threadId, entry);
    return entry.view;
  }

  /** The whole thread as it is on disk now: every comment, the like counts and the page. */
  async get(threadId: string): Promise<ThreadView> {
    const dir = this.threads.dir(threadId);
    const cached = await this.validCached(threadId);
    if (cached !== undefined) return cached;
    let load = this.loads.get(threadId);
    if (load === undefined) {
      load = new Coalescer(
        () => this.load(threadId, dir),
        () => this.loads.delete(threadId),
      );
      this.loads.set(threadId, load);
    }
    return (await load.next()).view;
  }

  private async load(threadId: string, dir: string): Promise<CachedView> {
    const started = Date.now();
    const votesDir = this.threads.votesDir(threadId);
    // Every stamp is taken before what it vouches for is read: a change after it either shows in the read or
    // changes the stamp. Making `.votes` changes the thread directory, making `.votes/<stem>` changes `.votes`,
    // a vote changes its `.votes/<stem>`: while `.votes` is missing, the thread directory's stamp covers it.
    const stamps = [await stampAsync(dir)];
    const votesStamp = await stampAsync(votesDir);
    if (votesStamp.st !== undefined) stamps.push(votesStamp);
    let comments: StoredComment[] = [];
    const likes = new Map<string, number>();
    let meta: ThreadMeta | null = null;
    let bytes = 0;
    const spool = stamps[0]?.st === undefined ? null : await this.threads.spool(threadId);
    let ids: string[] = [];
    if (spool !== null) {
      let voted: string[];
      let metaBuf: Buffer | null;
      [ids, voted, metaBuf] = await Promise.all([
        spool.ids(),
        this.threads.voted(threadId),
        readComplete(this.threads.metaFile(threadId)),
      ]);
      meta = parseThreadMeta(metaBuf);
      stamps.push(...(await Promise.all(voted.map((stem) => stampAsync(path.join(votesDir, stem))))));
      const [read, counts] = await Promise.all([
        mapLimit(ids, READ_CONCURRENCY, async (id) => {
          const buf = await spool.get(id);
          const record = buf === null ? null : parseRecord(buf);
          if (record === null) return null;
          bytes += (buf as Buffer).length;
          return Object.freeze({ stem: stemOf(id), record: Object.freeze(record) });
        }),
        mapLimit(voted, READ_CONCURRENCY, (stem) => this.threads.likesOf(threadId, stem)),
      ]);
      comments = read.filter((c): c is StoredComment => c !== null);
      voted.forEach((stem, i) => {
        const n = counts[i] ?? 0;
        if (n > 0) likes.set(stem, n);
      });
    }
    const entry: CachedView = {
      view: Object.freeze({
        threadId,
        comments: Object.freeze(comments),
        byStem: new Map(comments.map((c) => [c.stem, c.record])),
        likes,
        meta,
        version: ++versions,
      }),
      stamps,
      settled: settled(stamps, started),
      loadedAt: started,
      bytes,
      ids,
      listedAt: started,
      relist: new Coalescer(() => this.sameIds(threadId, entry)),
    };
    this.keep(threadId, entry);
    return entry;
  }

  /** Whether the thread's directory, listed now, holds the records `entry` was read from (then it is renewed). */
  private async sameIds(threadId: string, entry: CachedView): Promise<boolean> {
    const started = Date.now();
    const spool = await this.threads.spool(threadId);
    const ids = spool === null ? [] : await spool.ids();
    const had = new Set(entry.ids);
    if (ids.length !== had.size || ids.some((id) => !had.has(id))) return false;
    entry.listedAt = started;
    return true;
  }

  private keep(threadId: string, entry: CachedView): void {
    const old = this.cached.get(threadId);
    if (old !== undefined) {
      this.cached.delete(threadId);
      this.cachedBytes -= old.bytes;
    }
    this.cached.set(threadId, entry);
    this.cachedBytes += entry.bytes;
    for (const [id, e] of this.cached) {
      if ((this.cachedBytes <= MAX_VIEW_BYTES && this.cached.size <= MAX_THREADS) || id === threadId) break;
      this.cached.delete(id);
      this.cachedBytes -= e.bytes;
    }
  }
}

/** Settings changed at run time through the admin API. */
export interface Settings {
  moderation?: 'off' | 'all';
}

function parseSettings(buf: Buffer | null): Settings {
  if (buf === null) return {};
  try {
    const v = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    return v.moderation === 'off' || v.moderation === 'all' ? { moderation: v.moderation } : {};
  } catch {
    return {};
  }
}

/**
 * Run-time settings (DATA/settings.json), read again only when its stamp changes (replaceFile gives every
 * version a new inode), under the same rule as thread views. The stat runs on the threadpool: every request
 * that needs the moderation setting checks it, and the event loop must not wait for it (issue 13).
 */
export class SettingsFile {
  private cache: { stamps: Stamp[]; settled: boolean; value: Settings } | undefined;

  constructor(
    private readonly file: string,
    private readonly durable: boolean,
  ) {}

  async get(): Promise<Settings> {
    const c = this.cache;
    if (c?.settled && (await unchangedAsync(c.stamps[0] as Stamp))) return { ...c.value };
    const started = Date.now();
    const stamps = [await stampAsync(this.file)];
    const value = parseSettings(await readComplete(this.file));
    this.cache = { stamps, settled: settled(stamps, started), value };
    return { ...value };
  }

  async save(s: Settings): Promise<void> {
    this.cache = undefined;
    await replaceFile(this.file, `${JSON.stringify(s, null, 2)}\n`, { durable: this.durable });
  }
}
