/**
 * The check after a cut of the store's power-cut test (powercut-store.ts): the writers' ledger (what was begun,
 * what was acknowledged before the cut) against the comment files, then the comment files against what the
 * store shows: the thread view (entries, likes), the counts, and the admin lists.
 *
 * Findings, one line each, by category:
 *  - lost: an acknowledged comment missing, or holding a status neither acknowledged last nor in flight since; an
 *    acknowledged like whose file is missing;
 *  - partial: a comment file that does not parse;
 *  - stale: what the store shows differs from the comment files (an index that missed a change);
 *  - other: anything else (comments nobody was posting, a writer that failed before the cut, fsck's complaints).
 */
import fs from 'node:fs';
import path from 'node:path';
import { readStamped } from '@quire/testkit';
import type { CommentStore } from '../src/index.js';

/** A comment as the ledger knows it: statuses it may hold now, and the voters whose likes were acknowledged. */
interface Expected {
  /** The last acknowledged status, and any begun after it (in flight at the cut). */
  allowed: Set<string>;
  /** Acknowledged before the cut (else: a post in flight, which may or may not be there). */
  acked: boolean;
  voters: string[];
}

/** What the writers' logs say. */
export class StoreLedger {
  acked = 0;
  late = 0;
  /** Posts begun and not acknowledged before the cut: at most this many comments may be there unlogged. */
  inFlightPosts = 0;
  /** Steps begun before the cut and not acknowledged before it: the cut landed while they were under way. */
  inFlight = 0;
  readonly comments = new Map<string, Expected>();
  readonly findings: string[] = [];

  /** Reads one writer's log; only acknowledgements stamped before `cutAt` count (readStamped). */
  read(writer: number, text: string, cutAt: bigint): void {
    let begun = 0;
    let open = 0;
    for (const { before, fields } of readStamped(text, cutAt)) {
      const [op, threadId = '', b = '', c = ''] = fields;
      const key = `${threadId}/${b}`;
      if (!before && (op === 'P' || op === 'U' || op === 'V')) this.late++;
      if (before && (op === 'p' || op === 'u' || op === 'v')) open++;
      if (before && (op === 'P' || op === 'U' || op === 'V')) open--;
      if (op === 'p') begun++;
      else if (op === 'P') {
        begun--;
        if (before) this.acked++;
        this.comments.set(key, { allowed: new Set([c]), acked: before, voters: [] });
      } else if (op === 'u') this.comments.get(key)?.allowed.add(c);
      else if (op === 'U' && before) {
        this.acked++;
        const e = this.comments.get(key);
        if (e) e.allowed = new Set([c]);
      } else if (op === 'V' && before) {
        this.acked++;
        this.comments.get(key)?.voters.push(c);
      } else if (op === 'E' && before) {
        this.findings.push(`other: writer ${writer} failed before the cut: ${fields.slice(1).join(' ')}`);
      }
    }
    this.inFlightPosts += begun;
    this.inFlight += open;
  }
}

/** The comment files of a data directory, read directly: status by `threadId/stem`, and each comment's voters. */
export interface Truth {
  status: Map<string, string>;
  voters: Map<string, Set<string>>;
  partial: string[];
}

/** Reads every comment file and vote file under DATA/threads. */
export function readTruth(dataDir: string): Truth {
  const truth: Truth = { status: new Map(), voters: new Map(), partial: [] };
  const threads = path.join(dataDir, 'threads');
  const names = (dir: string) =>
    (fs.existsSync(dir) ? fs.readdirSync(dir) : []).filter((n) => !n.startsWith('.'));
  for (const threadId of names(threads)) {
    const dir = path.join(threads, threadId);
    for (const name of names(dir).filter((n) => n.endsWith('.json'))) {
      const key = `${threadId}/${name.slice(0, -5)}`;
      try {
        truth.status.set(
          key,
          (JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { status: string }).status,
        );
      } catch {
        truth.partial.push(key);
      }
    }
    for (const stem of names(path.join(dir, '.votes'))) {
      truth.voters.set(`${threadId}/${stem}`, new Set(names(path.join(dir, '.votes', stem))));
    }
  }
  return truth;
}

