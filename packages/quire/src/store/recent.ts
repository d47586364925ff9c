import path from 'node:path';
import { openSpool, readComplete, replaceFile, type Spool } from '@quire/fs';
import { type CommentRecord, compareStems, type ThreadMeta } from './records.js';
import type { StoredComment, Threads } from './threads.js';

/** A comment that became public, as the index keeps it: which thread, which comment. */
interface RecentEntry {
  threadId: string;
  stem: string;
}

/** The newest approved comments of the site, newest first, with their pages. */
export interface RecentComment extends StoredComment {
  threadId: string;
  meta: ThreadMeta | null;
}

/** Entries kept; older ones are deleted now and then (PRUNE_EVERY notes), so every read and prune is bounded. */
const KEEP = 1000;
const PRUNE_EVERY = 100;
/** Marks an index built from the threads (or started empty on a new data directory). */
const COMPLETE = '.complete';

/**
 * The site's recent comments, kept as records of their own: DATA/recent/ is a spool with one small record
 * (`{"threadId","stem"}`) per comment that became public (posted approved, or approved by a moderator), so the
 * site feed reads the newest few index records and their comments instead of listing every thread: its cost does
 * not grow with the site. Derived data: written without fsync, and rebuilt from the threads when DATA/recent/ has
 * no `.complete` mark (a data directory from before the index, or one whose rebuild was cut short); deleting the
 * directory is always safe. An entry says "look here": what a comment is now is read from its thread, so an entry
 * whose comment was hidden or deleted since is skipped, and duplicates are harmless.
 */
export class RecentIndex {
  /** Bumped by every change this process makes to any comment: lets caches of the feed know they are stale. */
  version = 0;
  private readonly dir: string;
  private spool: Promise<Spool> | undefined;
  private notes = 0;

  constructor(
    dataDir: string,
    private readonly threads: Threads,
  ) {
    this.dir = path.join(dataDir, 'recent');
  }

  /** A comment was written: if it is now approved, it goes into the index. Never fails the caller's write. */
  async note(threadId: string, stem: string, record: CommentRecord): Promise<void> {
    this.version++;
    if (record.status !== 'approved') return;
    try {
      const spool = await this.open();
      await spool.append(`${JSON.stringify({ threadId, stem })}\n`);
      if (++this.notes % PRUNE_EVERY === 0) await this.prune(spool);
    } catch {
      // Derived data: a missed entry leaves one comment out of the site feed, and a rebuild brings it back.
    }
  }

  /** The newest `max` approved comments of the site, reading at most a few times `max` index entries. */
  async newestApproved(max: number): Promise<RecentComment[]> {
    const spool = await this.open();
    const ids = await spool.list({ reverse: true, limit: Math.min(KEEP, max * 4) });
    const seen = new Set<string>();
    const entries: RecentEntry[] = [];
    for (const id of ids) {
      const e = parseEntry(await spool.get(id).catch(() => null));
      if (e === null || seen.has(`${e.threadId}/${e.stem}`)) continue;
      seen.add(`${e.threadId}/${e.stem}`);
      entries.push(e);
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

  private open(): Promise<Spool> {
    this.spool ??= (async () => {
      const complete = path.join(this.dir, COMPLETE);
      const built = (await readComplete(complete).catch(() => null)) !== null;
      const spool = await openSpool(this.dir, { suffix: '.json', durable: false });
      if (!built) {
        await this.rebuild(spool);
        await replaceFile(complete, '', { durable: false });
      }
      return spool;
    })();
    // A failed open is tried again by the next call.
    this.spool.catch(() => {
      this.spool = undefined;
    });
    return this.spool;
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
    for (const e of found.reverse()) await spool.append(`${JSON.stringify(e)}\n`);
  }

  private async prune(spool: Spool): Promise<void> {
    const ids = await spool.list({ reverse: true });
    for (const id of ids.slice(KEEP)) await spool.delete(id);
  }
}

function parseEntry(buf: Buffer | null): RecentEntry | null {
  if (buf === null) return null;
  try {
    const v = JSON.parse(buf.toString('utf8')) as Partial<RecentEntry>;
    return typeof v.threadId === 'string' && typeof v.stem === 'string'
      ? { threadId: v.threadId, stem: v.stem }
      : null;
  } catch {
    return null;
  }
}
