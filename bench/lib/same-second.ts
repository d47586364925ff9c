/**
 * The same-second cases: correctness figures, run once each after the timed rounds. Eight processes write into
 * one directory with one fixed time, through createUniqueSync and through the founding blog post's naive loop
 * (exists? then writeFile); a census of the directory counts what survived.
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatStamp } from '@quire/fs';
import { FIXED_TIME, PROCS } from './cases.js';
import { payloadId } from './ops.js';
import { aggregate, type OpsJob, runWorkers } from './procs.js';
import { fmtRate } from './stats.js';
import { renderTable } from './table.js';

export interface Census {
  files: number;
  /** Distinct complete payloads found. */
  ids: number;
  /** Files whose bytes are not one complete payload of ours. */
  bad: number;
}

/** Reads every record in `dir` (temps and dot files aside) and counts the distinct, complete payloads. */
function census(dir: string): Census {
  const ids = new Set<string>();
  let files = 0;
  let bad = 0;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    files++;
    const id = payloadId(fs.readFileSync(path.join(dir, name)));
    if (id === null) bad++;
    else ids.add(id);
  }
  return { files, ids: ids.size, bad };
}

export interface SameSecond {
  label: string;
  writes: number;
  seconds: number;
  census: Census;
  avgAttempts: number;
  maxAttempts: number;
}

export async function sameSecondQuire(
  dir: string,
  perProc: number,
  durable: boolean,
  label: string,
): Promise<SameSecond> {
  const jobs = Array.from(
    { length: PROCS },
    (_, worker): OpsJob => ({
      kind: 'ops',
      op: 'createUniqueSync',
      dir,
      count: perProc,
      concurrency: 1,
      durable,
      targets: 1,
      worker,
      time: FIXED_TIME,
      distinct: true,
    }),
  );
  const a = aggregate(await runWorkers(jobs));
  return {
    label,
    writes: a.ops,
    seconds: a.seconds,
    census: census(dir),
    avgAttempts: a.attempts / a.ops,
    maxAttempts: a.maxAttempts,
  };
}

export async function sameSecondNaive(dir: string, perProc: number): Promise<SameSecond> {
  const stamp = formatStamp(FIXED_TIME);
  const jobs = Array.from({ length: PROCS }, (_, worker) => ({
    kind: 'naive' as const,
    dir,
    count: perProc,
    stamp,
    worker,
  }));
  const a = aggregate(await runWorkers(jobs));
  return {
    label: 'naive loop (exists? then writeFile)',
    writes: a.ops,
    seconds: a.seconds,
    census: census(dir),
    avgAttempts: a.attempts / a.ops,
    maxAttempts: a.maxAttempts,
  };
}

export function sameSecondTable(rows: readonly SameSecond[]): string {
  return renderTable(
    [
      { title: 'writer' },
      { title: 'writes', align: 'right' },
      { title: 'files', align: 'right' },
      { title: 'distinct contents', align: 'right' },
      { title: 'lost', align: 'right' },
      { title: 'damaged', align: 'right' },
      { title: 'link/exists per write: avg', align: 'right' },
      { title: 'max', align: 'right' },
      { title: 'ops/s total', align: 'right' },
    ],
    rows.map((r) => [
      r.label,
      String(r.writes),
      String(r.census.files),
      String(r.census.ids),
      String(r.writes - r.census.ids),
      String(r.census.bad),
      r.avgAttempts.toFixed(2),
      String(r.maxAttempts),
      fmtRate(r.writes / r.seconds),
    ]),
  );
}
