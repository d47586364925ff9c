/**
 * fsck for a service data directory (`quire fsck DATA`): what the comment store keeps (store.ts tells the layout),
 * checked record by record, and on request repaired where a repair cannot lose anything. Read-only use of the
 * store's modules; every file operation goes through @quire/fs.
 */
import path from 'node:path';
import {
  type CheckIssue,
  createExclusive,
  isQuireError,
  isTempName,
  listNames,
  openSpool,
  pathExists,
  readComplete,
  type Spool,
  stampOf,
} from '@quire/fs';
import type { DataCheckOptions, DataIssue, DataProblem, DataReport } from './check-types.js';
import { checkRecentIndex, RECENT_KEEP, type RecentEntry } from './recent.js';
import { COMMENT_STEM, compareStems, STATUSES } from './records.js';
import { checkStatusIndex, type Found, INDEXED } from './status-index.js';
import { INDEX_NAMES, rebuildIndex } from './thread-index.js';
import { mapLimit, READ_CONCURRENCY, RECORD_SUFFIX, stemOf } from './threads.js';
import { THREAD_ID } from './uri.js';

export type { DataCheckOptions, DataIssue, DataProblem, DataReport } from './check-types.js';

/** Where an unparsable comment file is moved to, inside its thread: a dot name, so no reader takes it for a record. */
export const QUARANTINE = '.quarantine';

/** Problems that leave the directory clean: nothing is wrong, or nothing is to be done about them now. */
const INFORMATIVE: ReadonlySet<DataProblem> = new Set(['live-temp', 'quarantined', 'unknown']);

/** The recent-comments index (store/recent.ts): derived data, rebuilt from the threads when missing. */
const RECENT = 'recent';
/** The status index (store/status-index.ts): derived data, rebuilt by --repair from what the scan found. */
const STATUS = 'status';

/** Names the store keeps in DATA, and in a thread directory besides its records. */
const DATA_NAMES = new Set(['quire.json', 'secret', 'settings.json', 'threads', RECENT, STATUS, '.health']);
// Shared state of the instances (store/shared-state.ts): counters and logouts, never checked further.
for (const name of ['limits', 'sessions']) DATA_NAMES.add(name);
// Issue 15: the notifications' outbox (store/outbox.ts), not checked here.
for (const name of ['outbox', 'outbox-log', 'notify']) DATA_NAMES.add(name);
const THREAD_NAMES = new Set([
  '.thread.json',
  '.votes',
  '.nonces',
  '.keys',
  '.post.lock',
  '.spool.lock',
  QUARANTINE,
  ...INDEX_NAMES,
]);
/** Fields the service writes into every comment record (records.ts createRecord). */
const RECORD_FIELDS = ['v', 'parent', 'text', 'status', 'created', 'textHash'] as const;
const VOTER = /^[0-9a-f]{32}$/;
const NONCE_CLAIM = /^(?:[0-9a-f]{64}|\.anchor-\d+)$/;

/** Whether `dir` is a service data directory: it has `quire.json` and `threads/`. */
export async function isDataDir(dir: string): Promise<boolean> {
  return (
    (await pathExists(path.join(dir, 'quire.json'))) &&
    stampOf(path.join(dir, 'threads')).st?.isDirectory() === true
  );
}

class Checker {
  readonly issues: DataIssue[] = [];
  threads = 0;
  comments = 0;
  votes = 0;
  /** Every comment of a status the status index keeps, for that index. */
  readonly indexed: Found[] = [];
  /** The newest approved comments (RECENT_KEEP of them, once trimmed), for the recent-comments index. */
  approved: RecentEntry[] = [];

  constructor(
    readonly dataDir: string,
    readonly repair: boolean,
  ) {}

  found(rel: string, problem: DataProblem, detail: string, repaired = false): void {
    this.issues.push({ path: rel, problem, detail, repaired });
  }

  abs(rel: string): string {
    return path.join(this.dataDir, rel);
  }

