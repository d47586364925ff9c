import { createHash } from 'node:crypto';
import { parseName } from '@quire/fs';
import { truncateIp } from './address.js';
import type { Hmacs } from './secret.js';
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
  /**
   * Present (true) when the author asked for a mail on replies (POST `notify: true`, which needs `email`): the
   * outbox reads it on a reply's parent. Private like `email`; a tombstone drops it with the e-mail.
   */
  notify?: true;
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
  /**
   * On a tombstone, what deleting it erased, kept so a moderator can undo the delete until `until`; absent on
   * live comments, on tombstones made without a restore window, and once the window has passed and the record
   * was written again. Never shown by a public endpoint.
   */
  restore?: RestoreData;
}

/** The fields a delete erases, as they were, and how long they are kept. */
export interface RestoreData {
  /** ISO 8601: the end of the restore window. */
  until: string;
  /** The status the comment had before it was deleted. */
  status: Exclude<CommentStatus, 'deleted'>;
  author: string | null;
  email: string | null;
  notify?: true;
  website: string | null;
  text: string;
  ip: string | null;
  ipHash: string | null;
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

/** Any character beyond ASCII (surrogates included); ASCII text is its own NFKC form. */
const NON_ASCII = /[\u0080-\uffff]/;

/** Case- and whitespace-folded SHA-256 of a comment's text. */
export function textHashOf(text: string): string {
  // The ASCII test skips ICU's normalisation: 40 % of this function's time for most comments (measured).
  const nfkc = NON_ASCII.test(text) ? text.normalize('NFKC') : text;
  const folded = nfkc.toLowerCase().replace(/\s+/g, ' ').trim();
  return createHash('sha256').update(folded).digest('hex').slice(0, 32);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** `{ notify: true }` when a record (or its restore data) asks for reply mail and has an e-mail to send it to. */
function notifyOf(fields: Record<string, unknown>): { notify?: true } {
  return fields.notify === true && str(fields.email) !== null ? { notify: true } : {};
}

const RESTORABLE: readonly string[] = ['approved', 'pending', 'spam'];

/** A record's `restore` field, or undefined if it is missing or not a complete one. */
function parseRestore(v: unknown): RestoreData | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const fields = v as Record<string, unknown>;
  const until = str(fields.until);
  const text = str(fields.text);
  if (until === null || text === null || !RESTORABLE.includes(fields.status as string)) return undefined;
  return {
    until,
    status: fields.status as RestoreData['status'],
    author: str(fields.author),
    email: str(fields.email),
    ...notifyOf(fields),
    website: str(fields.website),
    text,
    ip: str(fields.ip),
    ipHash: str(fields.ipHash),
    textHash: str(fields.textHash) ?? textHashOf(text),
  };
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
  const fields = v as Record<string, unknown>;
  const text = str(fields.text);
  if (text === null) return null;
  const status = STATUSES.includes(fields.status as CommentStatus)
    ? (fields.status as CommentStatus)
    : 'pending';
  const parent = str(fields.parent);
  const restore = status === 'deleted' ? parseRestore(fields.restore) : undefined;
  const record: CommentRecord = {
    v: 1,
    parent: parent !== null && COMMENT_STEM.test(parent) ? parent : null,
    author: str(fields.author),
    email: str(fields.email),
    ...notifyOf(fields),
    website: str(fields.website),
    text,
    status,
    created: str(fields.created) ?? new Date(0).toISOString(),
    edited: str(fields.edited),
    deleted: str(fields.deleted),
    ip: str(fields.ip),
    ipHash: str(fields.ipHash),
    nonce: str(fields.nonce),
    textHash: str(fields.textHash) ?? textHashOf(text),
  };
  if (fields.notify === true) record.notify = true;
  if (restore !== undefined) record.restore = restore;
  return record;
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

/** What a client submits for a new comment, checked and cleaned by the server. */
export interface CommentDraft {
  /** Stem of the comment replied to, in the same thread; null at top level. */
  parent: string | null;
  author: string | null;
  email: string | null;
  /** Reply mail asked for (needs `email`). */
  notify?: boolean;
  website: string | null;
  text: string;
  status: 'approved' | 'pending';
  /** The client's whole address: stored only truncated, and as an HMAC. */
  address: string | undefined;
  /** The client's nonce as sent: stored only as an HMAC bound to the thread. */
  nonce: string | undefined;
}

/** The record of a new comment: the address truncated and hashed, the nonce hashed, the text hashed. */
export function createRecord(
  threadId: string,
  draft: CommentDraft,
  hmacs: Hmacs,
  nowMs: number,
): CommentRecord {
  return {
    v: 1,
    parent: draft.parent,
    author: draft.author,
    email: draft.email,
    ...(draft.notify === true && draft.email !== null ? { notify: true as const } : {}),
    website: draft.website,
    text: draft.text,
    status: draft.status,
    created: new Date(nowMs).toISOString(),
    edited: null,
    deleted: null,
    ip: truncateIp(draft.address),
    ipHash: draft.address === undefined ? null : hmacs.hex('ip', draft.address),
    nonce: draft.nonce === undefined ? null : hmacs.hex('nonce', `${threadId}\0${draft.nonce}`),
    textHash: textHashOf(draft.text),
  };
}

/** Changes to a comment's content; an absent field is left as it is. */
export interface CommentChanges {
  text?: string;
  author?: string | null;
  email?: string | null;
  website?: string | null;
}

/** The record with `changes` applied and marked edited `at`. */
export function editRecord(r: CommentRecord, changes: CommentChanges, at: string): CommentRecord {
  // Reply mail needs an address: a moderator's edit that clears the e-mail ends the request too.
  const { notify: _notify, ...rest } = r;
  return {
    ...(changes.email === null ? rest : r),
    ...(changes.text === undefined ? {} : { text: changes.text, textHash: textHashOf(changes.text) }),
    ...(changes.author === undefined ? {} : { author: changes.author }),
    ...(changes.email === undefined ? {} : { email: changes.email }),
    ...(changes.website === undefined ? {} : { website: changes.website }),
    edited: at,
  };
}

/**
 * Turns a comment into a tombstone: keeps its place (id, parent, created), drops everything personal from
 * what the record shows. With `restoreUntil`, what it dropped is kept in `restore` until then, so a moderator
 * can undo the delete; without, it is gone.
 */
export function tombstone(r: CommentRecord, at: string, restoreUntil: string | null = null): CommentRecord {
  const { restore: _earlier, notify: _notify, ...live } = r;
  const dead: CommentRecord = {
    ...live,
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
  if (restoreUntil !== null && r.status !== 'deleted') {
    dead.restore = {
      until: restoreUntil,
      status: r.status,
      author: r.author,
      email: r.email,
      ...(r.notify === true ? { notify: true as const } : {}),
      website: r.website,
      text: r.text,
      ip: r.ip,
      ipHash: r.ipHash,
      textHash: r.textHash,
    };
  }
  return dead;
}

/** The end of a tombstone's restore window, or null if it cannot be restored at `nowMs`. */
export function restorableUntil(r: CommentRecord, nowMs: number): string | null {
  const until = r.restore === undefined ? Number.NaN : Date.parse(r.restore.until);
  return r.status === 'deleted' && nowMs <= until ? (r.restore as RestoreData).until : null;
}

/** The comment a tombstone was, in its previous status; null if it is not restorable at `nowMs`. */
export function restoreRecord(r: CommentRecord, nowMs: number): CommentRecord | null {
  if (restorableUntil(r, nowMs) === null || r.restore === undefined) return null;
  const { restore, ...tomb } = r;
  const { until: _until, ...fields } = restore;
  return { ...tomb, ...fields, deleted: null };
}

/** A tombstone whose restore window has passed, without what it kept; the record itself otherwise. */
export function forgetExpired(r: CommentRecord, nowMs: number): CommentRecord {
  if (r.restore === undefined || restorableUntil(r, nowMs) !== null) return r;
  const { restore: _expired, ...rest } = r;
  return rest;
}

/**
 * Orders stems (`YYYYMMDDTHHMMSSZ-N`) as @quire/fs's compareNames orders record names, which is the order of
 * the comments: by stamp, then counter as a number. Cheap enough to sort thousands of replies (compareNames
 * parses both names on every call).
 */
export function compareStems(a: string, b: string): number {
  const sa = a.slice(0, 16);
  const sb = b.slice(0, 16);
  if (sa !== sb) return sa < sb ? -1 : 1;
  const d = Number(a.slice(17)) - Number(b.slice(17));
  return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
}
