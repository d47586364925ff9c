/**
 * `npm run bench`: @quire/fs against the physical limit (a C program doing the same syscalls) and against the
 * anchor libraries, in one run, on the same filesystem, 1 KiB payloads. See bench/README.md.
 *
 * The machine is shared and noisy, so every case runs once per round and the rounds repeat (median of N): cases
 * compared against each other run back to back within a round, and each ratio is the median of the per-round
 * ratios, which cancels drift in the machine's load better than a ratio of two medians.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatStamp, implementation } from '@quire/fs';
import { type AbuseResult, abuseBench, abuseTable } from './lib/abuse.js';
import { pairKey, runPairs } from './lib/fs-pairs.js';
import { cRefOf, fsPairs, fsReport } from './lib/fs-report.js';
import { type HostsResult, hostsBench, hostsTable } from './lib/hosts.js';
import { type ImportResult, importBench, importTable } from './lib/import.js';
import { haveWrk, type LoadTool } from './lib/load.js';
import { describeMachine, loadAverage } from './lib/machine.js';
import {
  drive,
  isQuireOp,
  isSyncOp,
  JIT_WARMUP,
  OP_NAMES,
  type OpName,
  PAYLOAD_BYTES,
  payloadId,
  prepareOp,
} from './lib/ops.js';
import {
  type Aggregate,
  aggregate,
  type CJob,
  compileC,
  type OpsJob,
  runC,
  runWorkers,
} from './lib/procs.js';
import { Scratch } from './lib/scratch.js';
import {
  mountJournaledExt4,
  type Place,
  type ServiceResult,
  serviceBench,
  serviceTable,
} from './lib/service.js';
import { siteBench } from './lib/site-bench.js';
import { type SpoolListResult, spoolList } from './lib/spool-list.js';
import { measureStartup } from './lib/startup.js';
import { fmtRate, fmtRatio, fmtSeconds, median } from './lib/stats.js';
import { renderTable } from './lib/table.js';

const USAGE = `usage: npm run bench -- [--quick] [--runs N] [--only NAME[,NAME...]] [--list] [--help]

  --quick      about a fifth of the operations per run and 3 runs (a smoke test: numbers are noisier)
  --runs N     rounds per case (default 5; at least 3); the table shows the median
  --only NAME  run only the cases whose id or tag contains NAME (repeatable or comma-separated), e.g.
               --only group, --only replace, --only contention, --only naive, --only c-publish
  --import-size N[:PAGES]
               the import case's Disqus file: N comments on PAGES pages (default 50000:100; 10000:100 with
               --quick), e.g. --only import --import-size 500000:1000 for issue 14's 500,000
  --load TOOL  HTTP load for the service case: wrk, autocannon or both (default: both when wrk is installed,
               apt-get install wrk; the two disagree, see bench/README.md)
  --site-scale F  size of the \`site\` case's data set: 1 (default) is the issue's 1,000,000 comments in 10,000
               threads; 0.01 makes 10,000 in 100 (quick runs). Generated once per size, kept in
               $QUIRE_BENCH_CACHE (default ${os.tmpdir()}/quire-bench-cache)
  --site-steps LIST  only these steps of the \`site\` case (comma-separated; default all): cold, big, counts,
               queue (the feed and the admin queue), every (a GET of every thread: RSS), mixed, whole (fsck, export)
  --pairs N    chunks per pair for issue 17's targets (each quire call back to back with the C program doing
               its syscalls; default 24, 8 with --quick; 0: ratios from the rounds only)
  --list       list the case ids and tags, then exit
  --help       this text

Runs in a fresh directory under ${os.tmpdir()} (set TMPDIR to measure another filesystem), removed afterwards.
Needs a C compiler (cc, or $CC) for the baseline; without one the C rows are skipped.`;

interface Cli {
  quick: boolean;
  /** The import case's comments and pages; undefined: the default for --quick or not. */
  importSize: { comments: number; pages: number } | undefined;
  load: LoadTool | 'both' | undefined;
  runs: number;
  only: string[];
  list: boolean;
  siteScale: number;
  /** Steps of the site case to run; undefined: all. */
  siteSteps: Set<string> | undefined;
  /** Chunks per pair in the paired phase (-1 until parsed: the default for --quick or not). */
  pairs: number;
}

function parseArgs(argv: readonly string[]): Cli {
  const cli: Cli = {
    quick: false,
    importSize: undefined,
    load: undefined,
    runs: 0,
    only: [],
    list: false,
    siteScale: 1,
    siteSteps: undefined,
    pairs: -1,
  };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++k];
      if (v === undefined || v === '') usage(`${a} needs a value`);
      return v;
    };
    if (a === '--help' || a === '-h') usage();
    else if (a === '--quick') cli.quick = true;
    else if (a === '--list') cli.list = true;
    else if (a === '--load' || a.startsWith('--load=')) {
      const v = value();
      if (v !== 'wrk' && v !== 'autocannon' && v !== 'both') usage('--load must be wrk, autocannon or both');
      cli.load = v;
    } else if (a === '--import-size' || a.startsWith('--import-size=')) {
      const [comments, pages = 100] = value().split(':').map(Number);
      if (!Number.isInteger(comments) || comments! < 1 || !Number.isInteger(pages) || pages < 1)
        usage('--import-size must be N or N:PAGES, positive integers');
      cli.importSize = { comments: comments!, pages };
    } else if (a === '--runs' || a.startsWith('--runs=')) cli.runs = Number(value());
    else if (a === '--only' || a.startsWith('--only=')) cli.only.push(...value().split(',').filter(Boolean));
    else if (a === '--site-scale' || a.startsWith('--site-scale=')) cli.siteScale = Number(value());
    else if (a === '--site-steps' || a.startsWith('--site-steps='))
      cli.siteSteps = new Set(value().split(',').filter(Boolean));
    else if (a === '--pairs' || a.startsWith('--pairs=')) {
      cli.pairs = Number(value());
      if (!Number.isInteger(cli.pairs) || cli.pairs < 0) usage('--pairs must be an integer >= 0');
    } else usage(`unknown argument ${a}`);
  }
  if (!(cli.siteScale > 0 && cli.siteScale <= 1)) usage('--site-scale must be a number in (0, 1]');
  if (cli.runs === 0) cli.runs = cli.quick ? 3 : 5;
  if (cli.pairs < 0) cli.pairs = cli.quick ? 8 : 24;
  if (!Number.isInteger(cli.runs) || cli.runs < 3)
    usage('--runs must be an integer >= 3 (medians of fewer lie)');
  return cli;
}

