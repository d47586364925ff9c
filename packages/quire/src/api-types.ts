/**
 * The comments as the HTTP API sends them: one definition for the server (server/views.ts builds them) and
 * the browser code (widget/), so the two cannot drift apart. No imports: the widget compiles it for the DOM.
 * The route schemas (server/schemas.ts) are the contract on the wire; these are their TypeScript shapes.
 */

/** A comment as the public sees it: never its e-mail or address. */
export interface PublicComment {
  id: string;
  parent: string | null;
  author: string | null;
  website: string | null;
  /** Markdown source. */
  text: string;
  /** Rendered and sanitised by the server: the only HTML the widget ever inserts. */
  html: string;
  created: string;
  edited: string | null;
  status: 'approved' | 'pending' | 'deleted';
  likes: number;
  /** Key of the comment's identicon: a keyed hash, never of anything the public may not see (server/avatars.ts). */
  avatar?: string;
  /** SHA-256 of the author's folded e-mail for gravatar.com: sent only when the site turned `avatars.gravatar` on. */
  gravatar?: string;
  replies: PublicComment[];
}

/** A comment as the site owner sees it, with e-mail and truncated address. */
export interface AdminComment {
  id: string;
  threadId: string;
  uri: string | null;
  title: string | null;
  parent: string | null;
  /** The comment this one replies to (the start of its Markdown text, at most 140 characters); null at top level or if gone. */
  replyTo: { id: string; author: string | null; excerpt: string } | null;
  author: string | null;
  email: string | null;
  website: string | null;
  text: string;
  html: string;
  created: string;
  edited: string | null;
  deleted: string | null;
  /** Until when a deleted comment can be restored (POST /api/admin/comments/:id/restore); null if it cannot. */
  restorableUntil: string | null;
  status: 'approved' | 'pending' | 'spam' | 'deleted';
  ip: string | null;
  ipHash: string | null;
  likes: number;
}
