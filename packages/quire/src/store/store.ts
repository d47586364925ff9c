import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  type AppendResult,
  createExclusive,
  isQuireError,
  type Lock,
  type LockFile,
  openLockFile,
  openSpool,
  parseName,
  readComplete,
  replaceFile,
  type Spool,
  sweepTemps,
} from '@quire/fs';
import { Fresh, type Stamp, settled, stampOf, unchanged } from './fresh.js';
import {
  COMMENT_STEM,
  type CommentRecord,
  type CommentStatus,
  parseRecord,
  parseThreadMeta,
  serialiseRecord,
  type ThreadMeta,
} from './records.js';
import { Keys, loadSecret } from './secret.js';
import { THREAD_ID } from './uri.js';

/**
 * The comment store: plain files under one data directory, safe for several server processes (and, on a
 * filesystem with atomic link(2), hosts) at once. Layout (docs/comment-service.md, "Storage"):
 *
 *   DATA/quire.json                 layout version, created once
 *   DATA/secret                     32 random bytes (mode 0600), created once
 *   DATA/settings.json              settings changed at run time through the admin API (replaced atomically)
 *   DATA/threads/<threadId>/        one spool per page; each comment one file <YYYYMMDDTHHMMSSZ-N>.json
 *   DATA/threads/<threadId>/.thread.json              the page's URI and title, created once
 *   DATA/threads/<threadId>/.votes/<stem>/<voter>     one file per like, created exclusively
 *   DATA/threads/<threadId>/.post.lock                byte-range locks: one per text hash (duplicate check) and
 *                                                     one per nonce (retried POSTs)
 */
export interface StoreOptions {
  /** Epoch milliseconds; default Date.now. Names new records and stamps them. */
  clock?: () => number;
  /** fsync every write (default true). */
  durable?: boolean;
}

export interface StoredComment {
  /** The record's name without `.json`: its id within the thread. */
  stem: string;
  record: CommentRecord;
}

export type StoreErrorCode = 'duplicate' | 'parent-not-found' | 'nonce-reused' | 'not-found';

/** A refusal by the store's rules (not an I/O failure); the server turns it into a 4xx problem. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface AddCommentOptions {
  /** Same text (textHash) in this thread within this many ms is refused with StoreError 'duplicate'; 0: off. */
  duplicateWindowMs: number;
  /**
   * Which attempt with this nonce the client says this is (1, 2, ...), or undefined if it does not say. A first
   * attempt makes no claim and looks for no earlier comment: one metadata change fewer per comment. A client
   * that numbers its attempts must number every attempt with a nonce; two attempts numbered 1 make two comments.
   */
  attempt?: number;
}

export interface AddResult {
  stem: string;
  record: CommentRecord;
  /** false when `record.nonce` had been used: `stem`/`record` are the earlier comment. */
  created: boolean;
}

export interface Settings {
  moderation?: 'off' | 'all';
}

const SUFFIX = '.json';
const READ_CONCURRENCY = 32;
/** Up to this many new names, the index reads them synchronously (see refreshIndex). */
const SYNC_READS = 64;
/** Nonce locks live in the upper half of `.post.lock`'s 32-bit offsets, text locks in the lower half. */
const NONCE_LOCKS = 2 ** 31;
/** Summaries kept for the nonce and duplicate checks, over all threads (about 200 bytes each). */
const MAX_SUMMARIES = 200_000;
/** Bytes of comment files kept parsed in thread views, over all threads. */
const MAX_VIEW_BYTES = 64 * 1024 * 1024;
/** Threads with a view or an index kept (views of pages without comments weigh nothing, but count). */
const MAX_THREADS = 10_000;
/**
 * Post lock files kept open, and idle descriptors each keeps. A post holds its lock until its record is
 * durable, so a thread with 32 posts in flight holds 32 locks: keeping fewer descriptors than that opened and
 * closed one per post (4% of the event loop's time at 2800 POSTs/s, measured).
 */
const LOCK_FILES = 8;
const LOCK_FDS_KEPT = 32;
/**
 * A view older than this is read again even if no stamp changed: the stamps cannot see a file edited in place
 * by hand, and a network filesystem's attribute cache or a clock stepped back can hide a change from them.
 */
const MAX_VIEW_AGE_MS = 30_000;

/** What the duplicate and nonce checks need of a comment. */
interface Summary {
  textHash: string;
  nonce: string | null;
  status: CommentStatus;
  created: number;
}

function summarise(r: CommentRecord): Summary {
  return { textHash: r.textHash, nonce: r.nonce, status: r.status, created: Date.parse(r.created) };
}

const HEX_PREFIX = /^[0-9a-f]{8}/;