function usage(error?: string): never {
  if (error) {
    process.stderr.write(`bench: ${error}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------------
// The cases

type Durability = 'file+dir fsync' | 'file+dir fsync (caller)' | 'file fsync, NO dir fsync' | 'none';

interface Case {
  id: string;
  /** Extra words --only matches (e.g. `group` for the group-commit trio). */
  tags: string[];
  label: string;
  api: 'C' | 'sync' | 'async';
  inFlight: string;
  durability: Durability;
  /** Operations per run (all processes together). */
  ops: number;
  /** Case ids this row's ratios are taken against. */
  refs: { c?: string; wfa?: string; c1?: string };
  /**
   * `dir` is the timed directory; `warmDir` another fresh one for untimed warm-up calls (`warmup` of them when
   * given, for the in-process cases; else the bench's default).
   */
  run(dir: string, warmDir: string, ops: number, warmup?: number): Promise<Aggregate>;
}

/** A fixed second for the same-second cases: every writer competes for the same names. */
const FIXED_TIME = Date.UTC(2026, 10, 26, 10, 15, 0);
const PROCS = 8;
const POOL = 64;

function buildCases(scale: number, warmup: number, haveC: boolean): Case[] {
  const n = (x: number, multipleOf = 1) =>
    Math.max(multipleOf, Math.round((x * scale) / multipleOf) * multipleOf);
  const durableOps = n(600);
  const fastOps = n(3000);
  const concOps = n(1600, 32);
  const procOps = n(1600, PROCS);
  const cases: Case[] = [];

  const c = (
    id: string,
    label: string,
    rename: boolean,
    sync: CJob['sync'],
    procs: number,
    ops: number,
    how: { tmpfile?: boolean; threads?: number; tags?: string[] } = {},
  ) => {
    if (!haveC) return;
    cases.push({
      id,
      tags: ['c', 'baseline', ...(how.tags ?? [])],
      label,
      api: 'C',
      inFlight: procs > 1 ? `${procs} proc` : how.threads ? `${how.threads} threads` : '1',
      durability:
        sync === 'durable' ? 'file+dir fsync' : sync === 'nodirsync' ? 'file fsync, NO dir fsync' : 'none',
      ops,
      refs: {},
      run: async (dir, _warmDir, ops) =>
        aggregate(
          await runC(
            Array.from({ length: procs }, () => ({ rename, sync, count: ops / procs, dir, ...how })),
          ),
        ),
    });
  };

  /** One process (this one), `concurrency` async calls in flight (sync ops: one after another). */
  const inProc = (
    id: string,
    op: OpName,
    durable: boolean,
    concurrency: number,
    ops: number,
    refs: Case['refs'],
    tags: string[] = [],
  ) => {
    const sync = isSyncOp(op);
    cases.push({
      id,
      tags,
      label: opLabel(op),
      api: sync ? 'sync' : 'async',
      inFlight: String(concurrency),
      durability: durabilityOf(op, durable),
      ops,
      refs,
      run: async (dir, warmDir, ops, warm = warmup) => {
        // Overwrites use one target per call in flight: replaceFile queues concurrent calls to one path.
        const base = { op, durable, targets: concurrency, worker: 0 };
        await drive(prepareOp({ ...base, dir: warmDir }), sync, warm, concurrency);
        const r = await drive(prepareOp({ ...base, dir }), sync, ops, concurrency);
        return {
          seconds: Number(r.end - r.start) / 1e9,
          ops: r.ops,
          attempts: r.attempts,
          maxAttempts: r.maxAttempts,
          cpuUs: r.cpuUs,
        };
      },
    });
  };

  /** `procs` worker processes released together, or one child with a different environment. */
  const inWorkers = (
    id: string,
    op: OpName,
    procs: number,
    concurrency: number,
    ops: number,
    refs: Case['refs'],
    env: NodeJS.ProcessEnv = {},
    tags: string[] = [],
  ) => {
    cases.push({
      id,
      tags,
      label: env.QUIRE_FS_PURE_JS === '1' ? `${op}, pure JS` : op,
      api: isSyncOp(op) ? 'sync' : 'async',
      inFlight: procs > 1 ? `${procs} proc` : `${concurrency}, pool ${env.UV_THREADPOOL_SIZE ?? 4}`,
      durability: 'file+dir fsync',
      ops,
      refs,
      run: async (dir, warmDir, ops) => {
        const jobs = Array.from(
          { length: procs },
          (_, worker): OpsJob => ({
            kind: 'ops',
            op,
            dir,
            count: ops / procs,
            concurrency,
            durable: true,
            // All processes overwrite the one file: the realistic contention for a replaced file.
            targets: 1,
            worker,
            // Several workers warm up at once, so each needs fewer calls.
            warmup: Math.ceil(warmup / procs),
            warmDir,
          }),
        );
        return aggregate(await runWorkers(jobs, env));
      },
    });
  };

  // One writer, one call at a time. The rows that a target compares run next to each other. This process runs
  // @quire/fs's default implementation (the native addon on Linux: compared with the C program doing its
  // syscalls, O_TMPFILE + linkat); the `-js` rows run the pure-JS protocol in a child with QUIRE_FS_PURE_JS=1
  // (compared with the C program doing its syscalls, a named temp + link).
  const native = implementation === 'native';
  const cPublish = native ? 'c-publish-tmpfile' : 'c-publish';
  const cRename = native ? 'c-rename-tmpfile' : 'c-rename';
  const fsTags = ['fs'];
  const js = { QUIRE_FS_PURE_JS: '1' };
  c('c-publish', 'C: durable publish (link)', false, 'durable', 1, durableOps, { tags: fsTags });
  c('c-publish-tmpfile', 'C: durable publish (O_TMPFILE)', false, 'durable', 1, durableOps, {
    tmpfile: true,
    tags: fsTags,
  });
  inProc('createUniqueSync', 'createUniqueSync', true, 1, durableOps, { c: cPublish }, fsTags);
  inWorkers('createUniqueSync-js', 'createUniqueSync', 1, 1, durableOps, { c: 'c-publish' }, js, fsTags);
  inProc('createUnique', 'createUnique', true, 1, durableOps, { c: cPublish }, ['group', 'fs']);
  inWorkers('createUnique-js', 'createUnique', 1, 1, durableOps, { c: 'c-publish' }, js, fsTags);
  inProc('createExclusiveSync', 'createExclusiveSync', true, 1, durableOps, { c: cPublish }, fsTags);
  inWorkers(
    'createExclusiveSync-js',
    'createExclusiveSync',
    1,
    1,
    durableOps,
    { c: 'c-publish' },
    js,
    fsTags,
  );
  inProc('createExclusive', 'createExclusive', true, 1, durableOps, { c: cPublish }, fsTags);
  inWorkers('createExclusive-js', 'createExclusive', 1, 1, durableOps, { c: 'c-publish' }, js, fsTags);
  c('c-rename', 'C: durable overwrite (rename)', true, 'durable', 1, durableOps, { tags: fsTags });
  c('c-rename-tmpfile', 'C: durable overwrite (O_TMPFILE)', true, 'durable', 1, durableOps, {
    tmpfile: true,
    tags: fsTags,
  });
  inWorkers('replaceFileSync-js', 'replaceFileSync', 1, 1, durableOps, { c: 'c-rename' }, js, fsTags);
  inWorkers('replaceFile-js', 'replaceFile', 1, 1, durableOps, { c: 'c-rename' }, js, fsTags);
  c('c-rename-nodirsync', 'C: overwrite, file fsync only', true, 'nodirsync', 1, durableOps);
  const anchor = ['anchor'];
  inProc('replaceFileSync', 'replaceFileSync', true, 1, durableOps, { c: cRename, wfa: 'wfa-sync' }, fsTags);
  inProc('wfa-sync', 'wfaSync', true, 1, durableOps, { c: 'c-rename-nodirsync', wfa: 'wfa-sync' }, anchor);
  inProc(
    'wfa-sync-dirsync',
    'wfaSyncDirsync',
    true,
    1,
    durableOps,
    { c: 'c-rename', wfa: 'wfa-sync' },
    anchor,
  );
  inProc(
    'atomically-sync',
    'atomicallySync',
    true,
    1,
    durableOps,
    { c: 'c-rename-nodirsync', wfa: 'wfa-sync' },
    anchor,
  );
  inProc('replaceFile', 'replaceFile', true, 1, durableOps, { c: cRename, wfa: 'wfa-async' }, fsTags);
  inProc('wfa-async', 'wfa', true, 1, durableOps, { c: 'c-rename-nodirsync', wfa: 'wfa-async' }, anchor);
  inProc('wfa-async-dirsync', 'wfaDirsync', true, 1, durableOps, { c: 'c-rename', wfa: 'wfa-async' }, anchor);
  inProc(
    'atomically-async',
    'atomically',
    true,
    1,
    durableOps,
    { c: 'c-rename-nodirsync', wfa: 'wfa-async' },
    anchor,
  );
  inProc('steno-async', 'steno', true, 1, fastOps, { c: 'c-rename-nosync', wfa: 'wfa-async' }, anchor);

  // durable:false: the same protocol without fsync (and the C program without fsync).
  c('c-publish-nosync', 'C: publish, no fsync', false, 'nosync', 1, fastOps);
  for (const op of ['createUniqueSync', 'createUnique', 'createExclusiveSync', 'createExclusive'] as const) {
    inProc(`${op}-nosync`, op, false, 1, fastOps, { c: 'c-publish-nosync' });
  }
  c('c-rename-nosync', 'C: overwrite, no fsync', true, 'nosync', 1, fastOps);
  inProc('replaceFileSync-nosync', 'replaceFileSync', false, 1, fastOps, { c: 'c-rename-nosync' });
  inProc('replaceFile-nosync', 'replaceFile', false, 1, fastOps, {
    c: 'c-rename-nosync',
    wfa: 'steno-async',
  });

  // Async calls in flight at once in one process (overwrites: one file per call in flight).
  for (const k of [8, 32]) {
    const tags = k === 32 ? ['group', 'fs'] : [];
    inProc(
      `createUnique-c${k}`,
      'createUnique',
      true,
      k,
      concOps,
      { c: k === 32 ? `${cPublish}-t32` : cPublish, c1: 'createUnique' },
      tags,
    );
    inProc(`createExclusive-c${k}`, 'createExclusive', true, k, concOps, {
      c: 'c-publish',
      c1: 'createExclusive',
    });
    inProc(`replaceFile-c${k}`, 'replaceFile', true, k, concOps, { c: 'c-rename', c1: 'replaceFile' });
  }
  // 32 in flight against 32 C threads doing the same syscalls, and the pure-JS protocol's 32 in flight.
  c('c-publish-t32', 'C: durable publish (link)', false, 'durable', 1, concOps, {
    threads: 32,
    tags: fsTags,
  });
  c('c-publish-tmpfile-t32', 'C: durable publish (O_TMPFILE)', false, 'durable', 1, concOps, {
    tmpfile: true,
    threads: 32,
    tags: fsTags,
  });
  inWorkers(
    'createUnique-c32-js',
    'createUnique',
    1,
    32,
    concOps,
    { c: 'c-publish-t32', c1: 'createUnique-js' },
    js,
    fsTags,
  );
  // The same 32 calls with a thread for each, in a child process (a process reads the pool size once).
  inWorkers(
    `createUnique-c32-pool${POOL}`,
    'createUnique',
    1,
    32,
    concOps,
    { c: 'c-publish', c1: 'createUnique' },
    { UV_THREADPOOL_SIZE: String(POOL) },
    ['group'],
  );

  // Several processes, sync API, one directory.
  c(`c-publish-p${PROCS}`, 'C: durable publish (link)', false, 'durable', PROCS, procOps);
  inWorkers(`createUniqueSync-p${PROCS}`, 'createUniqueSync', PROCS, 1, procOps, {
    c: `c-publish-p${PROCS}`,
    c1: 'createUniqueSync',
  });
  inWorkers(`createExclusiveSync-p${PROCS}`, 'createExclusiveSync', PROCS, 1, procOps, {
    c: `c-publish-p${PROCS}`,
    c1: 'createExclusiveSync',
  });
  c(`c-rename-p${PROCS}`, 'C: durable overwrite (rename)', true, 'durable', PROCS, procOps);
  inWorkers(`replaceFileSync-p${PROCS}`, 'replaceFileSync', PROCS, 1, procOps, {
    c: `c-rename-p${PROCS}`,
    c1: 'replaceFileSync',
  });
  return cases;
}

function durabilityOf(op: OpName, durable: boolean): Durability {
  if (op === 'steno' || !durable) return 'none';
  if (op === 'wfaDirsync' || op === 'wfaSyncDirsync') return 'file+dir fsync (caller)';
  if (/^(wfa|atomically)/.test(op)) return 'file fsync, NO dir fsync';
  return 'file+dir fsync';
}

function opLabel(op: OpName): string {
  switch (op) {
    case 'wfa':
    case 'wfaSync':
      return 'write-file-atomic';
    case 'wfaDirsync':
    case 'wfaSyncDirsync':
      return 'write-file-atomic + dir fsync';
    case 'atomically':
    case 'atomicallySync':
      return 'atomically';
    case 'steno':
      return 'steno';
    default:
      return op;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The same-second cases: correctness figures, run once each after the timed rounds

interface Census {
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

interface SameSecond {
  label: string;
  writes: number;
  seconds: number;
  census: Census;
  avgAttempts: number;
  maxAttempts: number;
}

async function sameSecondQuire(
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

async function sameSecondNaive(dir: string, perProc: number): Promise<SameSecond> {
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

// ---------------------------------------------------------------------------------------------------------------
// Orchestration

interface Sample {
  rate: number;
  /** CPU time (user + system, all threads of all processes of the case) per operation, microseconds. */
  cpuPerOp: number;
}

/** The last progress line, for the message of a run stopped by a signal. */
let lastProgress = 'the start';

function progress(line: string): void {
  lastProgress = line;
  process.stderr.write(`${line}\n`);
}

function matches(only: readonly string[], id: string, tags: readonly string[] = []): boolean {
  if (only.length === 0) return true;
  const words = [id, ...tags].map((w) => w.toLowerCase());
  return only.some((o) => words.some((w) => w.includes(o.toLowerCase())));
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  const scale = cli.quick ? 0.2 : 1;
  // Untimed calls before each run, in a directory of their own (code paths and caches warm, not the timed dir).
  const warmup = cli.quick ? 4 : 16;
  const compiled = compileC();
  const allCases = buildCases(scale, warmup, compiled.ok);
  const specials = [
    { id: 'contention', tags: ['same-second'] },
    { id: 'naive', tags: ['same-second'] },
    { id: 'spool-list', tags: ['spool'] },
    { id: 'service', tags: ['http'] },
    { id: 'abuse', tags: ['security'] },
    { id: 'import', tags: ['port'] },
    { id: 'hosts', tags: ['gluster', 'several-hosts'] },
    { id: 'site', tags: ['scale'] },
  ];
  if (cli.list) {
    for (const c of allCases)
      process.stdout.write(`${c.id}${c.tags.length ? `  [${c.tags.join(', ')}]` : ''}\n`);
    for (const s of specials) process.stdout.write(`${s.id}  [${s.tags.join(', ')}]\n`);
    return;
  }
  const cases = allCases.filter((c) => matches(cli.only, c.id, c.tags));
  const runSpecial = (id: string) => specials.some((s) => s.id === id && matches(cli.only, s.id, s.tags));
  if (cases.length === 0 && !specials.some((s) => runSpecial(s.id))) {
    usage(`--only ${cli.only.join(',')} matches no case (see --list)`);
  }

  const scratch = new Scratch();
  live = scratch;
  const root = scratch.root;
  const unmounts: (() => void)[] = [];
  const cleanup = () => {
    for (const unmount of unmounts.splice(0)) {
      try {
        unmount();
      } catch (err) {
        progress(`bench: unmount failed: ${(err as Error).message}`);
      }
    }
    scratch.remove();
  };
  // A run stopped from outside says so, and where (a 5-round run once vanished after round 1 without a word:
  // another session's SIGTERM, meant for its own bench). SIGKILL (the OOM killer's) cannot be caught.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(signal, () => {
      progress(`bench: stopped by ${signal} (pid ${process.pid}) after: ${lastProgress}`);
      cleanup();
      process.exit(code);
    });
  }

  const machine = describeMachine(root);
  const loadBefore = loadAverage();
  const began = Date.now();
  progress(`bench: ${cases.length} cases × ${cli.runs} rounds in ${root}${cli.quick ? ' (--quick)' : ''}`);
  if (!scratch.spread) progress('bench: chattr +T failed: runs may share block groups (see lib/scratch.ts)');
  if (!compiled.ok) progress(`bench: no C baseline: ${compiled.why}`);

  // This process runs the in-process cases: compile their code before the first round is timed (the workers do
  // the same for themselves).
  if (cases.length > 0) {
    progress('bench: warming up');
    for (const op of OP_NAMES) {
      const quire = isQuireOp(op);
      const fn = prepareOp({ op, dir: scratch.fresh(`jit-${op}`), durable: !quire, targets: 1, worker: 0 });
      await drive(fn, isSyncOp(op), quire ? JIT_WARMUP : 20, 1);
    }
  }

  // Rounds: every case once per round, so that slow drifts in the machine's load hit all cases alike; odd rounds
  // run the list backwards, so that neither case of a compared pair always runs right after the other.
  const samples = new Map<string, Sample[]>(cases.map((c) => [c.id, []]));
  for (let round = 0; round < cli.runs; round++) {
    for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
      const a = await c.run(scratch.fresh(`${c.id}-${round}`), scratch.fresh(`${c.id}-${round}.warm`), c.ops);
      const s: Sample = {
        rate: a.ops / a.seconds,
        cpuPerOp: a.cpuUs / a.ops,
      };
      samples.get(c.id)!.push(s);
      progress(
        `[${round + 1}/${cli.runs}] ${c.id.padEnd(30)} ${fmtRate(s.rate).padStart(7)} ops/s  (${a.ops} ops in ${fmtSeconds(a.seconds)})`,
      );
    }
  }

  // Issue 17's targets, timed again in short paired chunks (lib/fs-pairs.ts says why), then the start-up cost.
  const fsTargets = fsPairs(cases, implementation === 'native', cli.quick ? 20 : 40, 320);
  const pairs = cli.pairs > 0 ? fsTargets : [];
  if (pairs.length > 0)
    progress(`bench: ${pairs.length} pairs × ${cli.pairs} chunks (quire vs C, back to back)`);
  const paired = await runPairs(pairs, cli.pairs, (label) => scratch.fresh(label), progress);
  const startup =
    fsTargets.length > 0
      ? measureStartup(cli.quick ? 7 : 21, scratch.fresh('startup-spool'), scratch.fresh('startup-module'))
      : undefined;

  const perProc = cli.quick ? 200 : 1000;
  const naivePerProc = cli.quick ? 100 : 250;
  const sameSecond: SameSecond[] = [];
  const naiveRows: SameSecond[] = [];
  const special = async (name: string, f: (dir: string) => Promise<SameSecond>, into: SameSecond[]) => {
    const r = await f(scratch.fresh(name));
    into.push(r);
    progress(
      `[same second] ${r.label}: ${r.writes} writes, ${r.census.files} files, ${r.census.ids} distinct contents, ` +
        `${r.avgAttempts.toFixed(2)} attempts/write (${fmtSeconds(r.seconds)})`,
    );
  };
  if (runSpecial('contention')) {
    await special(
      'contention',
      (d) => sameSecondQuire(d, perProc, true, 'createUniqueSync (durable)'),
      sameSecond,
    );
    await special(
      'contention-nosync',
      (d) => sameSecondQuire(d, perProc, false, 'createUniqueSync (durable:false)'),
      sameSecond,
    );
  }
  if (runSpecial('naive')) {
    await special('naive', (d) => sameSecondNaive(d, naivePerProc), naiveRows);
    await special(
      'naive-quire',
      (d) => sameSecondQuire(d, naivePerProc, false, 'createUniqueSync (durable:false)'),
      naiveRows,
    );
  }
  let listed: SpoolListResult | undefined;
  if (runSpecial('spool-list')) {
    const records = cli.quick ? 20_000 : 100_000;
    progress(
      `[spool] creating ${records} records, then timing list({ reverse: true, limit: 50 }) vs readdir`,
    );
    listed = await spoolList(scratch.fresh('spool-list'), records);
    progress(
      `[spool] readdir ${listed.readdirMs.toFixed(1)} ms, newest 50 ${listed.newest50Ms.toFixed(1)} ms`,
    );
  }
  let imported: ImportResult | undefined;
  if (runSpecial('import')) {
    const { comments, pages } = cli.importSize ?? { comments: cli.quick ? 10_000 : 50_000, pages: 100 };
    progress(`[import] ${comments} comments on ${pages} pages: bare createUnique, then quire import disqus`);
    imported = await importBench(scratch.fresh('import'), comments, pages);
  }
  const services: ServiceResult[] = [];
  if (runSpecial('service')) {
    const wrk = haveWrk();
    const load = cli.load ?? (wrk ? 'both' : 'autocannon');
    const tools: LoadTool[] = load === 'both' ? ['wrk', 'autocannon'] : [load];
    if (cli.load === undefined && !wrk) {
      progress(
        '[service] wrk is not installed (apt-get install wrk): autocannon only, whose own CPU use skews the ratios',
      );
    }
    const places: Place[] = [];
    const skipped: string[] = [];
    for (const tool of tools) {
      const tmp = scratch.fresh(`service-${tool}`);
      places.splice(0, places.length, { label: 'temp dir', fs: machine.fs, dir: tmp });
      const image = mountJournaledExt4(scratch.fresh(`service-image-${tool}`));
      if (typeof image === 'string') skipped.push(image);
      else {
        unmounts.push(image.unmount);
        places.push(image.place);
      }
      progress(
        `[service] ${tool}: durable POSTs with 32 connections vs createUnique with 32 in flight, on ` +
          `${places.map((p) => p.label).join(' and ')}; then GETs of a 200-comment page vs bare node:http`,
      );
      services.push(
        await serviceBench(
          {
            tool,
            places,
            rounds: cli.quick ? 1 : 3,
            libraryOps: cli.quick ? 1000 : 4000,
            warmSeconds: cli.quick ? 1 : 2,
            warmOps: cli.quick ? 500 : 2000,
            postSeconds: cli.quick ? 2 : 4,
            getSeconds: cli.quick ? 2 : 4,
            scratch: tmp,
            progress,
          },
          [...new Set(skipped)],
        ),
      );
    }
    for (const why of new Set(skipped)) progress(`[service] skipped: ${why}`);
  }
  let abuse: AbuseResult | undefined;
  if (runSpecial('abuse')) {
    abuse = await abuseBench({
      scratch: scratch.fresh('abuse'),
      seconds: cli.quick ? 5 : 15,
      victimRate: 8,
      seedThreads: cli.quick ? 2000 : 10_000,
      slowSockets: cli.quick ? 1000 : 5000,
      progress,
    });
  }
  let hosts: HostsResult | undefined;
  if (runSpecial('hosts')) {
    hosts = await hostsBench({
      profiles: ['strict', 'default'],
      seconds: cli.quick ? 3 : 8,
      concurrency: 16,
      progress,
    });
  }
  let site: string | undefined;
  if (runSpecial('site')) {
    site = await siteBench({
      scale: cli.siteScale,
      quick: cli.quick,
      scratch: scratch.fresh('site'),
      progress,
      steps: cli.siteSteps,
    });
  }
  progress(`bench: removing ${root}`);
  cleanup();

  // -------------------------------------------------------------------------------------------------------------
  // Report (stdout)
  const med = (id: string | undefined) => {
    const s = id === undefined ? undefined : samples.get(id);
    return s && s.length > 0 ? median(s.map((x) => x.rate)) : undefined;
  };
  /** Median over rounds of a/b measured in the same round. */
  const roundRatio = (a: string, b: string | undefined): number | undefined => {
    const sa = samples.get(a);
    const sb = b === undefined ? undefined : samples.get(b);
    if (!sa || !sb || sa.length === 0 || sa.length !== sb.length) return undefined;
    return median(sa.map((x, k) => x.rate / sb[k]!.rate));
  };
  /** a/b: from the paired chunks where the pair was timed so (issue 17's targets), else from the rounds. */
  const ratio = (a: string, b: string | undefined): number | undefined =>
    (b === undefined ? undefined : paired.get(pairKey(a, b))?.median) ?? roundRatio(a, b);

  const out: string[] = [];
  const say = (s = '') => out.push(s);
  say(`# @quire/fs benchmark, ${new Date(began).toISOString()}${cli.quick ? ' (--quick)' : ''}`);
  say();
  say(`machine: ${machine.cpus}; ${machine.kernel}; temp dir on ${machine.fs}; Node ${machine.node}`);
  say(`libuv pool: ${machine.pool}; C: ${compiled.ok ? compiled.cc : `skipped: ${compiled.why}`}`);
  say(
    scratch.spread
      ? 'each run in a fresh directory of its own block group (chattr +T on the bench root); nothing deleted until the end'
      : 'each run in a fresh directory (chattr +T unavailable: runs may share block groups); nothing deleted until the end',
  );
  say(
    `load average (1, 5, 15 min): ${loadBefore} at start, ${loadAverage()} at end; took ${fmtSeconds((Date.now() - began) / 1000)}`,
  );
  say(
    `${PAYLOAD_BYTES}-byte payloads; ops/s = median of ${cli.runs} rounds; ratios = median of per-round ratios ` +
      '(cases run back to back within a round).',
  );
  say();
  if (cases.length > 0) {
    const rows = cases.map((c) => {
      const s = samples.get(c.id)!;
      const rates = s.map((x) => x.rate);
      return [
        c.id,
        c.label,
        c.api,
        c.inFlight,
        c.durability,
        fmtRate(median(rates)),
        `${fmtRate(Math.min(...rates))}–${fmtRate(Math.max(...rates))}`,
        median(s.map((x) => x.cpuPerOp)).toFixed(0),
        fmtRatio(ratio(c.id, c.refs.c)),
        fmtRatio(ratio(c.id, c.refs.wfa)),
        fmtRatio(ratio(c.id, c.refs.c1)),
      ];
    });
    say(
      renderTable(
        [
          { title: 'case' },
          { title: 'what' },
          { title: 'API' },
          { title: 'in flight' },
          { title: 'durability' },
          { title: 'ops/s', align: 'right' },
          { title: 'min–max', align: 'right' },
          { title: 'CPU µs/op', align: 'right' },
          { title: 'vs C', align: 'right' },
          { title: 'vs wfa', align: 'right' },
          { title: 'vs 1 at a time', align: 'right' },
        ],
        rows,
      ),
    );
    say();
    say('vs C: against the C program doing the same syscalls at the same durability (publish rows: link;');
    say(
      '  overwrite rows: rename; write-file-atomic and atomically: rename with the file fsync only; no-fsync',
    );
    say('  rows: the C program without fsync; 8-process rows: the C program in 8 processes).');
    if (paired.size > 0)
      say('  Rows with an issue 17 target: the median of the paired chunks (see below), not of the rounds.');
    say('vs wfa: against write-file-atomic with the same API style (sync vs sync, async vs async), which');
    say('  fsyncs the file but NOT the directory: after a power cut its rename may be gone (the old content');
    say(
      '  back). atomically does the same; steno never fsyncs. quire durable rows fsync file and directory.',
    );
    say('vs 1 at a time: the same calls with one in flight (for the 8-process rows: one sync process).');
    say('CPU µs/op: user + system time of every thread of every process of the case, per operation (2 vCPUs');
    say('  give at most 2,000,000 µs per second: a case near 2e6 / ops/s is CPU-bound, not disk-bound).');
    say();
  }

  const checks: { what: string; value: string; ok: boolean | undefined }[] = [];
  const target = (what: string, r: number | undefined, ok: (x: number) => boolean) =>
    checks.push({ what, value: fmtRatio(r), ok: r === undefined ? undefined : ok(r) });

  const gc = ratio('createUnique-c32', 'createUnique');
  const gcPool = ratio(`createUnique-c32-pool${POOL}`, 'createUnique');
  if (gc !== undefined || gcPool !== undefined) {
    say(
      '## Group commit: 32 concurrent async createUnique into one directory vs the same calls one at a time',
    );
    say();
    say(
      `- one at a time: ${fmtRate(med('createUnique') ?? Number.NaN)} ops/s; 32 in flight, default pool of 4: ` +
        `${fmtRate(med('createUnique-c32') ?? Number.NaN)} ops/s = ${fmtRatio(gc)}`,
    );
    say(
      `- 32 in flight, UV_THREADPOOL_SIZE=${POOL} (child process): ` +
        `${fmtRate(med(`createUnique-c32-pool${POOL}`) ?? Number.NaN)} ops/s = ${fmtRatio(gcPool)}`,
    );
    for (const line of [
      "- Each async call is a chain of fs jobs on libuv's thread pool: 4 threads unless UV_THREADPOOL_SIZE says",
      '  otherwise, read once when a process starts (hence the child process). With 32 calls in flight only 4 of',
      '  their syscalls run at once and the rest queue; calls whose link() is done while a directory fsync runs',
      '  share the next one (DirCommit), so 32 in flight pay a fraction of a directory fsync per create instead of',
      '  one. A bigger pool lets more file fsyncs overlap, which pays only while the disk and the CPUs have room',
      '  (see bench/README.md for what this machine does).',
    ])
      say(line);
    say();
  }

  if (sameSecond.length > 0) {
    say(
      `## Same second: ${PROCS} processes × ${perProc} createUniqueSync with one fixed \`time\` (one directory)`,
    );
    say();
    say(sameSecondTable(sameSecond));
    say();
  }
  for (const service of services) {
    say(`## The comment service (issue 5): HTTP on loopback, ${service.tool}, same run`);
    say();
    for (const line of serviceTable(service)) say(line);
    say();
    const badAnswers = service.posts.reduce((a, p) => a + p.bad, service.get.bad);
    if (badAnswers > 0) say(`- ${badAnswers} answers were not 2xx or failed: the rates count only 2xx.`);
    for (const why of service.skipped) say(`- not measured: ${why}`);
    say();
  }
  if (abuse) {
    say(
      '## The comment service under attack (issue 12): a victim reading a thread, default limits, same run',
    );
    say();
    say(abuseTable(abuse));
    say();
    say(
      `SIGTERM to exit after the attacks: ${abuse.exitMs.toFixed(0)} ms. Target per attack: no failed victim ` +
        'request, victim p99 <= 10x idle p99 and < 250 ms.',
    );
    say();
  }
  if (hosts) {
    say('## Several hosts (issue 13): quire on a GlusterFS replica-3 volume vs local disk, same run');
    say();
    say(hostsTable(hosts));
    say();
    say(
      'Three client hosts in network namespaces on this machine (@quire/testkit rig/hosts.sh); requests go ' +
        'to the instances in turn, 16 in flight; the event loop is that of the first instance during the POSTs.',
    );
    say();
  }
  if (site !== undefined) {
    say(site);
    say();
  }
  if (imported) {
    say(`## Import (issue 14): ${imported.comments} Disqus comments on ${imported.pages} pages, durable`);
    say();
    say(importTable(imported));
    say();
  }
  if (listed) {
    say(`## A spool of ${listed.records} records: the newest 50 without reading any record`);
    say();
    say('| what | ms (median of 7) | vs readdir |');
    say('|---|--:|--:|');
    say(`| fs.readdir of the directory (names only: the floor) | ${listed.readdirMs.toFixed(1)} | 1.00× |`);
    for (const [what, ms] of [
      ['spool.ids({ reverse: true, limit: 50 })', listed.newest50Ms],
      ['spool.ids() (all, sorted)', listed.allMs],
    ] as const) {
      say(`| ${what} | ${ms.toFixed(1)} | ${(ms / listed.readdirMs).toFixed(2)}× |`);
    }
    say();
  }
  if (naiveRows.length > 0) {
    say(
      `## The blog post's naive loop vs createUnique: ${PROCS} processes × ${naivePerProc} comments, same second, distinct contents`,
    );
    say();
    say(sameSecondTable(naiveRows));
    say();
    const [naive, quire] = naiveRows;
    if (naive) {
      const lost = naive.writes - naive.census.ids;
      say(
        `- naive loop: ${lost} of ${naive.writes} comments overwritten (lost) by another process's write; ` +
          `${naive.census.bad} files with mixed or partial content. (No fsync on either side.)`,
      );
    }
    if (quire)
      say(`- createUniqueSync: ${quire.writes - quire.census.ids} lost, ${quire.census.bad} damaged.`);
    say();
  }

  const cPublishRef = cRefOf('c-publish', implementation === 'native');
  const fs17 = fsReport({ implementation, med, roundRatio, paired, chunks: cli.pairs, startup });
  for (const line of fs17.lines) say(line);
  checks.push(...fs17.checks);
  target(
    'durable createUniqueSync >= 0.9x the C baseline',
    ratio('createUniqueSync', cPublishRef),
    (x) => x >= 0.9,
  );
  // quire's durable rows fsync the directory too: stronger than write-file-atomic's defaults, equal to
  // write-file-atomic followed by the caller's own directory fsync. Both comparisons are shown.
  for (const [q, w, api] of [
    ['replaceFileSync', 'wfa-sync', 'sync'],
    ['replaceFile', 'wfa-async', 'async'],
  ] as const) {
    target(
      `durable ${q} faster than write-file-atomic ${api} (its defaults: weaker)`,
      ratio(q, w),
      (x) => x > 1,
    );
    target(
      `durable ${q} faster than write-file-atomic ${api} + dir fsync (equal)`,
      ratio(q, `${w}-dirsync`),
      (x) => x > 1,
    );
  }
  target('group commit: 32 in flight >= 2x one at a time (default pool)', gc, (x) => x >= 2);
  for (const service of services) {
    for (const p of service.posts) {
      target(
        `service (${service.tool}): durable POST >= 0.85x bare node:http + createUnique, ${p.place.label}`,
        p.ceilingRatio,
        (x) => x >= 0.85,
      );
      target(
        `service (${service.tool}): outbox append >= 0.85x notifications off, ${p.place.label}`,
        p.appendRatio,
        (x) => x >= 0.85,
      );
      target(
        `service (${service.tool}): one POST at a time, p50 <= 1.2x bare, ${p.place.label}`,
        p.p50.quire / p.p50.bare,
        (x) => x <= 1.2,
      );
    }
    target(`service (${service.tool}): GET >= 0.5x bare node:http`, service.get.ratio, (x) => x >= 0.5);
  }
  for (const p of abuse?.phases.slice(1) ?? []) {
    const idleP99 = abuse?.phases[0]?.victim.p99 ?? Number.NaN;
    checks.push({
      what: `abuse (${p.name}): victim p99 <= 10x idle and < 250 ms, none failed`,
      value: `${p.victim.p99.toFixed(1)} ms, ${p.victim.failures} failed`,
      ok: p.victim.failures === 0 && p.victim.p99 < 250 && p.victim.p99 <= 10 * idleP99,
    });
  }
  target(`group commit with UV_THREADPOOL_SIZE=${POOL} >= 2x`, gcPool, (x) => x >= 2);
  const contention = sameSecond[0];
  if (contention) {
    const all = contention.writes;
    checks.push({
      what: `same second: ${all} distinct files, every content intact`,
      value: `${contention.census.files} files, ${contention.census.ids} distinct`,
      ok: contention.census.files === all && contention.census.ids === all && contention.census.bad === 0,
    });
  }
  const nq = naiveRows[1];
  if (nq) {
    checks.push({
      what: 'same second: createUnique lost no comment',
      value: `${nq.writes - nq.census.ids} lost`,
      ok: nq.census.ids === nq.writes && nq.census.files === nq.writes && nq.census.bad === 0,
    });
  }
  say('## Targets');
  say();
  say(
    renderTable(
      [{ title: 'target' }, { title: 'measured', align: 'right' }, { title: 'result' }],
      checks.map((c) => [c.what, c.value, c.ok === undefined ? 'n/a (not run)' : c.ok ? 'PASS' : 'MISS']),
    ),
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

function sameSecondTable(rows: readonly SameSecond[]): string {
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

/** The scratch directory of this run, removed even when a case fails. */
let live: Scratch | undefined;

main().catch((err: unknown) => {
  live?.remove();
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
