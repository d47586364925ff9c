/** The shapes of the quire HTTP API that the browser code reads (the server's schemas.ts is the contract). */
import type { PublicComment, AdminComment as ServerAdminComment } from '../api-types.js';

export type Comment = PublicComment;

export interface ThreadPage {
  uri: string;
  threadId: string;
  title: string | null;
  total: number;
  comments: Comment[];
  next: string | null;
  formToken: string;
  moderation: 'off' | 'all';
  editWindowSeconds?: number;
}

export interface Created {
  comment: Comment;
  editToken: string;
  editableUntil: string;
}

/** RFC 9457 problem details, as every error answer of the service is. */
export interface Problem {
  status: number;
  title: string;
  detail: string;
  code: string;
  retryAfter?: number;
}

/** The comment a reply answers, as the admin API shows it: its author and the start of its text. */
export interface ReplyContext {
  id: string;
  author: string | null;
  /** The parent's text, plain, its first 140 characters. */
  excerpt: string;
}

/**
 * A comment as the admin API shows it. `replyTo` and `restorableUntil` are the contract's additions (PLAN.md):
 * optional here until every server sends them, so the page works with one that does not yet.
 */
export type AdminComment = Omit<ServerAdminComment, 'replyTo' | 'restorableUntil'> & {
  replyTo?: ReplyContext | null;
  /** Until when a moderator can restore this deleted comment (ISO); null if it cannot be restored. */
  restorableUntil?: string | null;
};