  /**
   * Reports (and with `repair` sweeps) the temps in `rel`, by @quire/fs's spool check, the one rule for which
   * temps a dead writer left. Returns the spool and the check's other findings (names that are not records of
   * `suffix`), which only a thread's caller wants: a directory of votes has no records.
   */
  async temps(rel: string, suffix?: string): Promise<{ spool: Spool; issues: CheckIssue[] }> {
    const spool = await openSpool(this.abs(rel), {
      create: false,
      ...(suffix === undefined ? {} : { suffix }),
    });
    const report = await spool.check({ repair: this.repair });
    const isTemp = (i: CheckIssue) =>
      i.problem === 'dead-temp' || i.problem === 'live-temp' || isTempName(i.name);
    for (const i of report.issues.filter(isTemp))
      this.found(path.join(rel, i.name), i.problem, i.detail, i.repaired);
    return { spool, issues: report.issues.filter((i) => !isTemp(i)) };
  }
}

/** Checks (and with `repair` repairs) the data directory `dir`. */
export async function checkDataDir(dir: string, opts: DataCheckOptions = {}): Promise<DataReport> {
  const c = new Checker(path.resolve(dir), opts.repair === true);
  if (!(await isDataDir(c.dataDir))) {
    c.found('.', 'not-a-data-dir', 'no quire.json and threads/ here');
  } else {
    await checkRoot(c);
    for (const name of await listNames(c.abs('threads'))) {
      if (!THREAD_ID.test(name) || stampOf(c.abs(`threads/${name}`)).st?.isDirectory() !== true) {
        c.found(
          `threads/${name}`,
          isTempName(name) ? 'unknown' : 'stray',
          'not a thread directory; left alone',
        );
        continue;
      }
      await checkThread(c, `threads/${name}`);
      if (++c.threads % 1000 === 0) opts.onProgress?.(c.threads);
    }
    const p = await checkStatusIndex(c.dataDir, c.indexed, c.repair);
    const what = `${p.missing} comment(s) missing from the status index (the queue, spam, deleted), ${p.stale} stale`;
    if (p.missing > 0 || (p.stale > 0 && c.repair)) c.found(STATUS, 'incomplete', what, p.repaired);
    const r = await checkRecentIndex(c.dataDir, newestOf(c.approved), c.repair);
    const lacks = `${r.missing} of the newest approved comment(s) missing from the recent-comments index (the feed)`;
    if (r.missing > 0) c.found(RECENT, 'incomplete', lacks, r.repaired);
  }
  return {
    dataDir: c.dataDir,
    threads: c.threads,
    comments: c.comments,
    votes: c.votes,
    issues: c.issues,
    clean: c.issues.every((i) => i.repaired || INFORMATIVE.has(i.problem)),
  };
}

/**
 * DATA itself: quire.json, the secret, settings.json, temps of replaced settings and of the recent index and
 * health probe (derived, never checked further), names it does not know.
 */
async function checkRoot(c: Checker): Promise<void> {
  await c.temps('.');
  // The index's own records are derived and rebuilt when missing: only the temps of its dead writers matter.
  for (const rel of [RECENT, STATUS, ...[...INDEXED, '.writing'].map((d) => `${STATUS}/${d}`)])
    if (stampOf(c.abs(rel)).st?.isDirectory() === true) await c.temps(rel);
  for (const name of await listNames(c.dataDir)) {
    if (!DATA_NAMES.has(name) && !isTempName(name))
      c.found(name, 'unknown', 'not a name of the data directory; left alone');
  }
  const layout = parseJson(await readComplete(c.abs('quire.json')));
  if (layout?.layout !== 1)
    c.found('quire.json', 'unparsable', 'not {"layout": 1}: a layout this version does not know');
  await checkSecret(c);
  const settings = await readComplete(c.abs('settings.json'));
  if (settings !== null) {
    const v = parseJson(settings);
    if (v === null)
      c.found(
        'settings.json',
        'unparsable',
        'not a JSON object: the service ignores it (the configured moderation applies)',
      );
    else if (v.moderation !== undefined && v.moderation !== 'off' && v.moderation !== 'all')
      c.found(
        'settings.json',
        'incomplete',
        `moderation is ${JSON.stringify(v.moderation)}, not "off" or "all": the service ignores it (the configured moderation applies)`,
      );
  }
}

