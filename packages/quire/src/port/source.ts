import type { ImportedVote } from '../store/imports.js';
import type { CommentRecord, CommentStatus, ThreadMeta } from '../store/records.js';

/** Why an import or export stopped: a file that is not what it says ('malformed'), or a bad argument. */
export type PortErrorCode = 'malformed' | 'unsupported' | 'bad-argument';

/**
 * A record larger than this (its text, all fields together; a line of a line-based format) stops the import: no
 * comment is that long. Here, not in xml.ts: the export route reads lines too and must not load the XML parser.
 */
export const MAX_RECORD_CHARS = 4 * 1024 * 1024;

/** A stop, with a one-line message that names the line or record where the input went wrong. */
export class PortError extends Error {
  override readonly name = 'PortError';
  constructor(
    readonly code: PortErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** How far a reader is through its file: bytes read of `total` (0 when unknown), for a progress ETA. */
export interface ReadMeter {
  bytes: number;
  total: number;
}

/** The formats `quire import` reads. */
export const IMPORT_FORMATS = ['quire', 'disqus', 'wordpress', 'remark42', 'isso'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** A page of the old system. */
export interface SourceThread {
  /** The old system's id of the page, unique in the file. */
  key: string;
  /** The page's address on the old site. */
  url: string;
  title: string | null;
  /** Epoch ms the page was made, when the file says; else the thread is as old as its first comment written. */
  created: number | null;
}

/** A comment of the old system, mapped to our states and Markdown, not yet checked. */
export interface SourceComment {
  /** The old system's id of the comment, unique in the file: the import key is `FORMAT:key`. */
  key: string;
  /** The key of its SourceThread. */
  thread: string;
  /** The key of the comment it replies to; null at top level. */
  parent: string | null;
  author: string | null;
  email: string | null;
  website: string | null;
  /** Markdown. */
  text: string;
  status: CommentStatus;
  /** Epoch ms; NaN when the source's date is impossible. */
  created: number;
  edited: number | null;
  /** The client address as the old system kept it (whole or already truncated); null if it kept none. */
  address: string | null;
  likes: number;
  /** Where it is in the file, for reports: `line 12`, `row 5`. */
  where: string;
}

/** A thread and a comment of our own export, put back as they were. */
export interface ExportedThread {
  id: string;
  meta: ThreadMeta;
}

export interface ExportedComment {
  thread: string;
  stem: string;
  record: CommentRecord;
  votes: ImportedVote[];
  where: string;
}

/** What a reader yields, in file order. */
export type SourceItem =
  | { kind: 'thread'; thread: SourceThread }
  | { kind: 'comment'; comment: SourceComment }
  | { kind: 'exported-thread'; thread: ExportedThread }
  | { kind: 'exported-comment'; comment: ExportedComment }
  | { kind: 'bad'; where: string; reason: string };

/** Epoch ms of an ISO 8601 / RFC 3339 date (UTC when no zone is given); NaN when impossible. */
export function parseDate(s: string | null, assumeUtc = true): number {
  if (s === null) return Number.NaN;
  let t = s.trim();
  // `2013-01-01 10:00:00` (WordPress, Isso's SQL) is UTC here.
  if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) t = t.replace(' ', 'T');
  if (assumeUtc && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) t += 'Z';
  const m = /^(\d{4})-(\d{2})-(\d{2})T/.exec(t);
  if (m === null) return Number.NaN;
  const ms = Date.parse(t);
  if (!Number.isFinite(ms)) return Number.NaN;
  // Date.parse rolls 2013-02-30 over to March: refuse a day the month does not have.
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) return Number.NaN;
  return ms;
}
