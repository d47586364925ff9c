import path from 'node:path';
import { createExclusive, isQuireError, listNames, makeDir, readComplete, Spool } from '@quire/fs';
import { type CommentRecord, serialiseRecord, type ThreadMeta } from './records.js';
import { RECORD_SUFFIX, recordName, stemOf, type Threads } from './threads.js';

/**
 * Where an imported comment goes: `key` (an appended record stamped with the comment's own time, once per key:
 * a keyed append, so importing again finds the first copy) or `stem` (exactly this name: our own export put
 * back as it was; the name itself makes it idempotent).
 */
export type Placement = { key: string } | { stem: string };

/** What importing one comment did: `exists` is the copy of an earlier run, `conflict` another comment's name. */
export interface ImportResult {
  stem: string;
  outcome: 'created' | 'exists' | 'conflict';
}

/**
 * Adds a comment brought from elsewhere (port/): its record name is stamped with `record.created`, not now,
 * and no rule of admission.ts applies (the source already judged it). The thread is created with `meta` if
 * needed, exactly as a posted comment creates it, so a running server sees it at its next listing.
 */
export async function importRecord(
  threads: Threads,
  durable: boolean,
  threadId: string,
  meta: ThreadMeta,
  record: CommentRecord,
  placement: Placement,
): Promise<ImportResult> {
  const spool = await threads.ensure(threadId, meta);
  const bytes = serialiseRecord(record);
  if ('key' in placement) {
    // A spool of this thread whose clock is the comment's time: the keyed append stamps and remembers it.
    const timed = new Spool(spool.dir, { suffix: RECORD_SUFFIX, durable, time: Date.parse(record.created) });
    const r = await timed.append(bytes, { key: placement.key });
    return { stem: stemOf(r.id), outcome: r.created ? 'created' : 'exists' };
  }
  const file = path.join(spool.dir, recordName(placement.stem));
  try {
    await createExclusive(file, bytes, { durable });
    return { stem: placement.stem, outcome: 'created' };
  } catch (err) {
    if (!isQuireError(err, 'EEXIST')) throw err;
    const there = await readComplete(file);
    return { stem: placement.stem, outcome: there?.toString('utf8') === bytes ? 'exists' : 'conflict' };
  }
}

/** One like as exported: the voter's HMAC (the vote file's name) and the vote file's content. */
export interface ImportedVote {
  voter: string;
  content: string;
}

/** Puts back the vote files of a comment; one already there counts once, as a like does. */
export async function importVotes(
  threads: Threads,
  durable: boolean,
  threadId: string,
  stem: string,
  votes: readonly ImportedVote[],
): Promise<void> {
  if (votes.length === 0) return;
  const dir = path.join(threads.votesDir(threadId), stem);
  await makeDir(dir, { durable });
  for (const v of votes) {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(v.voter)) continue;
    await createExclusive(path.join(dir, v.voter), v.content, { durable }).catch((err: unknown) => {
      if (!isQuireError(err, 'EEXIST')) throw err;
    });
  }
}

/** The vote files of a comment, in name order, for an export ([] when it has none). */
export async function exportVotes(threads: Threads, threadId: string, stem: string): Promise<ImportedVote[]> {
  const dir = path.join(threads.votesDir(threadId), stem);
  const voters = (await listNames(dir)).filter((n) => !n.startsWith('.')).sort();
  const out: ImportedVote[] = [];
  for (const voter of voters) {
    const content = await readComplete(path.join(dir, voter));
    if (content !== null) out.push({ voter, content: content.toString('utf8') });
  }
  return out;
}

/** What port/ may do to the store's files: the store's `port`. */
export interface PortAccess {
  importComment(
    threadId: string,
    meta: ThreadMeta,
    record: CommentRecord,
    at: Placement,
  ): Promise<ImportResult>;
  /** A comment's like files as they are (an export). */
  votes(threadId: string, stem: string): Promise<ImportedVote[]>;
  /** Puts like files back (an import). */
  putVotes(threadId: string, stem: string, votes: readonly ImportedVote[]): Promise<void>;
}

export function portAccess(threads: Threads, durable: boolean): PortAccess {
  return {
    importComment: (threadId, meta, record, at) => importRecord(threads, durable, threadId, meta, record, at),
    votes: (threadId, stem) => exportVotes(threads, threadId, stem),
    putVotes: (threadId, stem, votes) => importVotes(threads, durable, threadId, stem, votes),
  };
}