async function checkSecret(c: Checker): Promise<void> {
  const st = stampOf(c.abs('secret')).st;
  if (st === undefined) {
    c.found(
      'secret',
      'missing',
      'no secret: the service makes a new one at start, which ends every session and token',
    );
    return;
  }
  if (st === null || !st.isFile()) {
    c.found('secret', 'unparsable', 'not a readable file');
    return;
  }
  if (st.size !== 32n) c.found('secret', 'secret-size', `${st.size} bytes, not 32`);
  const mode = Number(st.mode & 0o777n);
  if (mode !== 0o600)
    c.found(
      'secret',
      'secret-mode',
      `mode ${mode.toString(8).padStart(4, '0')}, not 0600: chmod 600 it (anyone who reads it can forge admin sessions)`,
    );
}

/** One thread: its spool (temps, names, records), each comment, `.thread.json`, votes, nonce claims. */
async function checkThread(c: Checker, rel: string): Promise<void> {
  const { spool, issues } = await c.temps(rel, RECORD_SUFFIX);
  for (const i of issues) c.found(path.join(rel, i.name), i.problem, i.detail, i.repaired);
  const listed = (await spool.ids()).map(stemOf);
  const stems = new Set(listed);
  await checkMeta(c, rel, stems.size === 0);
  const parents = await mapLimit(listed, READ_CONCURRENCY, (stem) => checkComment(c, rel, spool, stem));
  parents.forEach((parent, i) => {
    if (parent !== null && !stems.has(parent))
      c.found(
        `${rel}/${listed[i]}${RECORD_SUFFIX}`,
        'missing-parent',
        `replies to ${parent}, which is not there`,
      );
  });
  for (const name of await listNames(c.abs(rel))) {
    if (name.startsWith('.') && !THREAD_NAMES.has(name) && !isTempName(name))
      c.found(`${rel}/${name}`, 'unknown', 'not a name the store makes; left alone');
  }
  await checkVotes(c, rel, stems);
  await checkClaims(c, rel);
  await checkQuarantine(c, `${rel}/${QUARANTINE}`);
  // After the quarantine: the index lists only what parses.
  if (c.repair) await rebuildIndex({ dir: c.abs(rel), votesDir: c.abs(`${rel}/.votes`), durable: false });
}

/** What fsck --repair moved aside: told on every run until someone removes it. */
async function checkQuarantine(c: Checker, rel: string): Promise<void> {
  const names = await listNames(c.abs(rel));
  if (names.some(isTempName)) await c.temps(rel);
  for (const name of names.filter((n) => !isTempName(n)))
    c.found(
      `${rel}/${name}`,
      'quarantined',
      'an unparsable comment file moved aside by fsck --repair: look at it, then remove it',
    );
}

/** `.thread.json`: the page of the thread. A directory with neither it nor comments is what a refused post left. */
async function checkMeta(c: Checker, rel: string, noComments: boolean): Promise<void> {
  const file = `${rel}/.thread.json`;
  const buf = await readComplete(c.abs(file));
  const meta = parseJson(buf);
  if (buf === null && noComments) {
    c.found(
      rel,
      'empty-thread',
      'no comments and no .thread.json (a refused post of an earlier version made it): remove it',
    );
  } else if (meta === null) {
    c.found(
      file,
      buf === null ? 'missing' : 'unparsable',
      "the thread's page is unknown: no link in the feed, no title",
    );
  } else if (typeof meta.uri !== 'string') {
    c.found(file, 'incomplete', 'no uri');
  }
}

