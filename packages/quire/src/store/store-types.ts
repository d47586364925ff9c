/** The types the store facade (store.ts) takes and gives, kept apart so the facade stays a list of operations. */
import type { ThreadMeta } from './records.js';
import type { StoredComment } from './threads.js';
import type { CacheBudget } from './views.js';

/** How a store writes and what time it is. */
export interface StoreOptions {
  /** Epoch milliseconds; default Date.now. Names new records and stamps them. */
  clock?: () => number;
  /** fsync every write (default true). */
  durable?: boolean;
  /** How long a post waits for one of its locks before it fails with ERR_LOCK_TIMEOUT (default 5000 ms). */
  lockWaitMs?: number;
  /** A cached view checked longer ago than this is checked by listing its directory (default 500 ms; views.ts). */
  viewListAfterMs?: number;
  /** Memory the caches of thread indexes, records and duplicate-check summaries may hold (config `cache`). */
  cache?: CacheBudget & { summaryBytes?: number };
}

/** A comment as a moderator sees it: the record, its page, its likes, its restore window and its parent. */
export interface ModeratedComment extends StoredComment {
  threadId: string;
  meta: ThreadMeta | null;
  likes: number;
  /** ISO 8601 end of the window in which a tombstone can be restored; null if it cannot be. */
  restorableUntil: string | null;
  /** The comment this one replies to, if it still exists. */
  replyTo: StoredComment | null;
}

/** The newest approved comments, newest first, with their pages. */
export interface FeedEntry extends StoredComment {
  threadId: string;
  meta: ThreadMeta | null;
}

/** What the store's caches have read so far and hold now (CommentStore.cacheStats): for tests and the bench. */
export interface CacheStats {
  filesRead: number;
  listings: number;
  indexBytes: number;
  recordBytes: number;
  summaryBytes: number;
}
