import path from 'node:path';
import {
  createExclusive,
  isQuireError,
  listNames,
  makeDir,
  openSpool,
  readComplete,
  removeFile,
  type Spool,
  stampOf,
  sweepTemps,
} from '@quire/fs';
import {
  type CommentRecord,
  parseRecord,
  parseThreadMeta,
  serialiseRecord,
  type ThreadMeta,
} from './records.js';
import { INDEX_DIR, markChanged } from './thread-index.js';
import { THREAD_ID } from './uri.js';

/** The suffix of every record file: `<stem>.json`. Known only to the store. */
export const RECORD_SUFFIX = '.json';
const THREAD_META = '.thread.json';
const VOTES = '.votes';
/** Reads in flight at once when many records are read. */
export const READ_CONCURRENCY = 32;

/** A comment of a thread: its record and its stem, the record's name without `.json` (its id in the thread). */
export interface StoredComment {
  stem: string;
  record: CommentRecord;
}

export type StoreErrorCode =
  | 'duplicate'
  | 'parent-not-found'
  | 'nonce-reused'
  | 'not-found'
  | 'comment-deleted'
  | 'edit-window-closed'
  | 'not-restorable';

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

/**
 * The data directory (its `threads/`) is gone while the service runs: removed, or a mount that went away.
 * Writes stop with this instead of re-creating an empty tree without the secret and settings (which would
 * sign new tokens with nothing and silently split the site's data). The server answers 503
 * `storage-unavailable` with Retry-After; an operator restores the directory (or restarts on a new one).
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'data-dir-missing';
  constructor(dir: string, options?: { cause?: unknown }) {
    super(`the data directory is missing (${dir} is gone); nothing was written`, options);
  }
}

/** ENOENT, from @quire/fs or from Node. */
export function isMissing(err: unknown): boolean {
  return isQuireError(err, 'ENOENT') || (err as { code?: string } | null)?.code === 'ENOENT';
}

/** A name the spool refuses (ERR_INVALID_ID) names no comment: StoreError 'not-found'; anything else as is. */
function notACommentId(err: unknown): never {
  if (isQuireError(err, 'ERR_INVALID_ID')) throw new StoreError('not-found', 'there is no such comment');
  throw err;
}

/** The stem of a record's file name. */
export function stemOf(name: string): string {
  return name.slice(0, -RECORD_SUFFIX.length);
}

/** The file name of a record's stem. */
export function recordName(stem: string): string {
  return `${stem}${RECORD_SUFFIX}`;
}

/** Vote files in a comment's vote directory: dot names are temps, never votes. */
async function countVotes(dir: string): Promise<number> {
  return (await listNames(dir)).filter((n) => !n.startsWith('.')).length;
}

/** Maps over items with at most `n` promises in flight, keeping the order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  n: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
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

/** Pages Threads keeps in memory: a page is at most a few KiB (limits.uriChars, limits.titleChars). */
const META_KEPT = 1000;

/**
 * The thread directories: one spool of records per page (opened once per process and kept), the page's
 * `.thread.json`, and its likes under `.votes/`. Reads and read-modify-writes of single records; no rule about
 * what a record may become lives here.
 */
export class Threads {
  private readonly spools = new Map<string, Spool>();
  /** Threads whose `.thread.json` this process wrote or found: ensure() need not try again. */
  private readonly withMeta = new Set<string>();
  /**
   * Pages read lately (`.thread.json` is written once and never changed), so a post to a known thread does not
   * read it again: at most META_KEPT, the oldest forgotten first.
   */
  private readonly metas = new Map<string, ThreadMeta>();

  constructor(
    readonly threadsDir: string,
    readonly durable: boolean,
    private readonly clock: () => number,
  ) {}

  /** Marks a comment as changed for the thread's index (thread-index.ts); never fails the caller's write. */
  private async mark(threadId: string, stem: string, durable: boolean): Promise<void> {
    const place = { dir: this.dir(threadId), votesDir: this.votesDir(threadId), durable: this.durable };
    await markChanged(place, stem, durable).catch(() => {});
  }

  /** The thread's directory; StoreError 'not-found' if `threadId` is not a thread id. */
  dir(threadId: string): string {
    if (!THREAD_ID.test(threadId)) throw new StoreError('not-found', 'not a thread id');
    return path.join(this.threadsDir, threadId);
  }