/** One comment: parses, has every field. Unparsable: moved aside with `repair`. Returns its parent's stem. */
async function checkComment(c: Checker, rel: string, spool: Spool, stem: string): Promise<string | null> {
  const name = `${stem}${RECORD_SUFFIX}`;
  const buf = await spool.get(name);
  // Gone meanwhile, or a writer holds it: nothing to judge.
  if (buf === null) return null;
  const v = parseJson(buf);
  if (v === null || typeof v.text !== 'string') {
    const what = buf.length === 0 ? 'empty (0 bytes)' : v === null ? 'not a JSON object' : 'no text';
    if (c.repair && (await quarantine(c, rel, spool, name, buf))) {
      c.found(`${rel}/${name}`, 'unparsable', `${what}: moved to ${QUARANTINE}/${name}`, true);
    } else {
      c.found(
        `${rel}/${name}`,
        'unparsable',
        `${what}: the service skips it; repair moves it to ${QUARANTINE}/`,
      );
    }
    return null;
  }
  c.comments++;
  const status = INDEXED.find((st) => st === v.status);
  if (status !== undefined) c.indexed.push({ threadId: path.basename(rel), stem, status });
  if (v.status === 'approved') {
    c.approved.push({ threadId: path.basename(rel), stem });
    if (c.approved.length >= 2 * RECENT_KEEP) c.approved = newestOf(c.approved);
  }
  const missing = RECORD_FIELDS.filter((f) => !(f in v));
  if (v.v !== undefined && v.v !== 1) missing.push('v');
  if (v.status !== undefined && !STATUSES.includes(v.status as never)) missing.push('status');
  if (missing.length > 0)
    c.found(
      `${rel}/${name}`,
      'incomplete',
      `missing or invalid: ${[...new Set(missing)].join(', ')} (the service fills in neutral values)`,
    );
  return typeof v.parent === 'string' && COMMENT_STEM.test(v.parent) ? v.parent : null;
}

/** The newest RECENT_KEEP of `entries`, newest first. */
function newestOf(entries: RecentEntry[]): RecentEntry[] {
  return entries.sort((a, b) => compareStems(b.stem, a.stem)).slice(0, RECENT_KEEP);
}

/**
 * Moves an unparsable comment file aside: a copy under `.quarantine/` first (durable), then the record is
 * removed only if it still holds the same bytes, so nothing is ever lost. False if it changed meanwhile.
 */
async function quarantine(
  c: Checker,
  rel: string,
  spool: Spool,
  name: string,
  buf: Buffer,
): Promise<boolean> {
  const target = c.abs(`${rel}/${QUARANTINE}/${name}`);
  try {
    await createExclusive(target, buf, { mkdir: true });
  } catch (err) {
    // Quarantined before (same name: same second and counter), with other bytes: keep both, leave this one.
    if (!isQuireError(err, 'EEXIST') || !(await readComplete(target))?.equals(buf)) return false;
  }
  const now = await spool.get(name);
  if (now === null || !now.equals(buf)) return false;
  return spool.delete(name);
}

/** `.votes/<stem>/<voter>`: every vote for a comment that exists, every name a voter's. */
async function checkVotes(c: Checker, rel: string, stems: ReadonlySet<string>): Promise<void> {
  const votesRel = `${rel}/.votes`;
  for (const stem of await listNames(c.abs(votesRel))) {
    const at = `${votesRel}/${stem}`;
    if (isTempName(stem)) continue;
    if (!COMMENT_STEM.test(stem) || stampOf(c.abs(at)).st?.isDirectory() !== true) {
      c.found(at, 'stray', 'not the vote directory of a comment; left alone');
      continue;
    }
    await c.temps(at);
    const voters = (await listNames(c.abs(at))).filter((n) => !isTempName(n));
    for (const v of voters)
      if (!VOTER.test(v)) c.found(`${at}/${v}`, 'stray', 'not a vote file name; it counts as a like');
    c.votes += voters.length;
    if (!stems.has(stem) && voters.length > 0)
      c.found(
        at,
        'orphan-vote',
        `${voters.length} vote(s) for a comment that does not exist; left alone (remove by hand)`,
      );
  }
}

/** `.nonces/`: claims (sha256 names) and their anchors, nothing else. */
async function checkClaims(c: Checker, rel: string): Promise<void> {
  for (const name of await listNames(c.abs(`${rel}/.nonces`))) {
    if (!NONCE_CLAIM.test(name)) c.found(`${rel}/.nonces/${name}`, 'stray', 'not a nonce claim; left alone');
  }
}

function parseJson(buf: Buffer | null): Record<string, unknown> | null {
  if (buf === null) return null;
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