/**
 * A 31-bit offset for `s`. The nonces and text hashes locked on are hex digests (HMAC, SHA-256), already spread
 * evenly, so their first 8 digits serve; anything else is hashed.
 */
function lockHash(s: string): number {
  const hex = HEX_PREFIX.test(s) ? s : createHash('sha256').update(s).digest('hex');
  return Number.parseInt(hex.slice(0, 8), 16) >>> 1;
}

/** One byte of `.post.lock` per text hash (31-bit offset): identical texts exclude each other, others do not. */
function textLockOffset(textHash: string): number {
  return lockHash(textHash);
}

/** One byte of `.post.lock` per nonce, above every text lock's byte. */
function nonceLockOffset(nonce: string): number {
  return NONCE_LOCKS + lockHash(nonce);
}

/**
 * A byte of a thread's `.post.lock`. Uncontended (nearly always: only the same nonce or text contends), one try
 * on the spot: an fcntl on a descriptor kept open from an earlier post (openLockFile), a microsecond, where the
 * threadpool would queue it behind the fsyncs of other posts, and where opening the file anew would contend on
 * the thread directory's inode lock with the posts creating files there (measured on ext4 with a journal: 15% of
 * POSTs per second). Contended, the usual wait, which blocks nothing.
 */
async function postLock(file: LockFile, offset: number): Promise<Lock> {
  const range = { offset, length: 1 };
  try {
    return file.acquireSync({ range, timeoutMs: 0 });
  } catch (err) {
    if (!isQuireError(err, 'ERR_LOCK_TIMEOUT')) throw err;
  }
  return file.acquire({ range });
}

/** What the beforePublish hook threw, as the hook threw it. */
function unwrapHook(err: unknown): unknown {
  return isQuireError(err, 'ERR_BEFORE_PUBLISH') ? err.cause : err;
}

