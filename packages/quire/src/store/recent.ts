import path from 'node:path';
import {
  hostId,
  listNames,
  makeDir,
  openSpool,
  readComplete,
  removeFile,
  replaceFile,
  type Spool,
} from '@quire/fs';
import { LineBatcher, linesOf } from './line-batch.js';
import { type CommentRecord, compareStems, type ThreadMeta } from './records.js';
import { isMissing, type StoredComment, StoreUnavailableError, type Threads } from './threads.js';
import { FOREIGN_MARK_MS, writerGone } from './writer-marks.js';

/** A comment that became public, as the index keeps it: which thread, which comment. */
export interface RecentEntry {
  threadId: string;
  stem: string;
}

/** The newest approved comments of the site, newest first, with their pages. */
export interface RecentComment extends StoredComment {
  threadId: string;
  meta: ThreadMeta | null;
}

/** Entries kept; older ones are deleted now and then (PRUNE_EVERY notes), so every read and prune is bounded. */
export const RECENT_KEEP = 1000;
const KEEP = RECENT_KEEP;
const PRUNE_EVERY = 100;
/** Entries per index record at most: a record is read whole. */
const BATCH_MAX = 64;
/**
 * How long a note waits for others to share its record. Posts one at a time would otherwise cost a record each,
 * and, once the index is full, an unlink each. This process's reads of the index do not wait (newestApproved
 * writes what is gathering first); other processes see a note this much later.
 */
const GATHER_MS = 25;
/** Marks an index built from the threads (or started empty on a new data directory). */
const COMPLETE = '.complete';
/** Each writing process's mark, `.writers/<host id>+<pid>` (RecentIndex says why). */
const WRITERS = '.writers';
/** How often a writer refreshes its mark, so that other hosts can tell it lives (FOREIGN_MARK_MS). */
const REFRESH_MS = FOREIGN_MARK_MS / 6;

/**
 * The site's recent comments, kept as records of their own: DATA/recent/ is a spool with one small record
 * (`{"threadId","stem"}` lines) per batch of comments that became public (posted approved, or approved by a moderator), so the
 * site feed reads the newest few index records and their comments instead of listing every thread: its cost does
 * not grow with the site. Derived data: written without fsync, and rebuilt from the threads when DATA/recent/ has
 * no `.complete` mark (a data directory from before the index, or one whose rebuild was cut short); deleting the
 * directory is always safe. An entry says "look here": what a comment is now is read from its thread, so an entry
 * whose comment was hidden or deleted since is skipped, and duplicates are harmless. Entries noted just before a
 * crash or power cut can be lost (the writer answered first). So a process that writes comments leaves a mark,
 * `.writers/<host>+<pid>` (durable when the store is), before its first write, and removes it when it closes;
 * the next process to open the index that finds a mark whose writer is dead (writer-marks.ts) adds the newest
 * approved comments of every thread again in the background, then removes the mark. `quire fsck --repair` adds
 * missing entries too (checkRecentIndex).
 */
export class RecentIndex {
  /** Bumped by every change this process makes to any comment: lets caches of the feed know they are stale. */
  version = 0;
  private readonly dir: string;
  private spool: Promise<Spool> | undefined;
  private notes = 0;
  /** This process's writer mark, made before its first write (writing()). */
  private mark: Promise<string | undefined> | undefined;
  private refresh: NodeJS.Timeout | undefined;
  /** The catch-up after a dead writer, running in the background. */
  private catchingUp: Promise<void> = Promise.resolve();
  /** Notes go into records together (line-batch.ts), at most BATCH_MAX to a record. */
  private readonly batcher = new LineBatcher(
    async (body) => {
      const spool = await this.open();
      const { id } = await spool.append(body);
      if (++this.notes % PRUNE_EVERY === 0) await this.prune(spool);
      return id;
    },
    BATCH_MAX,
    GATHER_MS,
  );

  constructor(
    dataDir: string,
    private readonly threads: Threads,
    private readonly durable = true,
  ) {
    this.dir = path.join(dataDir, 'recent');
  }

