import path from 'node:path';
import {
  type AppendResult,
  type BatchAppend,
  createExclusive,
  isQuireError,
  listNames,
  makeDir,
  readComplete,
  Spool,
} from '@quire/fs';
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

/** The most keyed appends one batch commits: bounds the locks (one descriptor each) a batch holds at once. */
const MAX_BATCH = 2048;
/** Batches committing at once: one's fsyncs overlap another's reads and writes. */
const MAX_COMMITS = 2;

/** A keyed append waiting for its batch. */
interface Waiting {
  append: BatchAppend;
  resolve: (r: AppendResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Keyed imports gathered into batches (Spool.appendBatch): up to MAX_COMMITS batches commit at once, and the
 * appends that arrive meanwhile make the next ones, so batches grow with the appends in flight and a lone
 * append waits for nothing. Each append's promise resolves once its batch is durable: a caller that counts
 * progress when it resolves reports only comments that survive a power cut, with two directory fsyncs per
 * thread per batch instead of two per comment.
 */
export class ImportBatcher {
  private queue: Waiting[] = [];
  private committing = 0;

  /** A keyed append of `data` to `spool`, stamped `time`, committed with the next batch. */
  add(spool: Spool, data: string, key: string, time: number): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ append: { spool, data, key, time }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.committing < MAX_COMMITS && this.queue.length > 0) {
      this.committing++;
      void this.commit(this.take()).finally(() => {
        this.committing--;
        this.pump();
      });
    }
  }

  /** Up to MAX_BATCH appends, each key once (a repeated key waits for a later batch, which finds it). */
  private take(): Waiting[] {
    const keys = new Set<string>();
    const batch: Waiting[] = [];
    const rest: Waiting[] = [];
    for (const w of this.queue) {
      const id = `${w.append.spool.dir}\0${w.append.key}`;
      if (batch.length < MAX_BATCH && !keys.has(id)) {
        keys.add(id);
        batch.push(w);
      } else rest.push(w);
    }
    this.queue = rest;
    return batch;
  }

  private async commit(batch: Waiting[]): Promise<void> {
    try {
      const results = await Spool.appendBatch(batch.map((w) => w.append));
      for (const [i, w] of batch.entries()) w.resolve(results[i] as AppendResult);
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}

/**
 * Adds a comment brought from elsewhere (port/): its record name is stamped with `record.created`, not now,
 * and no rule of admission.ts applies (the source already judged it). The thread is created with `meta` if
 * needed, exactly as a posted comment creates it, so a running server sees it at its next listing. A keyed
 * placement goes through `batcher`: it resolves once its batch is durable.
 */
export async function importRecord(
  threads: Threads,
  durable: boolean,
  batcher: ImportBatcher,
  at: { threadId: string; meta: ThreadMeta; record: CommentRecord; placement: Placement },
): Promise<ImportResult> {
  const { threadId, meta, record, placement } = at;
  const spool = await threads.ensure(threadId, meta);
  const bytes = serialiseRecord(record);
  if ('key' in placement) {
    // The thread's own spool when it is as asked (the usual case): no new Spool per comment.
    const thread =
      spool.durable === durable && spool.suffix === RECORD_SUFFIX
        ? spool
        : new Spool(spool.dir, { suffix: RECORD_SUFFIX, durable });
    const r = await batcher.add(thread, bytes, placement.key, Date.parse(record.created));
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

/** The comments of a thread that have vote files: one listing, so an export asks only these for their votes. */
export async function votedStems(threads: Threads, threadId: string): Promise<Set<string>> {
  return new Set(
    (await listNames(threads.votesDir(threadId)).catch(() => [])).filter((n) => !n.startsWith('.')),
  );
}

/** What port/ may do to the store's files: the store's `port`. */
export interface PortAccess {
  /**
   * One imported comment. Keyed placements are committed in batches (ImportBatcher): call it for many comments
   * at once (the importer keeps hundreds in flight) and each call resolves once its comment is durable.
   */
  importComment(
    threadId: string,
    meta: ThreadMeta,
    record: CommentRecord,
    at: Placement,
  ): Promise<ImportResult>;
  /**
   * The stem of the comment imported with `key` into the thread, once its importComment has resolved (in this
   * run or an earlier one); null if there is none (or it is still under way). One readlink: the keyed append's
   * own record of the key, so an importer need not keep every comment's name in memory to place later replies.
   */
  keyedStem(threadId: string, key: string): Promise<string | null>;
  /** A comment's like files as they are (an export). */
  votes(threadId: string, stem: string): Promise<ImportedVote[]>;
  /** The comments of a thread with any vote files (votes() of any other is []). */
  votedStems(threadId: string): Promise<Set<string>>;
  /** Puts like files back (an import). */
  putVotes(threadId: string, stem: string, votes: readonly ImportedVote[]): Promise<void>;
}

/** One batcher per store (its Threads): every import of the process shares its batches. */
const batchers = new WeakMap<Threads, ImportBatcher>();

/**
 * The store's `port`. `noteStatus` is told of every imported comment that is not approved (the status index), once
 * it is written; an import cut short is run again, which tells it then.
 */
export function portAccess(
  threads: Threads,
  durable: boolean,
  noteStatus: (threadId: string, stem: string, record: CommentRecord) => Promise<unknown>,
): PortAccess {
  const batcher = batchers.get(threads) ?? new ImportBatcher();
  batchers.set(threads, batcher);
  return {
    async importComment(threadId, meta, record, placement) {
      const r = await importRecord(threads, durable, batcher, { threadId, meta, record, placement });
      if (r.outcome !== 'conflict' && record.status !== 'approved')
        await noteStatus(threadId, r.stem, record);
      return r;
    },
    async keyedStem(threadId, key) {
      const id = await (await threads.spool(threadId))?.keyedId(key);
      return id === undefined || id === null ? null : stemOf(id);
    },
    votes: (threadId, stem) => exportVotes(threads, threadId, stem),
    votedStems: (threadId) => votedStems(threads, threadId),
    putVotes: (threadId, stem, votes) => importVotes(threads, durable, threadId, stem, votes),
  };
}
