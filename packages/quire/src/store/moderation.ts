import type { RecentIndex } from './recent.js';
import { type CommentRecord, restorableUntil, type ThreadMeta } from './records.js';
import {
  type CommentRef,
  INDEXED,
  type IndexedComment,
  type IndexedStatus,
  newestFirst,
  type StatusIndex,
} from './status-index.js';
import type { ModeratedComment } from './store-types.js';
import { mapLimit, READ_CONCURRENCY, type StoredComment, type Threads } from './threads.js';
import type { ThreadViews } from './views.js';

/** Which comments a moderator's list shows, from where, and how many. */
export interface ModeratedQuery {
  status: CommentRecord['status'] | 'all';
  /** Only these threads (a page's); default all. */
  threadIds?: readonly string[];
  /** The comment the previous page ended with: the page starts after its place in the order. */
  after?: CommentRef;
  limit: number;
}

/** A page of a moderator's list, newest first; `more`: another comment follows. */
export interface ModeratedPage {
  comments: ModeratedComment[];
  more: boolean;
}

/** A comment as a moderator sees it, from what was read of it. */
export function moderatedOf(
  threadId: string,
  meta: ThreadMeta | null,
  c: StoredComment,
  likes: number,
  parent: CommentRecord | null | undefined,
  nowMs: number,
): ModeratedComment {
  const parentStem = c.record.parent;
  return {
    threadId,
    stem: c.stem,
    record: c.record,
    meta,
    likes,
    restorableUntil: restorableUntil(c.record, nowMs),
    replyTo: parent == null || parentStem === null ? null : { stem: parentStem, record: parent },
  };
}

/** Approved comments a site-wide list can show: the recent-comments index keeps the newest 1000. */
const APPROVED_SHOWN = 1000;

/**
 * The moderators' lists. Site-wide (or of one thread), a status other than approved comes from the status index
 * (status-index.ts): its names, then the records of the page alone, whatever the site's size; approved comments
 * site-wide from the recent-comments index (recent.ts: the newest 1000); `all` merges them. The lists of a
 * thread for approved or all, and of several threads, are gathered from those threads' indexes.
 */
export class ModerationLists {
  constructor(
    private readonly threads: Threads,
    private readonly views: ThreadViews,
    private readonly statuses: StatusIndex,
    private readonly recent: RecentIndex,
    private readonly clock: () => number,
  ) {}

  async page(q: ModeratedQuery): Promise<ModeratedPage> {
    const one = q.threadIds?.length === 1 ? q.threadIds[0] : undefined;
    if (q.threadIds === undefined || (one !== undefined && q.status !== 'approved' && q.status !== 'all')) {
      const found = await this.indexed(q, one);
      return { comments: await this.describe(found.comments), more: found.more };
    }
    const all: ModeratedComment[] = [];
    for (const threadId of q.threadIds) {
      const view = await this.views.get(threadId);
      for (const c of await this.views.records.withStatus(view, q.status))
        all.push(moderatedOf(threadId, view.meta, c, c.likes, c.parent, this.clock()));
    }
    all.sort(newestFirst);
    const after = q.after;
    const from = after === undefined ? all : all.filter((c) => newestFirst(after, c) < 0);
    return { comments: from.slice(0, q.limit), more: from.length > q.limit };
  }

  /** A page from the indexes: each status asked for (all: every one) a page of its own, merged. */
  private async indexed(
    q: ModeratedQuery,
    threadId: string | undefined,
  ): Promise<{ comments: IndexedComment[]; more: boolean }> {
    const statuses: IndexedStatus[] =
      q.status === 'all' ? [...INDEXED] : q.status === 'approved' ? [] : [q.status];
    const parts = await Promise.all(
      statuses.map((status) =>
        this.statuses.page({
          status,
          limit: q.limit,
          ...(threadId === undefined ? {} : { threadId }),
          ...(q.after === undefined ? {} : { after: q.after }),
        }),
      ),
    );
    const merged = parts.flatMap((p) => p.comments);
    let more = parts.some((p) => p.more);
    if (q.status === 'approved' || q.status === 'all') {
      // The newest approved comments, read until one past the page (or, after a cursor, as many as are kept).
      const want = q.after === undefined ? q.limit + 1 : APPROVED_SHOWN;
      const after = q.after;
      const approved = (await this.recent.newestApproved(want)).filter(
        (c) => after === undefined || newestFirst(after, c) < 0,
      );
      merged.push(...approved);
    }
    merged.sort(newestFirst);
    more ||= merged.length > q.limit;
    return { comments: merged.slice(0, q.limit), more };
  }

  /** The comments as moderators see them: each one's page, likes and parent read for it alone. */
  private async describe(found: IndexedComment[]): Promise<ModeratedComment[]> {
    const metas = new Map<string, Promise<ThreadMeta | null>>();
    const metaOf = (id: string) => {
      let m = metas.get(id);
      if (m === undefined) {
        m = this.threads.meta(id).catch(() => null);
        metas.set(id, m);
      }
      return m;
    };
    return mapLimit(found, READ_CONCURRENCY, async (c) => {
      const [meta, likes, parent] = await Promise.all([
        metaOf(c.threadId),
        this.threads.likesOf(c.threadId, c.stem).catch(() => 0),
        c.record.parent === null ? null : this.threads.comment(c.threadId, c.record.parent).catch(() => null),
      ]);
      return moderatedOf(c.threadId, meta, c, likes, parent, this.clock());
    });
  }
}