function isMissing(err: unknown): boolean {
  return isQuireError(err, 'ENOENT') || (err as { code?: string } | null)?.code === 'ENOENT';
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** readdir, [] if the directory does not exist. */
async function namesIn(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

/** Vote files in a comment's vote directory: dot names are temps, never votes. */
async function countVotes(dir: string): Promise<number> {
  return (await namesIn(dir)).filter((n) => !n.startsWith('.')).length;
}

/** Maps over items with at most `n` promises in flight, keeping the order. */
async function mapLimit<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

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

interface ViewEntry {
  view: ThreadView;
  /** Taken before the reads they vouch for: the thread directory, `.votes`, and each `.votes/<stem>`. */
  stamps: Stamp[];
  /** All stamps were old enough when the load began (fresh.ts, settled): a later change must change one. */
  settled: boolean;
  loadedAt: number;
  bytes: number;
}

/** The nonce and duplicate checks' picture of one thread: a summary of every comment, by stem. */
interface ThreadIndex {
  sums: Map<string, Summary>;
  /** Stems by nonce, of the summaries that have one. */
  byNonce: Map<string, string>;
  /** Names that are not records of the spool (hand-made), so they are not parsed again on every post. */
  strays: Set<string>;
  refresh: Fresh<void>;
  /** A refresh has completed: the index has every comment listed since this process started. */
  built: boolean;
  /** Dropped from the store's map (posts in flight may still use it): no longer counted. */
  evicted: boolean;
}

let versions = 0;

export class CommentStore {
  readonly dataDir: string;
  readonly threadsDir: string;
  readonly keys: Keys;
  readonly durable: boolean;
  private readonly clock: () => number;
  private readonly spools = new Map<string, Spool>();
  /**
   * The `.post.lock` of the threads posted to last (least recently used first), each keeping its descriptors
   * (the file is never removed, so they may be kept): at most LOCK_FILES × LOCK_FDS_KEPT idle descriptors.
   */
  private readonly postLocks = new Map<string, LockFile>();
  /** Per thread, a summary of every comment, for the nonce and duplicate checks (least recently used first). */
  private readonly indexes = new Map<string, ThreadIndex>();
  private indexedSums = 0;
  /** Per thread, the last view loaded and the stamps that vouch for it (least recently used first). */
  private readonly views = new Map<string, ViewEntry>();
  private viewBytes = 0;
  private readonly viewLoads = new Map<string, Fresh<ViewEntry>>();
  private settingsCache: { stamps: Stamp[]; settled: boolean; value: Settings } | undefined;

  private constructor(dataDir: string, secret: Buffer, opts: StoreOptions) {
    this.dataDir = dataDir;
    this.threadsDir = path.join(dataDir, 'threads');
    this.keys = new Keys(secret);
    this.durable = opts.durable !== false;
    this.clock = opts.clock ?? Date.now;
  }

  /** Opens the data directory, creating it (and its secret) on first start. */
  static async open(dataDir: string, opts: StoreOptions = {}): Promise<CommentStore> {
    const dir = path.resolve(dataDir);
    const durable = opts.durable !== false;
    const made = await fs.promises.mkdir(path.join(dir, 'threads'), { recursive: true });
    if (made !== undefined && durable) {
      for (let d = path.join(dir, 'threads'); d.length >= made.length; d = path.dirname(d)) {
        await syncDir(path.dirname(d));
      }
    }
    await createExclusive(path.join(dir, 'quire.json'), `${JSON.stringify({ layout: 1 })}\n`, {
      durable,
    }).catch((err: unknown) => {
      if (!isQuireError(err, 'EEXIST')) throw err;
    });
    const secret = await loadSecret(dir, durable);
    return new CommentStore(dir, secret, opts);
  }

  now(): number {
    return this.clock();
  }

  threadDir(threadId: string): string {
    if (!THREAD_ID.test(threadId)) throw new StoreError('not-found', 'not a thread id');
    return path.join(this.threadsDir, threadId);
  }

  /** The thread's spool; null if the thread does not exist and `create` is false. */
  async spool(threadId: string, create = false): Promise<Spool | null> {
    const cached = this.spools.get(threadId);
    if (cached !== undefined) return cached;
    const dir = this.threadDir(threadId);
    let spool: Spool;
    try {
      spool = await openSpool(dir, { suffix: SUFFIX, durable: this.durable, time: this.clock, create });
    } catch (err) {
      if (!create && isMissing(err)) return null;
      throw err;
    }
    // Once per process and thread: remove temps of writers on this host that died mid-write.
    await sweepTemps(dir).catch(() => []);
    this.spools.set(threadId, spool);
    return spool;
  }

  /** Creates the thread if needed and records its URI and title once (the first comment's page wins). */
  async ensureThread(threadId: string, meta: ThreadMeta): Promise<Spool> {
    const existing = this.spools.get(threadId);
    if (existing !== undefined) return existing;
    const spool = (await this.spool(threadId, true)) as Spool;
    await createExclusive(path.join(spool.dir, '.thread.json'), `${JSON.stringify(meta, null, 2)}\n`, {
      durable: this.durable,
    }).catch((err: unknown) => {
      if (!isQuireError(err, 'EEXIST')) throw err;
    });
    return spool;
  }

  async threadMeta(threadId: string): Promise<ThreadMeta | null> {
    return parseThreadMeta(await readComplete(path.join(this.threadDir(threadId), '.thread.json')));
  }

  /** Ids of all threads (directory names), unordered. */
  async threadIds(): Promise<string[]> {
    return (await fs.promises.readdir(this.threadsDir)).filter((n) => THREAD_ID.test(n));
  }

  /**
   * Every comment of a thread in id order ([] if there is no such thread), or the given ones. Unparsable files
   * are skipped. The records are shared with other readers: do not modify them.
   */
  async comments(threadId: string, stems?: readonly string[]): Promise<StoredComment[]> {
    if (stems === undefined) return [...(await this.view(threadId)).comments];
    const spool = await this.spool(threadId);
    if (spool === null) return [];
    return this.readRecords(spool, stems);
  }

  private async readRecords(spool: Spool, stems: readonly string[]): Promise<StoredComment[]> {
    const read = await mapLimit(stems, READ_CONCURRENCY, async (stem) => {
      const buf = await spool.get(`${stem}${SUFFIX}`);
      const record = buf === null ? null : parseRecord(buf);
      return record === null ? null : { stem, record };
    });
    return read.filter((c): c is StoredComment => c !== null);
  }

  /**
   * The whole thread as it is on disk now: every comment, the like counts and the page. Served from memory
   * while the stamps it was read under are unchanged (fresh.ts), else read again; concurrent callers share one
   * read, and never one that began before their call, so a comment acknowledged before the call is in it.
   */
  /**
   * view() when the thread's cached view is still valid (its stats, no promise: the common case of a GET, spared
   * the microtasks of an async call), else undefined.
   */
  viewCached(threadId: string): ThreadView | undefined {
    const entry = this.views.get(threadId);
    if (entry?.settled && Date.now() - entry.loadedAt < MAX_VIEW_AGE_MS && entry.stamps.every(unchanged)) {
      // Least recently used goes first.
      this.views.delete(threadId);
      this.views.set(threadId, entry);
      return entry.view;
    }
    return undefined;
  }

  async view(threadId: string): Promise<ThreadView> {
    const dir = this.threadDir(threadId);
    const cached = this.viewCached(threadId);
    if (cached !== undefined) return cached;
    let load = this.viewLoads.get(threadId);
    if (load === undefined) {
      load = new Fresh(
        () => this.loadView(threadId, dir),
        () => this.viewLoads.delete(threadId),
      );
      this.viewLoads.set(threadId, load);
    }
    return (await load.get()).view;
  }

  private async loadView(threadId: string, dir: string): Promise<ViewEntry> {
    const started = Date.now();
    const votesDir = path.join(dir, '.votes');
    // Every stamp is taken before what it vouches for is read: a change after it either shows in the read or
    // changes the stamp. Making `.votes` changes the thread directory, making `.votes/<stem>` changes `.votes`,
    // a vote changes its `.votes/<stem>`: while `.votes` is missing, the thread directory's stamp covers it.
    const stamps = [stampOf(dir)];
    const votesStamp = stampOf(votesDir);
    if (votesStamp.st !== undefined) stamps.push(votesStamp);
    let comments: StoredComment[] = [];
    const likes = new Map<string, number>();
    let meta: ThreadMeta | null = null;
    let bytes = 0;
    const spool = stamps[0]?.st === undefined ? null : await this.spool(threadId);
    if (spool !== null) {
      const [ids, voted, metaBuf] = await Promise.all([
        spool.ids(),
        namesIn(votesDir).then((names) => names.filter((n) => !n.startsWith('.'))),
        readComplete(path.join(dir, '.thread.json')),
      ]);
      meta = parseThreadMeta(metaBuf);
      for (const stem of voted) stamps.push(stampOf(path.join(votesDir, stem)));
      const [read, counts] = await Promise.all([
        mapLimit(ids, READ_CONCURRENCY, async (id) => {
          const buf = await spool.get(id);
          const record = buf === null ? null : parseRecord(buf);
          if (record === null) return null;
          bytes += (buf as Buffer).length;
          return Object.freeze({ stem: id.slice(0, -SUFFIX.length), record: Object.freeze(record) });
        }),
        mapLimit(voted, READ_CONCURRENCY, (stem) => countVotes(path.join(votesDir, stem))),
      ]);
      comments = read.filter((c): c is StoredComment => c !== null);
      voted.forEach((stem, i) => {
        const n = counts[i] ?? 0;
        if (n > 0) likes.set(stem, n);
      });
    }
    const entry: ViewEntry = {
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
    };
    const old = this.views.get(threadId);
    if (old !== undefined) {
      this.views.delete(threadId);
      this.viewBytes -= old.bytes;
    }
    this.views.set(threadId, entry);
    this.viewBytes += bytes;
    for (const [id, e] of this.views) {
      if ((this.viewBytes <= MAX_VIEW_BYTES && this.views.size <= MAX_THREADS) || id === threadId) break;
      this.views.delete(id);
      this.viewBytes -= e.bytes;
    }
    return entry;
  }

  /** Stems of a thread's comments, in id order, optionally newest first and limited. Names only. */
  async stems(threadId: string, opts: { reverse?: boolean; limit?: number } = {}): Promise<string[]> {
    const spool = await this.spool(threadId);
    if (spool === null) return [];
    return (await spool.ids(opts)).map((id) => id.slice(0, -SUFFIX.length));
  }

  async comment(threadId: string, stem: string): Promise<CommentRecord | null> {
    const spool = await this.spool(threadId);
    if (spool === null) return null;
    const buf = await spool.get(`${stem}${SUFFIX}`);
    return buf === null ? null : parseRecord(buf);
  }

  /**
   * Adds a comment. Under the lock of its nonce and, when the duplicate check is on, of its text (byte-range
   * locks on `.post.lock`: a retry racing its first attempt, or two identical comments racing, from any
   * processes, are serialised, while different comments proceed in parallel and share fsyncs), in this order:
   * 1. a comment with the same nonce is this request's earlier attempt: returned as is (created: false), or
   *    'nonce-reused' if its text differs;
   * 2. the same text within the duplicate window: 'duplicate';
   * 3. the parent must exist in this thread and be neither deleted nor spam: 'parent-not-found';
   * 4. one durable createUnique (spool.append): the file and its name are fsynced before this resolves.
   *
   * Retries are recognised by the records themselves (each keeps its nonce's HMAC), not by a marker made
   * durable ahead of the record, so a post costs one durable publish. Two ways to know there is no earlier
   * comment with this nonce (claimNonce says why each is sound):
   * - the exact one: a summary of every comment of the thread, brought up to date by a directory listing begun
   *   after the nonce's lock was granted (whoever published with this nonce held that lock until its link(2)
   *   was done, so the listing has the name, in any process, at any later time, and after a crash: a record
   *   that survived is found, one that did not was never acknowledged);
   * - the fast one, taken when the post creates the nonce's claim `.nonces/<sha256>`: the comments listed
   *   once since this process started, without a listing per post.
   * A client that numbers its attempts (`opts.attempt`) spares first attempts both: a first attempt has no
   * earlier comment to find, so it claims nothing and looks for nothing (unless a retry overtook it: it finds the
   * retry's claim); a later attempt claims (for first attempts still under way) and always lists.
   * Hits are confirmed by reading the file. The claim is made on the threadpool while the record is written,
   * and step 1 runs just before the record takes its name (beforePublish), unless a duplicate check or a
   * parent check comes first: a retry must get its comment back, not a refusal caused by that very comment.
   */
  async addComment(
    threadId: string,
    meta: ThreadMeta,
    record: CommentRecord,
    opts: AddCommentOptions,
  ): Promise<AddResult> {
    const spool = await this.ensureThread(threadId, meta);
    const locks: Lock[] = [];
    try {
      // Text before nonce, and the nonce lock last: whoever holds it waits for no other lock, so no cycles.
      if (opts.duplicateWindowMs > 0)
        locks.push(await this.postLock(spool.dir, textLockOffset(record.textHash)));
      const nonce = record.nonce;
      if (nonce !== null) locks.push(await this.postLock(spool.dir, nonceLockOffset(nonce)));
      let index: ThreadIndex | undefined;
      /** Whether `index` was brought up to date by a listing begun after every lock was granted. */
      let listed = false;
      /** Whether this post made a new claim; undefined when there is nothing to look for (a first attempt). */
      let claimed: Promise<boolean> | undefined;
      /** Step 1: the earlier attempt with this nonce, if there is one; leaves the index it used in `index`. */
      const earlierAttempt = async (nonce: string): Promise<AddResult | undefined> => {
        // A numbered retry cannot trust a new claim: its first attempt made none. It lists.
        listed = !(await (claimed as Promise<boolean>)) || opts.attempt !== undefined;
        index = await this.index(threadId, spool, listed);
        const earlier = await this.withNonce(threadId, index, nonce);
        return earlier === null ? undefined : this.replay(earlier, record);
      };
      if (nonce !== null) {
        if (opts.attempt !== 1) {
          // A numbered retry's claim is made durable: a first attempt delivered after a power cut must find it.
          claimed = claimNonce(spool.dir, nonce, opts.attempt !== undefined && this.durable);
          // Awaited later, or never if the post is refused first: a failed claim must not go unhandled meanwhile.
          claimed.catch(() => {});
        } else if (nonceClaimed(spool.dir, nonce)) {
          // A retry came first (a slow network can deliver the first attempt last): look, as a retry does.
          claimed = Promise.resolve(false);
        }
      }
      let checked = claimed === undefined;
      if (nonce !== null && claimed !== undefined) {
        if (opts.duplicateWindowMs > 0 || record.parent !== null) {
          const replayed = await earlierAttempt(nonce);
          if (replayed !== undefined) return replayed;
          checked = true;
        }
      }
      if (opts.duplicateWindowMs > 0) {
        // Other processes' recent comments: a listing begun after the text's lock was granted.
        if (!listed || index === undefined) index = await this.index(threadId, spool, true);
        const since = this.clock() - opts.duplicateWindowMs;
        for (const [stem, sum] of index.sums) {
          if (sum.textHash !== record.textHash || sum.status === 'deleted' || sum.created < since) continue;
          const current = await this.comment(threadId, stem);
          if (current === null) continue;
          this.setSummary(index, stem, summarise(current));
          if (current.textHash === record.textHash && current.status !== 'deleted') {
            throw new StoreError('duplicate', 'the same text was posted to this page a moment ago');
          }
        }
      }
      if (record.parent !== null) {
        const parent = await this.comment(threadId, record.parent);
        if (parent === null || parent.status === 'deleted' || parent.status === 'spam') {
          throw new StoreError('parent-not-found', 'the comment replied to does not exist on this page');
        }
      }
      let replayed: AddResult | undefined;
      const beforePublish = async () => {
        replayed = await earlierAttempt(nonce as string);
        if (replayed !== undefined) throw replayed;
      };
      let r: AppendResult;
      try {
        r = await spool.append(serialiseRecord(record), checked ? {} : { beforePublish });
      } catch (err) {
        if (replayed !== undefined && isQuireError(err, 'ERR_BEFORE_PUBLISH')) return replayed;
        throw unwrapHook(err);
      }
      const stem = r.id.slice(0, -SUFFIX.length);
      if (index !== undefined) this.setSummary(index, stem, summarise(record));
      return { stem, record, created: true };
    } finally {
      for (const lock of locks.reverse()) lock.releaseSync();
    }
  }

  /** A byte of the thread's `.post.lock`. */
  private postLock(dir: string, offset: number): Promise<Lock> {
    let file = this.postLocks.get(dir);
    if (file === undefined) {
      file = openLockFile(path.join(dir, '.post.lock'), { keep: LOCK_FDS_KEPT });
      for (const [old, f] of this.postLocks) {
        if (this.postLocks.size < LOCK_FILES) break;
        // Its held locks stay held; their descriptors are closed on release.
        f.close();
        this.postLocks.delete(old);
      }
    } else {
      this.postLocks.delete(dir);
    }
    this.postLocks.set(dir, file);
    return postLock(file, offset);
  }

  /** The comment with this nonce in the index, confirmed by reading its file; null if there is none. */
  private async withNonce(
    threadId: string,
    index: ThreadIndex,
    nonce: string,
  ): Promise<StoredComment | null> {
    for (let stem = index.byNonce.get(nonce); stem !== undefined; ) {
      const earlier = await this.comment(threadId, stem);
      if (earlier === null) this.dropSummary(index, stem);
      else {
        this.setSummary(index, stem, summarise(earlier));
        if (earlier.nonce === nonce) return { stem, record: earlier };
      }
      // Edited by hand to another nonce, or gone: another file may still have this nonce.
      const next = index.byNonce.get(nonce);
      stem = next === stem ? undefined : next;
    }
    return null;
  }

  private replay(earlier: StoredComment, attempt: CommentRecord): AddResult {
    if (earlier.record.textHash !== attempt.textHash && earlier.record.status !== 'deleted') {
      throw new StoreError('nonce-reused', 'this nonce was used for another comment');
    }
    return { stem: earlier.stem, record: earlier.record, created: false };
  }

  private setSummary(index: ThreadIndex, stem: string, sum: Summary): void {
    const old = index.sums.get(stem);
    if (old === undefined && !index.evicted) this.indexedSums++;
    if (old?.nonce != null && old.nonce !== sum.nonce && index.byNonce.get(old.nonce) === stem) {
      index.byNonce.delete(old.nonce);
    }
    index.sums.set(stem, sum);
    // The first comment with a nonce keeps it (only a hand edit can give two comments one nonce).
    if (sum.nonce !== null && !index.byNonce.has(sum.nonce)) index.byNonce.set(sum.nonce, stem);
  }

  private dropSummary(index: ThreadIndex, stem: string): void {
    const old = index.sums.get(stem);
    if (old === undefined) return;
    index.sums.delete(stem);
    if (!index.evicted) this.indexedSums--;
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

  /**
   * The thread's index. With `refresh` (and always the first time in this process) brought up to date by a
   * refresh begun after this call: one readdir (shared by the posts waiting at the time) and reads of the names
   * it has not seen yet, or the last view's records for them.
   */
  private async index(threadId: string, spool: Spool, refresh: boolean): Promise<ThreadIndex> {
    let index = this.indexes.get(threadId);
    if (index === undefined) {
      const fresh: ThreadIndex = {
        sums: new Map(),
        byNonce: new Map(),
        strays: new Set(),
        refresh: new Fresh(() => this.refreshIndex(threadId, spool, fresh)),
        built: false,
        evicted: false,
      };
      index = fresh;
    } else {
      this.indexes.delete(threadId);
    }
    this.indexes.set(threadId, index);
    for (const [id, old] of this.indexes) {
      if ((this.indexedSums <= MAX_SUMMARIES && this.indexes.size <= MAX_THREADS) || old === index) break;
      this.indexes.delete(id);
      old.evicted = true;
      this.indexedSums -= old.sums.size;
    }
    if (refresh || !index.built) await index.refresh.get();
    return index;
  }

  private async refreshIndex(threadId: string, spool: Spool, index: ThreadIndex): Promise<void> {
    await this.listIntoIndex(threadId, spool, index);
    index.built = true;
  }

  private async listIntoIndex(threadId: string, spool: Spool, index: ThreadIndex): Promise<void> {
    const names = await fs.promises.readdir(spool.dir);
    const unseen: string[] = [];
    let known = 0;
    for (const name of names) {
      if (!name.endsWith(SUFFIX) || index.strays.has(name)) continue;
      const stem = name.slice(0, -SUFFIX.length);
      if (index.sums.has(stem)) {
        known++;
        continue;
      }
      if (!COMMENT_STEM.test(stem) || parseName(name) === null) index.strays.add(name);
      else unseen.push(stem);
    }
    if (known < index.sums.size) {
      // Not listed: removed (by hand), or published by this process after the listing began.
      const present = new Set(names);
      for (const stem of index.sums.keys()) {
        const name = `${stem}${SUFFIX}`;
        if (!present.has(name) && !fs.existsSync(path.join(spool.dir, name))) this.dropSummary(index, stem);
      }
    }
    // Posts of this process that finished meanwhile, and the last view, spare most reads.
    const viewed = this.views.get(threadId)?.view.byStem;
    const toRead: string[] = [];
    for (const stem of unseen) {
      if (index.sums.has(stem)) continue;
      const r = viewed?.get(stem);
      if (r === undefined) toRead.push(stem);
      else this.setSummary(index, stem, summarise(r));
    }
    if (toRead.length <= SYNC_READS) {
      // The usual few: names linked a moment ago by posts still waiting for their directory fsync (this
      // process's, whose names are not known until they return, or another's). They are in the page cache, so
      // reading them here takes microseconds, where a trip through the threadpool would queue behind fsyncs.
      // Summaries are hints (a hit is confirmed with a locked read), so a plain read will do.
      for (const stem of toRead) {
        if (index.sums.has(stem)) continue;
        let buf: Buffer;
        try {
          buf = fs.readFileSync(path.join(spool.dir, `${stem}${SUFFIX}`));
        } catch (err) {
          if (isMissing(err)) continue;
          throw err;
        }
        const record = parseRecord(buf);
        if (record !== null) this.setSummary(index, stem, summarise(record));
      }
      return;
    }
    for (const c of await this.readRecords(spool, toRead)) {
      if (!index.sums.has(c.stem)) this.setSummary(index, c.stem, summarise(c.record));
    }
  }

  /**
   * Read-modify-write of one comment under its lock (spool.update): `fn` returns the new record or undefined to
   * leave it. Resolves to the record after the call, or null if there is no such comment. What `fn` throws is
   * rethrown and nothing is written.
   */
  async updateComment(
    threadId: string,
    stem: string,
    fn: (current: CommentRecord) => CommentRecord | undefined,
  ): Promise<CommentRecord | null> {
    const spool = await this.spool(threadId);
    if (spool === null) return null;
    let result: CommentRecord | null = null;
    const out = await spool.update(`${stem}${SUFFIX}`, (buf) => {
      result = null;
      const current = parseRecord(buf);
      if (current === null) return undefined;
      result = current;
      const next = fn(current);
      if (next === undefined) return undefined;
      result = next;
      return serialiseRecord(next);
    });
    if (out === null) return null;
    const updated: CommentRecord | null = result;
    const index = this.indexes.get(threadId);
    if (updated !== null && index?.sums.has(stem)) {
      this.setSummary(index, stem, summarise(updated));
    }
    return updated;
  }

  private votesDir(threadId: string): string {
    return path.join(this.threadDir(threadId), '.votes');
  }

  /**
   * Records a like by `voter` (an HMAC, never an address): the vote file is created exclusively, so a voter's
   * second like, from any process, fails in the kernel with EEXIST instead of being counted. True if counted.
   */
  async vote(threadId: string, stem: string, voter: string): Promise<boolean> {
    const dir = path.join(this.votesDir(threadId), stem);
    const made = await fs.promises.mkdir(dir, { recursive: true });
    if (made !== undefined && this.durable) {
      for (let d = dir; d.length >= made.length; d = path.dirname(d)) await syncDir(path.dirname(d));
    }
    try {
      await createExclusive(
        path.join(dir, voter),
        `${JSON.stringify({ at: new Date(this.clock()).toISOString() })}\n`,
        { durable: this.durable },
      );
      return true;
    } catch (err) {
      if (isQuireError(err, 'EEXIST')) return false;
      throw err;
    }
  }

  /** Likes of one comment: the number of vote files (dot names are temps, never votes). */
  async likesOf(threadId: string, stem: string): Promise<number> {
    return countVotes(path.join(this.votesDir(threadId), stem));
  }

  /** Likes of every comment of a thread that has any. */
  async likes(threadId: string): Promise<Map<string, number>> {
    return new Map((await this.view(threadId)).likes);
  }

  /**
   * Run-time settings (DATA/settings.json), read again only when its stamp changes (replaceFile gives every
   * version a new inode), under the same rule as thread views.
   */
  /** settings() when its cache is still valid (a stat, no promise), else undefined. */
  settingsCached(): Settings | undefined {
    const c = this.settingsCache;
    return c?.settled && c.stamps.every(unchanged) ? { ...c.value } : undefined;
  }

  async settings(): Promise<Settings> {
    const cached = this.settingsCached();
    if (cached !== undefined) return cached;
    const started = Date.now();
    const file = path.join(this.dataDir, 'settings.json');
    const stamps = [stampOf(file)];
    const value = parseSettings(await readComplete(file));
    this.settingsCache = { stamps, settled: settled(stamps, started), value };
    return { ...value };
  }

  async saveSettings(s: Settings): Promise<void> {
    this.settingsCache = undefined;
    await replaceFile(path.join(this.dataDir, 'settings.json'), `${JSON.stringify(s, null, 2)}\n`, {
      durable: this.durable,
    });
  }
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
 * Claims `nonce` in the thread `dir` by making the name `.nonces/<sha256(nonce)>` (not fsynced): true if this
 * call made it, false if it existed, or if a keyed append of an earlier version of quire marked the nonce
 * (`.keys/<sha256(nonce)>`; looked for only in threads that have a `.keys` directory, which no version since
 * makes). Called under the nonce's lock.
 *
 * Why a claim made here proves that no comment with this nonce exists beyond those listed once since this
 * process started (addComment): every comment with a nonce is published, under the nonce's lock, after its
 * claim exists, and claims are never removed. While the kernel runs, all processes of a host see one namespace,
 * so a claim is visible to everyone the moment it is made. Only a crash of the kernel (a power cut, a panic) can
 * lose a claim whose comment survived (the claim is not fsynced; the comment is), and that crash also ended
 * every process that had an index: a process started afterwards lists the comments before it trusts a claim.
 * Across hosts the filesystem must apply namespace operations in order (NFS: a `sync` export, which fsync on
 * NFS needs anyway). A claim whose post was refused or crashed before publishing only sends later attempts
 * with that nonce to the listing.
 *
 * A claim is a hard link to an empty anchor file, `.nonces/.anchor-<k>`: link(2) refuses an existing name just
 * as an exclusive create does, but allocates no inode (measured on ext4 without a journal: 10 µs against
 * 250 µs for an empty file). A filesystem caps the links of one inode (ext4: 65,000; btrfs: far fewer within
 * one directory), so EMLINK moves on to another anchor, 2k+1 after k (any anchor with room will do, so the gaps
 * are harmless, and a process that starts late finds room in a few tries).
 *
 * On the threadpool, while the comment's file is written: a link is a change to the filesystem's metadata, which
 * on a journaled filesystem can wait for the journal, and the event loop must not (measured on ext4 with a
 * journal: 10% of POSTs per second when this link ran on the event loop).
 */
async function claimNonce(dir: string, nonce: string, durable: boolean): Promise<boolean> {
  const h = nonceHash(nonce);
  if (legacyKeys(dir) && fs.existsSync(path.join(dir, '.keys', h))) return false;
  const nonces = path.join(dir, '.nonces');
  const claim = path.join(nonces, h);
  for (let tries = 0; ; tries++) {
    const k = anchors.get(dir) ?? 0;
    const anchor = path.join(nonces, `.anchor-${k}`);
    try {
      await fs.promises.link(anchor, claim);
      if (durable) await syncDir(nonces);
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EEXIST') {
        if (durable) await syncDir(nonces);
        return false;
      }
      if (tries >= 64) throw err;
      if (code === 'EMLINK') anchors.set(dir, 2 * k + 1);
      else if (code === 'ENOENT') {
        // No anchor (or no directory) yet: make them. Several processes may at once; any of them will do.
        await fs.promises.mkdir(nonces, { recursive: true });
        await (await fs.promises.open(anchor, 'a')).close();
      } else throw err;
    }
  }
}

function nonceHash(nonce: string): string {
  return createHash('sha256').update(nonce).digest('hex');
}

/**
 * Whether `nonce` has a claim, without making one: a stat, no change to the filesystem, so on the event loop. A
 * first attempt asks under the nonce's lock; every later attempt claims under that lock before it looks, so a
 * first attempt that finds no claim was not overtaken by any retry, and one that finds a claim looks too.
 */
function nonceClaimed(dir: string, nonce: string): boolean {
  const h = nonceHash(nonce);
  return (
    fs.existsSync(path.join(dir, '.nonces', h)) ||
    (legacyKeys(dir) && fs.existsSync(path.join(dir, '.keys', h)))
  );
}

/** Per thread directory, whether it has the `.keys` directory of an earlier version (looked up once). */
const legacy = new Map<string, boolean>();

function legacyKeys(dir: string): boolean {
  let has = legacy.get(dir);
  if (has === undefined) {
    has = fs.existsSync(path.join(dir, '.keys'));
    legacy.set(dir, has);
  }
  return has;
}

/** Per thread directory, the anchor this process links claims to (moved on at EMLINK). */
const anchors = new Map<string, number>();