  /** The thread's `.thread.json`. */
  metaFile(threadId: string): string {
    return path.join(this.dir(threadId), THREAD_META);
  }

  /** The thread's `.votes/`, one directory per liked comment. */
  votesDir(threadId: string): string {
    return path.join(this.dir(threadId), VOTES);
  }

  /** The thread's spool; null if the thread does not exist and `create` is false. */
  async spool(threadId: string, create = false): Promise<Spool | null> {
    const cached = this.spools.get(threadId);
    if (cached !== undefined) return cached;
    const dir = this.dir(threadId);
    let spool: Spool;
    try {
      spool = await openSpool(dir, {
        suffix: RECORD_SUFFIX,
        durable: this.durable,
        time: this.clock,
        create,
      });
    } catch (err) {
      if (!create && isMissing(err)) return null;
      throw err;
    }
    // Once per process and thread: remove temps of writers on this host that died mid-write.
    await sweepTemps(dir).catch(() => []);
    this.spools.set(threadId, spool);
    return spool;
  }

  /**
   * Creates the thread if needed and records its URI and title once (the first comment's page wins). The
   * `.thread.json` is written whenever this process has not seen it yet, so a thread whose first post failed
   * half-way (a full disk) gets it from the next post. The thread directory is made with one mkdir(2) under
   * `threads/`, never with its parents: StoreUnavailableError if the data directory vanished.
   */
  async ensure(threadId: string, meta: ThreadMeta): Promise<Spool> {
    const existing = this.spools.get(threadId);
    if (existing !== undefined && this.withMeta.has(threadId)) return existing;
    const dir = this.dir(threadId);
    if (existing === undefined) {
      await this.makeThreadDir(dir);
      // The index's directory from the start, so that its first snapshot does not change the thread directory.
      await makeDir(path.join(dir, INDEX_DIR), { durable: false, parents: false }).catch(() => {});
    }
    const spool = (await this.spool(threadId, true)) as Spool;
    await createExclusive(this.metaFile(threadId), `${JSON.stringify(meta, null, 2)}\n`, {
      durable: this.durable,
    }).catch(async (err: unknown) => {
      if (!isQuireError(err, 'EEXIST')) throw await this.gone(err);
    });
    this.withMeta.add(threadId);
    return spool;
  }

  /** Throws StoreUnavailableError if the data directory vanished (a write found nothing where it looked). */
  async checkThere(): Promise<void> {
    const err = await this.gone(Object.assign(new Error('not found'), { code: 'ENOENT' }));
    if (err instanceof StoreUnavailableError) throw err;
  }

  /** mkdir(2) of one thread directory, made durable; EEXIST is fine, a missing `threads/` is not. */
  private async makeThreadDir(dir: string): Promise<void> {
    try {
      await makeDir(dir, { durable: this.durable, parents: false });
    } catch (err) {
      throw await this.gone(err);
    }
  }

  /**
   * What a failed write is: StoreUnavailableError when `threads/` itself is gone (the cached spools are then
   * forgotten: they name directories that no longer exist), else `err` as it was.
   */
  async gone(err: unknown): Promise<unknown> {
    if (!isMissing(err)) return err;
    if (stampOf(this.threadsDir).st?.isDirectory()) return err;
    this.spools.clear();
    this.withMeta.clear();
    this.metas.clear();
    return new StoreUnavailableError(path.dirname(this.threadsDir), { cause: err });
  }

  /** The page of the thread (`.thread.json`), null if unknown. */
  async meta(threadId: string): Promise<ThreadMeta | null> {
    const known = this.metas.get(threadId);
    if (known !== undefined) return known;
    const meta = parseThreadMeta(await readComplete(this.metaFile(threadId)));
    if (meta !== null) {
      if (this.metas.size >= META_KEPT) this.metas.delete(this.metas.keys().next().value as string);
      this.metas.set(threadId, meta);
    }
    return meta;
  }

  /** Ids of all threads (directory names), unordered. */
  async ids(): Promise<string[]> {
    return (await listNames(this.threadsDir)).filter((n) => THREAD_ID.test(n));
  }

  /** The given comments of a spool that exist and parse, in the order given. */
  async readRecords(spool: Spool, stems: readonly string[]): Promise<StoredComment[]> {
    const read = await mapLimit(stems, READ_CONCURRENCY, async (stem) => {
      const buf = await spool.get(recordName(stem));
      const record = buf === null ? null : parseRecord(buf);
      return record === null ? null : { stem, record };
    });
    return read.filter((c): c is StoredComment => c !== null);
  }