/** Lost and partial: the ledger against the comment files. */
export function checkFiles(ledger: StoreLedger, truth: Truth): string[] {
  const f = truth.partial.map((k) => `partial: ${k} does not parse`);
  for (const [key, e] of ledger.comments) {
    const status = truth.status.get(key);
    if (status === undefined) {
      if (e.acked) f.push(`lost: ${key} (acknowledged ${[...e.allowed].join('|')}) is missing`);
    } else if (!e.allowed.has(status)) {
      f.push(`lost: ${key} is ${status}, acknowledged ${[...e.allowed].join('|')}`);
    }
    for (const voter of e.voters) {
      if (!truth.voters.get(key)?.has(voter)) f.push(`lost: the like of ${key} by ${voter} is missing`);
    }
  }
  const unlogged = [...truth.status.keys()].filter((k) => !ledger.comments.has(k));
  if (unlogged.length > ledger.inFlightPosts) {
    f.push(`other: ${unlogged.length} comments nobody logged, ${ledger.inFlightPosts} posts in flight`);
  }
  return f;
}

/** Keys of the comments with `status`, sorted. */
function ofStatus(truth: Truth, status: string): string[] {
  return [...truth.status]
    .filter(([, s]) => s === status)
    .map(([k]) => k)
    .sort();
}

/** Every comment of a list (site-wide, paged through by its cursor), as `threadId/stem`, sorted. */
async function listed(
  store: CommentStore,
  status: 'pending' | 'spam' | 'deleted' | 'approved',
): Promise<string[]> {
  const out: string[] = [];
  let after: { threadId: string; stem: string } | undefined;
  for (;;) {
    const p = await store.moderatedPage({ status, limit: 200, ...(after ? { after } : {}) });
    out.push(...p.comments.map((c) => `${c.threadId}/${c.stem}`));
    const last = p.comments[p.comments.length - 1];
    if (!p.more || last === undefined) return out.sort();
    after = last;
  }
}

function same(what: string, got: string[], want: string[]): string[] {
  const missing = want.filter((k) => !got.includes(k));
  const extra = got.filter((k) => !want.includes(k));
  if (missing.length === 0 && extra.length === 0) return [];
  return [`stale: ${what}: missing ${missing.join(' ') || '-'}; extra ${extra.join(' ') || '-'}`];
}

/**
 * What the store shows against the comment files: every thread's view (each comment, its status and likes),
 * its count of approved comments, and the pending, spam and deleted lists; with `approved`, also the site-wide
 * list of approved comments (from the recent-comments index; every comment of the test is among its newest
 * 1,000).
 */
export async function checkShown(store: CommentStore, truth: Truth, approved: boolean): Promise<string[]> {
  const f: string[] = [];
  const byThread = new Map<string, string[]>();
  for (const key of truth.status.keys()) {
    const [threadId = '', stem = ''] = key.split('/');
    byThread.set(threadId, [...(byThread.get(threadId) ?? []), stem]);
  }
  for (const [threadId, stems] of byThread) {
    const view = await store.view(threadId);
    f.push(...same(`view of ${threadId}`, [...view.entries.keys()].sort(), stems.sort()));
    let count = 0;
    for (const stem of stems) {
      const key = `${threadId}/${stem}`;
      const e = view.entries.get(stem);
      const want = truth.status.get(key);
      if (want === 'approved') count++;
      if (e === undefined) continue;
      if (e.status !== want) f.push(`stale: view of ${key}: ${e.status}, the file says ${want}`);
      const likes = truth.voters.get(key)?.size ?? 0;
      if (e.likes !== likes) f.push(`stale: view of ${key}: ${e.likes} likes, ${likes} files`);
    }
    if (view.approved !== count)
      f.push(`stale: count of ${threadId}: ${view.approved}, the files say ${count}`);
  }
  for (const status of ['pending', 'spam', 'deleted'] as const) {
    f.push(...same(`${status} list`, await listed(store, status), ofStatus(truth, status)));
  }
  if (approved)
    f.push(...same('approved list', await listed(store, 'approved'), ofStatus(truth, 'approved')));
  return f;
}
