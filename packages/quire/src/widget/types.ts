/** The shapes of the quire HTTP API that the browser code reads (the server's schemas.ts is the contract). */
import type { AdminComment, PublicComment } from '../api-types.js';

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
  /** spam.minComposeSeconds: a form token is good this long after it was issued. */
  minComposeSeconds?: number;
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

export type { AdminComment };