  /** One comment's record; null if there is none (or it does not parse). */
  async comment(threadId: string, stem: string): Promise<CommentRecord | null> {
    const spool = await this.spool(threadId);
    if (spool === null) return null;
    const buf = await spool.get(recordName(stem)).catch(notACommentId);
    return buf === null ? null : parseRecord(buf);
  }

  /**
   * comment() before a write: null for no such comment, StoreUnavailableError if the data directory is gone
   * (a write must say so rather than "not found").
   */
  async commentToChange(threadId: string, stem: string): Promise<CommentRecord | null> {
    const record = await this.comment(threadId, stem);
    if (record === null) await this.checkThere();
    return record;
  }

  /** Stems of a thread's comments, in id order, optionally newest first and limited. Names only. */
  async stems(threadId: string, opts: { reverse?: boolean; limit?: number } = {}): Promise<string[]> {
    const spool = await this.spool(threadId);
    if (spool === null) return [];
    return (await spool.ids(opts)).map(stemOf);
  }

  /**
   * Read-modify-write of one record under its lock (spool.update): `fn` returns the new record or undefined
   * to leave it. Resolves to the record after the call, or null if there is no such comment. What `fn` throws
   * is rethrown and nothing is written.
   */
  async update(
    threadId: string,
    stem: string,
    fn: (current: CommentRecord) => CommentRecord | undefined,
  ): Promise<CommentRecord | null> {
    const spool = await this.spool(threadId);
    if (spool === null) {
      await this.checkThere();
      return null;
    }
    let result: CommentRecord | null = null;
    // Marked before (a crash after the write leaves it marked) and after (thread-index.ts says why).
    await this.mark(threadId, stem, this.durable);
    const out = await spool
      .update(recordName(stem), (buf) => {
        result = null;
        const current = parseRecord(buf);
        if (current === null) return undefined;
        result = current;
        const next = fn(current);
        if (next === undefined) return undefined;
        result = next;
        return serialiseRecord(next);
      })
      .catch(notACommentId)
      .catch(async (err: unknown) => {
        throw await this.gone(err);
      });
    if (out === null) await this.checkThere();
    else await this.mark(threadId, stem, false);
    return out === null ? null : result;
  }

  /**
   * Records a like by `voter` (an HMAC, never an address): the vote file is created exclusively, so a voter's
   * second like, from any process, fails in the kernel with EEXIST instead of being counted. True if counted.
   */
  async vote(threadId: string, stem: string, voter: string): Promise<boolean> {
    const votes = this.votesDir(threadId);
    const dir = path.join(votes, stem);
    // `.votes/` by one mkdir(2), not with its parents: a vanished thread directory must not be re-created.
    try {
      await makeDir(votes, { durable: this.durable, parents: false });
    } catch (err) {
      throw await this.gone(err);
    }
    await makeDir(dir, { durable: this.durable });
    await this.mark(threadId, stem, this.durable);
    try {
      await createExclusive(
        path.join(dir, voter),
        `${JSON.stringify({ at: new Date(this.clock()).toISOString() })}\n`,
        { durable: this.durable },
      );
      await this.mark(threadId, stem, false);
      return true;
    } catch (err) {
      if (isQuireError(err, 'EEXIST')) return false;
      throw err;
    }
  }

  /**
   * Withdraws the like of `voter` (an unlike): true if there was one to remove. Marked before and after like a
   * vote, so every process's index of the thread sees the count drop.
   */
  async unvote(threadId: string, stem: string, voter: string): Promise<boolean> {
    await this.mark(threadId, stem, this.durable);
    const removed = await removeFile(path.join(this.votesDir(threadId), stem, voter), {
      durable: this.durable,
    });
    await this.mark(threadId, stem, false);
    return removed;
  }

  /** Likes of one comment: the number of vote files. */
  likesOf(threadId: string, stem: string): Promise<number> {
    return countVotes(path.join(this.votesDir(threadId), stem));
  }

  /** Stems of the comments with a vote directory (dot names are temps). */
  async voted(threadId: string): Promise<string[]> {
    return (await listNames(this.votesDir(threadId))).filter((n) => !n.startsWith('.'));
  }
}
