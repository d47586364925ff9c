/** fsck for a spool: what a crash or a stray writer can leave, reported and, on request, repaired. */
import path from 'node:path';
import { errnoCode, toQuireError } from './errors.js';
import { KEYS_DIR, type SpoolContext } from './spool-context.js';
import { replaceName } from './spool-key-files.js';
import { pendingKeyRecord } from './spool-keys.js';
import { call, runAsync, type Steps } from './steps.js';
import { FOREIGN_TEMP_MS, judgeTemp, sweepTemps, type TempVerdict } from './sweep.js';
import { isTempName, parseTempName } from './temp.js';
import { closeReadOnly, retrying } from './transient.js';

/** Options of Spool.check. */
export interface CheckOptions {
  /** Remove dead writers' temps and finish keys whose record exists. Never removes a record. */
  repair?: boolean;
  /** Called with the number of records checked so far, every 10,000 records. */
  onProgress?: (records: number) => void;
}

/** One thing check() found out of place. */
export interface CheckIssue {
  name: string;
  problem: 'dead-temp' | 'live-temp' | 'stray' | 'malformed' | 'unreadable' | 'pending-key';
  detail: string;
  repaired: boolean;
}

/** What check() found. */
export interface CheckReport {
  records: number;
  issues: CheckIssue[];
  /** True when no issue remains unrepaired. */
  clean: boolean;
}

const readdir = (dir: string) => runAsync(retrying({ op: 'readdir', path: dir }));

/** Opens and closes `file` for reading: whether a reader could. */
function* openable(file: string): Steps<void> {
  const fd = yield* retrying({ op: 'open', path: file, flags: 'r' });
  yield* closeReadOnly(fd);
}

/** Spool.check(). */
export async function checkSpool(spool: SpoolContext, opts: CheckOptions): Promise<CheckReport> {
  try {
    const repair = opts.repair === true;
    const issues = await tempIssues(spool.dir, '', repair);
    const records = await checkRecords(spool, issues, opts.onProgress);
    issues.push(...(await checkKeys(spool, repair)));
    return { records, issues, clean: issues.every((i) => i.repaired || i.problem === 'live-temp') };
  } catch (err) {
    throw toQuireError(err, 'check');
  }
}

/** Counts the records, reporting names that are not records of this spool and records that cannot be opened. */
async function checkRecords(
  spool: SpoolContext,
  issues: CheckIssue[],
  onProgress: ((records: number) => void) | undefined,
): Promise<number> {
  let records = 0;
  for (const name of await readdir(spool.dir)) {
    // Dot names are never records: temps (reported apart), lock files and sidecars, and whatever the layer
    // above keeps beside its records (a comment thread's .thread.json, .votes/).
    if (name.startsWith('.')) continue;
    if (spool.recordName(name) === null) {
      const looksLikeRecord = /^\d{8}T\d{6}Z-/.test(name);
      issues.push({
        name,
        problem: looksLikeRecord ? 'malformed' : 'stray',
        detail: looksLikeRecord ? 'record-like name that does not parse for this spool' : 'not a record name',
        repaired: false,
      });
      continue;
    }
    records++;
    if (records % 10_000 === 0) onProgress?.(records);
    try {
      await runAsync(openable(path.join(spool.dir, name)));
    } catch (err) {
      issues.push({ name, problem: 'unreadable', detail: String(errnoCode(err) ?? err), repaired: false });
    }
  }
  return records;
}

/**
 * Temps in `dir`: with `repair`, dead writers' are swept; what remains is reported by the rule sweepTemps uses
 * (judgeTemp), so a temp is said to be removed by repair only when repair removes it.
 */
async function tempIssues(dir: string, label: string, repair: boolean): Promise<CheckIssue[]> {
  const swept = repair ? await sweepTemps(dir, { olderThanMs: FOREIGN_TEMP_MS }) : [];
  const issues: CheckIssue[] = swept.map((s) => ({
    name: label + s.name,
    problem: 'dead-temp',
    detail: s.reason,
    repaired: true,
  }));
  const now = Date.now();
  for (const name of await readdir(dir)) {
    if (!isTempName(name)) continue;
    const verdict = await runAsync(judgeTemp(dir, name, now, FOREIGN_TEMP_MS));
    if (parseTempName(name) === null) {
      issues.push({
        name: label + name,
        problem: 'stray',
        detail: 'a temp-like name this library does not make; left alone',
        repaired: false,
      });
    } else if (verdict !== null) {
      issues.push({ name: label + name, ...describeTemp(verdict), repaired: false });
    }
  }
  return issues;
}

/** What a temp left in place is, in words. */
function describeTemp(v: TempVerdict): Pick<CheckIssue, 'problem' | 'detail'> {
  const problem = v.dead ? 'dead-temp' : 'live-temp';
  if (v.mine) {
    return {
      problem,
      detail: v.dead
        ? `writer pid ${v.temp.pid} is gone; repair removes it`
        : `writer pid ${v.temp.pid} is at work`,
    };
  }
  // A writer on another host cannot be asked whether it lives: its temp counts as live until it is an hour old.
  const of =
    v.temp.hostId === null
      ? `named by an earlier version (host ${v.temp.host})`
      : `of host id ${v.temp.host}`;
  const min = Math.round((v.ageMs ?? 0) / 60_000);
  return {
    problem,
    detail: v.dead
      ? `${of}, over an hour old; repair removes it`
      : `${of}, written ${min} min ago: repair removes it once over an hour old`,
  };
}

async function checkKeys(spool: SpoolContext, repair: boolean): Promise<CheckIssue[]> {
  const keysDir = path.join(spool.dir, KEYS_DIR);
  let names: string[];
  try {
    names = await readdir(keysDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const issues = await tempIssues(keysDir, `${KEYS_DIR}/`, repair);
  for (const h of names) {
    if (!/^[0-9a-f]{64}$/.test(h)) continue;
    // An intent without a record is harmless (a retry publishes the record); one whose record exists but whose
    // id was never written is what an append that died after publishing leaves.
    const lock = await spool.lock('key', h);
    try {
      const found = await pendingKeyRecord(spool, h);
      if (found === null) continue;
      // An id may exist but be empty (an earlier version's file, written without fsync, cut by a crash).
      if (repair) {
        await replaceName(path.join(keysDir, `${h}.id`), { target: found });
        if (spool.durable) await runAsync(call({ op: 'syncDir', dir: keysDir }));
      }
      issues.push({
        name: `${KEYS_DIR}/${h}`,
        problem: 'pending-key',
        detail: `an append with this key died after publishing ${found}; repair records the id`,
        repaired: repair,
      });
    } finally {
      await lock.release();
    }
  }
  return issues;
}
