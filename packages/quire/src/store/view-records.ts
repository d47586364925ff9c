import path from 'node:path';
import { readComplete } from '@quire/fs';
import { ByteLru } from './lru.js';
import { type CommentRecord, compareStems, parseRecord } from './records.js';
import { NON_EMPTY } from './thread-index.js';
import { mapLimit, READ_CONCURRENCY, recordName, type StoredComment, type Threads } from './threads.js';
import type { ThreadView } from './views.js';

/** Bytes a parsed record costs beyond its file's length. */
const RECORD_OVERHEAD = 300;

/**
 * The parsed records of the comments pages show, in an LRU bounded by bytes (config `cache.recordBytes`):
 * kept from index loads and reads, dropped with their thread when another process's snapshot may hide a change.
 */
export class ViewRecords {
  private readonly cache: ByteLru<string, CommentRecord>;
  /** Record files read: what the bench counts (with the index loads' files, ThreadViews.filesRead). */
  filesRead = 0;

  constructor(
    private readonly threads: Threads,
    budgetBytes: number,
  ) {
    this.cache = new ByteLru(budgetBytes);
  }

  /** Bytes the cache holds now. */
  get bytes(): number {
    return this.cache.bytes;
  }

  /** The record kept for a comment, if any (no recency change: a hint). */
  peek(threadId: string, stem: string): CommentRecord | undefined {
    return this.cache.peek(`${threadId}/${stem}`);
  }

  /** Keeps a record a load or a read vouched for. */
  keep(threadId: string, stem: string, r: CommentRecord): void {
    this.cache.set(`${threadId}/${stem}`, r, RECORD_OVERHEAD + 2 * r.text.length);
  }

  /** Drops every record kept of a thread. */
  forget(threadId: string): void {
    const prefix = `${threadId}/`;
    this.cache.deleteWhere((k) => k.startsWith(prefix));
  }

  /**
   * The records of the given comments of a view, from memory when the view's load vouched for them, else read
   * (at most READ_CONCURRENCY at once). A comment removed since is left out.
   */
  async read(view: ThreadView, stems: readonly string[]): Promise<Map<string, CommentRecord>> {
    const out = new Map<string, CommentRecord>();
    const missing: string[] = [];
    for (const s of stems) {
      const r = this.cache.get(`${view.threadId}/${s}`);
      if (r === undefined) missing.push(s);
      else out.set(s, r);
    }
    if (missing.length === 0) return out;
    const dir = this.threads.dir(view.threadId);
    this.filesRead += missing.length;
    await mapLimit(missing, READ_CONCURRENCY, async (stem) => {
      const buf = await readComplete(path.join(dir, recordName(stem)), NON_EMPTY);
      const r = buf === null ? null : parseRecord(buf);
      if (r === null) return;
      out.set(stem, r);
      this.keep(view.threadId, stem, r);
    });
    return out;
  }

  /**
   * The comments of a view whose index says `status` (or all), read now with their parents: what a moderator's
   * list shows. Only those records are read; one whose file says otherwise by now is left out.
   */
  async withStatus(
    view: ThreadView,
    status: CommentRecord['status'] | 'all',
  ): Promise<(StoredComment & { parent: CommentRecord | undefined; likes: number })[]> {
    const stems = [...view.entries]
      .filter(([, e]) => status === 'all' || e.status === status)
      .map(([s]) => s);
    const parents = stems.flatMap((s) => view.entries.get(s)?.parent ?? []);
    const records = await this.read(view, [...new Set([...stems, ...parents])]);
    return stems.flatMap((stem) => {
      const record = records.get(stem);
      if (record === undefined || (status !== 'all' && record.status !== status)) return [];
      const parent = record.parent === null ? undefined : records.get(record.parent);
      return [{ stem, record, parent, likes: view.entries.get(stem)?.likes ?? 0 }];
    });
  }

  /** The given comments of a view (default: all, in id order) as StoredComments, in the order given (read()). */
  async stored(
    view: ThreadView,
    stems = [...view.entries.keys()].sort(compareStems),
  ): Promise<StoredComment[]> {
    const records = await this.read(view, stems);
    return stems.flatMap((stem) => {
      const record = records.get(stem);
      return record === undefined ? [] : [{ stem, record }];
    });
  }
}
