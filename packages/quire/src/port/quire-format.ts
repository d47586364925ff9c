import type { ImportedVote } from '../store/imports.js';
import { COMMENT_STEM, type CommentRecord, parseRecord, parseThreadMeta } from '../store/records.js';
import { THREAD_ID } from '../store/uri.js';
import { readLines } from './lines.js';
import { PortError, type ReadMeter, type SourceItem } from './source.js';

/**
 * Our export, JSON Lines (docs/migrating.md, "The quire export format"), version EXPORT_VERSION:
 *   {"format":"quire-export","version":1}                                  the header, first line
 *   {"type":"thread","id":THREAD_ID,"uri":…,"title":…,"created":…}          a page, before its comments
 *   {"type":"comment","thread":THREAD_ID,"id":STEM,"record":{…},"votes":[{"voter":…,"content":…}]}
 * `record` is the comment's file as the store keeps it (records.ts), every field; `votes` its like files.
 * Nothing in it depends on when it was made, so exporting the same data twice gives the same bytes.
 */
export const EXPORT_VERSION = 1;
export const EXPORT_HEADER = { format: 'quire-export', version: EXPORT_VERSION } as const;

export interface ThreadLine {
  type: 'thread';
  id: string;
  uri: string;
  title: string | null;
  created: string;
}

export interface CommentLine {
  type: 'comment';
  thread: string;
  id: string;
  record: CommentRecord;
  votes: ImportedVote[];
}

function parseVotes(v: unknown): ImportedVote[] | null {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return null;
  const out: ImportedVote[] = [];
  for (const x of v as unknown[]) {
    const o = x as { voter?: unknown; content?: unknown } | null;
    if (typeof o?.voter !== 'string' || typeof o.content !== 'string') return null;
    out.push({ voter: o.voter, content: o.content });
  }
  return out;
}

function item(o: Record<string, unknown>, where: string): SourceItem {
  if (o.type === 'thread') {
    const meta = parseThreadMeta(Buffer.from(JSON.stringify(o)));
    if (typeof o.id !== 'string' || !THREAD_ID.test(o.id) || meta === null) {
      return { kind: 'bad', where, reason: 'thread without a valid id or uri' };
    }
    return { kind: 'exported-thread', thread: { id: o.id, meta } };
  }
  if (o.type === 'comment') {
    const record = parseRecord(Buffer.from(JSON.stringify(o.record ?? null)));
    const votes = parseVotes(o.votes);
    if (typeof o.thread !== 'string' || !THREAD_ID.test(o.thread)) {
      return { kind: 'bad', where, reason: 'comment without a valid thread' };
    }
    if (typeof o.id !== 'string' || !COMMENT_STEM.test(o.id) || record === null || votes === null) {
      return { kind: 'bad', where, reason: 'comment without a valid id, record or votes' };
    }
    return { kind: 'exported-comment', comment: { thread: o.thread, stem: o.id, record, votes, where } };
  }
  return { kind: 'bad', where, reason: `unknown type ${JSON.stringify(o.type)}` };
}

/** Reads our export: the header must say a version this code knows; a line that is not JSON stops it. */
export async function* readQuire(file: string, meter?: ReadMeter): AsyncGenerator<SourceItem> {
  let header = false;
  for await (const { line, n } of readLines(file, false, meter)) {
    if (line.trim() === '') continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      throw new PortError('malformed', `line ${n}: not JSON`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      throw new PortError('malformed', `line ${n}: not a JSON object`);
    }
    const obj = o as Record<string, unknown>;
    if (!header) {
      if (obj.format !== EXPORT_HEADER.format)
        throw new PortError('malformed', `line ${n}: not a quire export`);
      if (obj.version !== EXPORT_VERSION) {
        throw new PortError(
          'unsupported',
          `line ${n}: export version ${String(obj.version)} is not ${EXPORT_VERSION}`,
        );
      }
      header = true;
      continue;
    }
    yield item(obj, `line ${n}`);
  }
  if (!header) throw new PortError('malformed', 'line 1: not a quire export (no header)');
}
