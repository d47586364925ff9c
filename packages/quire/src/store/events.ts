import type { CommentRecord } from './records.js';

/** What happened to a comment: added (or found again by a retried post), or changed by a rule of rules.ts. */
export type StoreEventKind = 'added' | 'edited' | 'deleted' | 'judged' | 'restored';

/** One change of a comment, told to the store's event sink before the request that made it is answered. */
export interface StoreEvent {
  kind: StoreEventKind;
  threadId: string;
  stem: string;
  /** The record as it is now. */
  record: CommentRecord;
  /** The record before the change; null for 'added'. */
  before: CommentRecord | null;
  /** For 'added': false when a retried post found its earlier comment (the sink may have been told already). */
  created: boolean;
}

/**
 * Awaited by the store after each change and before the change's promise resolves, so what it writes (the
 * outbox) is durable before the client hears of the change. What it throws fails the request; the change itself
 * stays, and a retry of the request tells the sink again.
 */
export type EventSink = (event: StoreEvent) => Promise<void>;