  /**
   * Resolves once this process's writer mark exists: awaited before every write that may make a comment public.
   * Made once per process (a durable create), then a settled promise. A mark that cannot be made leaves the
   * write alone: derived data never stops a comment.
   */
  writing(): Promise<unknown> {
    this.mark ??= (async () => {
      const writers = path.join(this.dir, WRITERS);
      for (const dir of [this.dir, writers]) await makeDir(dir, { durable: this.durable, parents: false });
      const file = path.join(writers, `${hostId()}+${process.pid}`);
      await replaceFile(file, '', { durable: this.durable });
      this.refresh = setInterval(() => {
        replaceFile(file, '', { durable: false }).catch(() => {});
      }, REFRESH_MS).unref();
      return file;
    })().catch(() => {
      this.mark = undefined;
      return undefined;
    });
    return this.mark;
  }

  /** Writes every note made so far, then removes this process's writer mark: a clean end, nothing to catch up. */
  async close(): Promise<void> {
    await this.idle();
    const file = await this.mark;
    clearInterval(this.refresh);
    this.mark = undefined;
    if (file !== undefined) await removeFile(file, { durable: this.durable }).catch(() => {});
  }

  /**
   * A comment was written: if it is now approved, it goes into the index, soon. Never fails or waits for
   * anything: the writer's answer does not wait for derived data, while this process's own reads of the index
   * wait for every note made before them (newestApproved), so they never miss one. Notes made within GATHER_MS
   * of each other, or while a record is being written, go together into one record (at most BATCH_MAX entries).
   */
  note(threadId: string, stem: string, record: CommentRecord): void {
    this.version++;
    if (record.status !== 'approved') return;
    this.batcher.add(JSON.stringify({ threadId, stem })).catch(() => {
      // Derived data: a missed entry leaves a comment out of the site feed until fsck --repair adds it.
    });
  }

  /** Resolves once every note made so far is in a record (or given up), and any catch-up under way is done. */
  async idle(): Promise<void> {
    await this.batcher.idle();
    await this.catchingUp;
  }

  /** The newest `max` approved comments of the site, reading at most a few times `max` index entries. */
  async newestApproved(max: number): Promise<RecentComment[]> {
    await this.batcher.idle();
    const spool = await this.open();
    const ids = await spool.list({ reverse: true, limit: Math.min(KEEP, max * 4) }).catch((err: unknown) => {
      throw isMissing(err) ? new StoreUnavailableError(this.dir, { cause: err }) : err;
    });
    const seen = new Set<string>();
    const entries: RecentEntry[] = [];
    for (const id of ids) {
      for (const e of parseEntries(await spool.get(id).catch(() => null))) {
        if (seen.has(`${e.threadId}/${e.stem}`)) continue;
        seen.add(`${e.threadId}/${e.stem}`);
        entries.push(e);
      }
    }
    // Newest comment first, whatever order the index got them in (a rebuild runs beside new posts).
    entries.sort((a, b) => compareStems(b.stem, a.stem));
    const metas = new Map<string, ThreadMeta | null>();
    const out: RecentComment[] = [];
    for (const e of entries) {
      if (out.length >= max) break;
      const record = await this.threads.comment(e.threadId, e.stem).catch(() => null);
      if (record === null || record.status !== 'approved') continue;
      if (!metas.has(e.threadId))
        metas.set(e.threadId, await this.threads.meta(e.threadId).catch(() => null));
      out.push({ ...e, record, meta: metas.get(e.threadId) ?? null });
    }
    return out;
  }

  /** The newest `max` approved comments of one thread: newest first (stems list in order), read until found. */
  async newestOfThread(threadId: string, max: number): Promise<RecentComment[]> {
    const meta = await this.threads.meta(threadId);
    const out: RecentComment[] = [];
    for (const stem of await this.threads.stems(threadId, { reverse: true })) {
      if (out.length >= max) break;
      const record = await this.threads.comment(threadId, stem);
      if (record?.status === 'approved') out.push({ threadId, stem, record, meta });
    }
    return out;
  }

  private open(): Promise<Spool> {
    this.spool ??= (async () => {
      const complete = path.join(this.dir, COMPLETE);
      const built = (await readComplete(complete).catch(() => null)) !== null;
      // Never re-creates a vanished data directory (openSpool would, with its parents): threads/ must be there.
      if (!built && (await this.threads.ids().catch(() => null)) === null)
        throw new StoreUnavailableError(this.threads.threadsDir);
      // Its own directory only (no parents): a data directory removed meanwhile is not brought back.
      await makeDir(this.dir, { durable: false, parents: false });
      const spool = await openSpool(this.dir, { suffix: '.json', durable: false, create: false });
      if (!built) {
        await this.rebuild(spool);
        await replaceFile(complete, '', { durable: false });
      } else this.catchingUp = this.catchUp(spool);
      return spool;
    })();
    // A failed open is tried again by the next call.
    this.spool.catch(() => {
      this.spool = undefined;
    });
    return this.spool;
  }

