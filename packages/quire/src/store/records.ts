import { createHash } from 'node:crypto';
import { parseName } from '@quire/fs';
import { THREAD_ID } from './uri.js';

export type CommentStatus = 'approved' | 'pending' | 'spam' | 'deleted';

export const STATUSES: readonly CommentStatus[] = ['approved', 'pending', 'spam', 'deleted'];

/**
 * One comment, as stored in DATA/threads/<threadId>/<YYYYMMDDTHHMMSSZ-N>.json (pretty-printed, so `cat` reads it).
 * The file name is the comment's id within its thread and records the second it was posted.
 */
export interface CommentRecord {
  v: 1;
  /** Id (file name without `.json`) of the comment this one replies to, in the same thread; null at top level. */
  parent: string | null;
  author: string | null;
  /** Stored for the site owner (admin API); never returned by a public endpoint. */
  email: string | null;
  website: string | null;
  /** Markdown source. Empty once deleted. */
  text: string;
  status: CommentStatus;
  /** ISO 8601 with milliseconds. */
  created: string;
  edited: string | null;
  deleted: string | null;
  /** The client address truncated to its /24 (IPv4) or /48 (IPv6) network, never the whole address. */
  ip: string | null;
  /** HMAC of the whole client address with the server secret: lets the owner match comments from one address. */
  ipHash: string | null;
  /** HMAC of the client's nonce: a retried POST finds its comment by it. */
  nonce: string | null;
  /** Hash of the whitespace- and case-folded text, for the duplicate-text check. */
  textHash: string;
}

export interface ThreadMeta {
  uri: string;
  title: string | null;
  created: string;
}

/** `YYYYMMDDTHHMMSSZ-N`: a record name without its `.json`. */
export const COMMENT_STEM = /^\d{8}T\d{6}Z-(?:0|[1-9]\d{0,14})$/;

/** Public comment ids are `<threadId>_<stem>`: the thread's directory and the record's name, nothing else. */
export function formatCommentId(threadId: string, stem: string): string {
  return `${threadId}_${stem}`;
}

export const COMMENT_ID_PATTERN =
  '^[a-z0-9][a-z0-9-]{0,47}-[0-9a-f]{32}_[0-9]{8}T[0-9]{6}Z-(0|[1-9][0-9]{0,14})$';

export function parseCommentId(id: string): { threadId: string; stem: string } | null {
  if (typeof id !== 'string' || id.length > 120) return null;
  const at = id.lastIndexOf('_');
  if (at < 0) return null;
  const threadId = id.slice(0, at);
  const stem = id.slice(at + 1);
  // parseName also refuses calendar nonsense such as 20261399T…, which the pattern lets through.
  if (!THREAD_ID.test(threadId) || !COMMENT_STEM.test(stem) || parseName(`${stem}.json`) === null)
    return null;
  return { threadId, stem };
}

/** Case- and whitespace-folded SHA-256 of a comment's text. */
export function textHashOf(text: string): string {
  const folded = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  return createHash('sha256').update(folded).digest('hex').slice(0, 32);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * Parses a record file leniently (a person may have edited it by hand): unknown fields are dropped, missing
 * ones get their neutral value. Null if it is not a JSON object with a text.
 */
export function parseRecord(buf: Buffer): CommentRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const text = str(o.text);
  if (text === null) return null;
  const status = STATUSES.includes(o.status as CommentStatus) ? (o.status as CommentStatus) : 'pending';
  const parent = str(o.parent);
  return {
    v: 1,
    parent: parent !== null && COMMENT_STEM.test(parent) ? parent : null,
    author: str(o.author),
    email: str(o.email),
    website: str(o.website),
    text,
    status,
    created: str(o.created) ?? new Date(0).toISOString(),
    edited: str(o.edited),
    deleted: str(o.deleted),
    ip: str(o.ip),
    ipHash: str(o.ipHash),
    nonce: str(o.nonce),
    textHash: str(o.textHash) ?? textHashOf(text),
  };
}

export function serialiseRecord(r: CommentRecord): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export function parseThreadMeta(buf: Buffer | null): ThreadMeta | null {
  if (buf === null) return null;
  try {
    const v = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    if (typeof v.uri !== 'string') return null;
    return {
      uri: v.uri,
      title: typeof v.title === 'string' ? v.title : null,
      created: typeof v.created === 'string' ? v.created : new Date(0).toISOString(),
    };
  } catch {
    return null;
  }
}

/** Turns a comment into a tombstone: keeps its place (id, parent, created), drops everything personal. */
export function tombstone(r: CommentRecord, at: string): CommentRecord {
  return {
    ...r,
    author: null,
    email: null,
    website: null,
    text: '',
    status: 'deleted',
    deleted: at,
    ip: null,
    ipHash: null,
    textHash: textHashOf(''),
  };
}
