import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  acquireLock,
  createExclusive,
  formatStamp,
  isQuireError,
  openSpool,
  readComplete,
  replaceFile,
  type Spool,
  sweepTemps,
} from '@quire/fs';
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
 *   DATA/threads/<threadId>/.post.lock                byte-range locks: one per text hash (duplicate check)
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
/** A retried POST is recognised by its nonce among the comments of at least this many recent ms. */
const NONCE_WINDOW_MS = 15 * 60 * 1000;
const READ_CONCURRENCY = 32;
const MAX_INDEXED_THREADS = 10_000;

/** What the duplicate and nonce checks need of a recent comment. */
interface Summary {
  textHash: string;
  nonce: string | null;
  status: CommentStatus;
  created: number;
}

function summarise(r: CommentRecord): Summary {
  return { textHash: r.textHash, nonce: r.nonce, status: r.status, created: Date.parse(r.created) };
}

/** One byte of `.post.lock` per text hash (31-bit offset): identical texts exclude each other, others do not. */
function textLockOffset(textHash: string): number {
  return createHash('sha256').update(textHash).digest().readUInt32BE(0) >>> 1;
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

export class CommentStore {
  readonly dataDir: string;
  readonly threadsDir: string;
  readonly keys: Keys;
  readonly durable: boolean;
  private readonly clock: () => number;
  private readonly spools = new Map<string, Spool>();
  /**
   * Per thread, summaries of the comments named within the recent window, so a new comment's duplicate and
   * nonce checks read only the files that appeared since the last post (by any process) instead of the whole
   * window. A hit is confirmed by reading the file again, so a stale summary (another process edited or
   * deleted the comment) can never refuse a comment wrongly.
   */
  private readonly recentIndex = new Map<string, Map<string, Summary>>();

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

  /** Every comment of a thread in id order ([] if there is no such thread). Unparsable files are skipped. */
  async comments(threadId: string, stems?: readonly string[]): Promise<StoredComment[]> {
    const spool = await this.spool(threadId);
    if (spool === null) return [];
    const ids = stems === undefined ? await spool.ids() : stems.map((s) => `${s}${SUFFIX}`);
    const read = await mapLimit(ids, READ_CONCURRENCY, async (id) => {
      const buf = await spool.get(id);
      const record = buf === null ? null : parseRecord(buf);
      return record === null ? null : { stem: id.slice(0, -SUFFIX.length), record };
    });
    return read.filter((c): c is StoredComment => c !== null);
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
   * Adds a comment. Under the lock of its text (a byte-range lock on `.post.lock` chosen by the text hash, so two
   * identical comments racing from two processes cannot both pass the duplicate check, while different comments
   * proceed in parallel and share fsyncs), in this order:
   * 1. a recent comment with the same nonce is this request's earlier attempt: returned as is (created: false),
   *    or 'nonce-reused' if its text differs;
   * 2. the same text within the duplicate window: 'duplicate';
   * 3. the parent must exist in this thread and be neither deleted nor spam: 'parent-not-found';
   * 4. spool.append with the nonce as idempotency key, so even a retry after the window (or from a process
   *    that crashed after publishing) gets the first comment back.
   */
  async addComment(
    threadId: string,
    meta: ThreadMeta,
    record: CommentRecord,
    opts: AddCommentOptions,
  ): Promise<AddResult> {
    const spool = await this.ensureThread(threadId, meta);
    const lock = await acquireLock(path.join(spool.dir, '.post.lock'), {
      range: { offset: textLockOffset(record.textHash), length: 1 },
    });
    try {
      const now = this.clock();
      const windowMs = Math.max(opts.duplicateWindowMs, record.nonce === null ? 0 : NONCE_WINDOW_MS);
      const recent = windowMs > 0 ? await this.recent(threadId, spool.dir, now - windowMs) : new Map();
      if (record.nonce !== null) {
        for (const [stem, sum] of recent) {
          if (sum.nonce !== record.nonce) continue;
          const earlier = await this.comment(threadId, stem);
          if (earlier !== null) return this.replay({ stem, record: earlier }, record);
        }
      }
      if (opts.duplicateWindowMs > 0) {
        const since = now - opts.duplicateWindowMs;
        for (const [stem, sum] of recent) {
          if (sum.textHash !== record.textHash || sum.status === 'deleted' || sum.created < since) continue;
          const current = await this.comment(threadId, stem);
          if (current === null) continue;
          recent.set(stem, summarise(current));
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
      const r = await spool.append(
        serialiseRecord(record),
        record.nonce === null ? {} : { key: record.nonce },
      );
      const stem = r.id.slice(0, -SUFFIX.length);
      if (r.created) {
        if (windowMs > 0) recent.set(stem, summarise(record));
        return { stem, record, created: true };
      }
      const earlier = await this.comment(threadId, stem);
      if (earlier === null) throw new StoreError('not-found', 'the earlier comment with this nonce is gone');
      return this.replay({ stem, record: earlier }, record);
    } finally {
      await lock.release();
    }
  }

  private replay(earlier: StoredComment, attempt: CommentRecord): AddResult {
    if (earlier.record.textHash !== attempt.textHash && earlier.record.status !== 'deleted') {
      throw new StoreError('nonce-reused', 'this nonce was used for another comment');
    }
    return { stem: earlier.stem, record: earlier.record, created: false };
  }

  /**
   * Summaries of the thread's comments named at or after `sinceMs` (to the second): the in-memory index, brought
   * up to date with one readdir and reads of the names it has not seen yet.
   */
  private async recent(threadId: string, dir: string, sinceMs: number): Promise<Map<string, Summary>> {
    let index = this.recentIndex.get(threadId);
    if (index === undefined) {
      if (this.recentIndex.size >= MAX_INDEXED_THREADS) {
        this.recentIndex.delete(this.recentIndex.keys().next().value as string);
      }
      index = new Map();
      this.recentIndex.set(threadId, index);
    }
    const floor = formatStamp(Math.max(0, sinceMs));
    const present = new Set<string>();
    const unseen: string[] = [];
    for (const name of await fs.promises.readdir(dir)) {
      // Record names start with their UTC stamp, so string order of the first 16 characters is time order.
      if (!name.endsWith(SUFFIX) || name.slice(0, 16) < floor) continue;
      const stem = name.slice(0, -SUFFIX.length);
      if (!COMMENT_STEM.test(stem)) continue;
      present.add(stem);
      if (!index.has(stem)) unseen.push(stem);
    }
    for (const stem of index.keys()) if (!present.has(stem)) index.delete(stem);
    for (const c of await this.comments(threadId, unseen)) index.set(c.stem, summarise(c.record));
    return index;
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
    if (updated !== null) this.recentIndex.get(threadId)?.set(stem, summarise(updated));
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
    try {
      const names = await fs.promises.readdir(path.join(this.votesDir(threadId), stem));
      return names.filter((n) => !n.startsWith('.')).length;
    } catch (err) {
      if (isMissing(err)) return 0;
      throw err;
    }
  }

  /** Likes of every comment of a thread that has any. */
  async likes(threadId: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    let stems: string[];
    try {
      stems = (await fs.promises.readdir(this.votesDir(threadId))).filter((n) => !n.startsWith('.'));
    } catch (err) {
      if (isMissing(err)) return out;
      throw err;
    }
    const counts = await mapLimit(stems, READ_CONCURRENCY, (s) => this.likesOf(threadId, s));
    stems.forEach((s, i) => {
      const n = counts[i] ?? 0;
      if (n > 0) out.set(s, n);
    });
    return out;
  }

  async settings(): Promise<Settings> {
    const buf = await readComplete(path.join(this.dataDir, 'settings.json'));
    if (buf === null) return {};
    try {
      const v = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
      return v.moderation === 'off' || v.moderation === 'all' ? { moderation: v.moderation } : {};
    } catch {
      return {};
    }
  }

  async saveSettings(s: Settings): Promise<void> {
    await replaceFile(path.join(this.dataDir, 'settings.json'), `${JSON.stringify(s, null, 2)}\n`, {
      durable: this.durable,
    });
  }
}
