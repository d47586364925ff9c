/** The shapes of the quire HTTP API that the browser code reads (the server's schemas.ts is the contract). */

export interface Comment {
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
  replies: Comment[];
}

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

export interface AdminComment {
  id: string;
  threadId: string;
  uri: string | null;
  title: string | null;
  parent: string | null;
  author: string | null;
  email: string | null;
  website: string | null;
  text: string;
  html: string;
  created: string;
  edited: string | null;
  deleted: string | null;
  status: 'approved' | 'pending' | 'spam' | 'deleted';
  ip: string | null;
  likes: number;
}
