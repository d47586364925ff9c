import type { PendingIndex, PendingRef } from './pending.js';
import { newestFirst } from './pending.js';
import { type CommentRecord, restorableUntil, type ThreadMeta } from './records.js';
import type { ModeratedComment } from './store-types.js';
import { mapLimit, READ_CONCURRENCY, type StoredComment, type Threads } from './threads.js';
import type { ThreadViews } from './views.js';

/** Which comments a moderator's list shows, from where, and how many. */
export interface ModeratedQuery {
  status: CommentRecord['status'] | 'all';
  /** Only these threads (a page's); default all. */
  threadIds?: readonly string[];
  /** The comment the previous page ended with: the page starts after its place in the order. */
  after?: PendingRef;
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

/**
 * The moderators' lists. The queue (status pending) comes from the site's pending index (pending.ts): the names
 * of the queue, then the records of the page alone, whatever the site's size. Any other status is gathered from
 * the indexes of the threads asked for (all of them by default: O(site), for the "recent comments" view).
 */
export class ModerationLists {
  constructor(
    private readonly threads: Threads,
    private readonly views: ThreadViews,
    private readonly pending: PendingIndex,
    private readonly clock: () => number,
  ) {}

  async page(q: ModeratedQuery): Promise<ModeratedPage> {
    if (q.status === 'pending' && (q.threadIds === undefined || q.threadIds.length === 1))
      return this.queuePage(q);
    const all: ModeratedComment[] = [];
    for (const threadId of q.threadIds ?? (await this.threads.ids())) {
      const view = await this.views.get(threadId);
      for (const c of await this.views.withStatus(view, q.status))
        all.push(moderatedOf(threadId, view.meta, c, c.likes, c.parent, this.clock()));
    }
    all.sort(newestFirst);
    const after = q.after;
    const from = after === undefined ? all : all.filter((c) => newestFirst(after, c) < 0);
    return { comments: from.slice(0, q.limit), more: from.length > q.limit };
  }

  /** The queue's page from the pending index: each comment's page, likes and parent read for it alone. */
  private async queuePage(q: ModeratedQuery): Promise<ModeratedPage> {
    const threadId = q.threadIds?.[0];
    const page = await this.pending.page({
      limit: q.limit,
      ...(threadId === undefined ? {} : { threadId }),
      ...(q.after === undefined ? {} : { after: q.after }),
    });
    const metas = new Map<string, Promise<ThreadMeta | null>>();
    const metaOf = (id: string) => {
      let m = metas.get(id);
      if (m === undefined) {
        m = this.threads.meta(id).catch(() => null);
        metas.set(id, m);
      }
      return m;
    };
    const comments = await mapLimit(page.comments, READ_CONCURRENCY, async (c) => {
      const [meta, likes, parent] = await Promise.all([
        metaOf(c.threadId),
        this.threads.likesOf(c.threadId, c.stem).catch(() => 0),
        c.record.parent === null ? null : this.threads.comment(c.threadId, c.record.parent).catch(() => null),
      ]);
      return moderatedOf(c.threadId, meta, c, likes, parent, this.clock());
    });
    return { comments, more: page.more };
  }
}