  /** Dead writers' marks: their last notes may be lost, so the newest comments are added again, then they go. */
  private async catchUp(spool: Spool): Promise<void> {
    const writers = path.join(this.dir, WRITERS);
    const dead: string[] = [];
    for (const name of await listNames(writers).catch(() => [])) {
      const [host, pid] = name.split('+');
      const file = path.join(writers, name);
      if (host !== undefined && pid !== undefined && (await writerGone(file, host, Number(pid))))
        dead.push(file);
    }
    if (dead.length === 0) return;
    await this.rebuild(spool).catch(() => {});
    for (const file of dead) await removeFile(file, { durable: false }).catch(() => {});
  }

  /** Once per data directory: the newest approved comments of every thread, oldest first, into the index. */
  private async rebuild(spool: Spool): Promise<void> {
    const found: RecentEntry[] = [];
    for (const threadId of await this.threads.ids()) {
      for (const stem of await this.threads.stems(threadId, { reverse: true, limit: KEEP })) {
        // Newest first: once the index is full, a comment older than its oldest entry and all after it are out.
        const oldest = found[found.length - 1];
        if (found.length >= KEEP && oldest !== undefined && compareStems(stem, oldest.stem) <= 0) break;
        const record = await this.threads.comment(threadId, stem).catch(() => null);
        if (record?.status === 'approved') found.push({ threadId, stem });
      }
      found.sort((a, b) => compareStems(b.stem, a.stem));
      found.length = Math.min(found.length, KEEP);
    }
    found.reverse();
    for (let i = 0; i < found.length; i += BATCH_MAX) {
      await spool.append(
        found
          .slice(i, i + BATCH_MAX)
          .map((e) => `${JSON.stringify(e)}\n`)
          .join(''),
      );
    }
  }

  private async prune(spool: Spool): Promise<void> {
    const ids = await spool.list({ reverse: true });
    // A plain unlink, not spool.delete: entries are never updated, so there is no writer to exclude, and the
    // record lock spool.delete takes cost four more round trips to the threadpool per entry.
    for (const id of ids.slice(KEEP)) await removeFile(path.join(spool.dir, id), { durable: false });
  }
}

/**
 * fsck's check of DATA/recent/ against `newest`, the newest approved comments (at most RECENT_KEEP) its scan
 * found: how many the index lacks. An entry is noted after the writer has answered and without fsync, so a crash
 * or a power cut can lose the last ones. With `repair`, the missing ones are appended (nothing is removed: safe
 * beside a running service, whose reads sort entries by comment). An index not yet built (no `.complete`) is
 * built by the service's first read: nothing to check.
 */
export async function checkRecentIndex(
  dataDir: string,
  newest: readonly RecentEntry[],
  repair: boolean,
): Promise<{ missing: number; repaired: boolean }> {
  const dir = path.join(dataDir, 'recent');
  if ((await readComplete(path.join(dir, COMPLETE)).catch(() => null)) === null)
    return { missing: 0, repaired: false };
  const spool = await openSpool(dir, { suffix: '.json', durable: false, create: false });
  const have = new Set<string>();
  for (const id of await spool.list()) {
    for (const e of parseEntries(await spool.get(id).catch(() => null))) have.add(`${e.threadId}/${e.stem}`);
  }
  const missing = newest.filter((e) => !have.has(`${e.threadId}/${e.stem}`));
  if (!repair || missing.length === 0) return { missing: missing.length, repaired: false };
  for (let i = 0; i < missing.length; i += BATCH_MAX) {
    const lines = missing.slice(i, i + BATCH_MAX).map((e) => `${JSON.stringify(e)}\n`);
    await spool.append(lines.join(''));
  }
  return { missing: missing.length, repaired: true };
}

/** The entries of an index record, a JSON line each; lines that do not parse are skipped. */
function parseEntries(buf: Buffer | null): RecentEntry[] {
  if (buf === null) return [];
  const out: RecentEntry[] = [];
  for (const line of linesOf(buf)) {
    try {
      const v = JSON.parse(line) as Partial<RecentEntry>;
      if (typeof v.threadId === 'string' && typeof v.stem === 'string')
        out.push({ threadId: v.threadId, stem: v.stem });
    } catch {
      // A damaged line: derived data, the rest still counts.
    }
  }
  return out;
}
