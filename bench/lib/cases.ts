/**
 * The timed cases of `npm run bench`: the C program, @quire/fs in this process, in worker processes, and the
 * anchor libraries, each a row of the report with the rows its ratios are taken against.
 */
import { implementation } from '@quire/fs';
import { drive, isSyncOp, type OpName, prepareOp } from './ops.js';
import { type Aggregate, aggregate, type CJob, type OpsJob, runC, runWorkers } from './procs.js';

// The cases

export type Durability = 'file+dir fsync' | 'file+dir fsync (caller)' | 'file fsync, NO dir fsync' | 'none';

export interface Case {
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
export const FIXED_TIME = Date.UTC(2026, 10, 26, 10, 15, 0);
export const PROCS = 8;
export const POOL = 64;

/** Operations per run of each kind of case, scaled by --quick. */
interface Counts {
  durableOps: number;
  fastOps: number;
  concOps: number;
  procOps: number;
}

/** Collects the cases; each method adds one row. */
class Cases {
  readonly list: Case[] = [];
  constructor(
    private readonly haveC: boolean,
    /** Untimed calls before each in-process run. */
    private readonly warmup: number,
  ) {}

  /** The C program in `procs` processes (or `how.threads` threads). */
  c(
    id: string,
    label: string,
    rename: boolean,
    sync: CJob['sync'],
    procs: number,
    ops: number,
    how: { tmpfile?: boolean; threads?: number; tags?: string[] } = {},
  ): void {
    if (!this.haveC) return;
    this.list.push({
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
  }

  /** One process (this one), `concurrency` async calls in flight (sync ops: one after another). */
  inProc(
    id: string,
    op: OpName,
    durable: boolean,
    concurrency: number,
    ops: number,
    refs: Case['refs'],
    tags: string[] = [],
  ): void {
    const sync = isSyncOp(op);
    this.list.push({
      id,
      tags,
      label: opLabel(op),
      api: sync ? 'sync' : 'async',
      inFlight: String(concurrency),
      durability: durabilityOf(op, durable),
      ops,
      refs,
      run: async (dir, warmDir, ops, warm = this.warmup) => {
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
  }

  /** `procs` worker processes released together, or one child with a different environment. */
  inWorkers(
    id: string,
    op: OpName,
    procs: number,
    concurrency: number,
    ops: number,
    refs: Case['refs'],
    env: NodeJS.ProcessEnv = {},
    tags: string[] = [],
  ): void {
    this.list.push({
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
            warmup: Math.ceil(this.warmup / procs),
            warmDir,
          }),
        );
        return aggregate(await runWorkers(jobs, env));
      },
    });
  }
}

export function buildCases(scale: number, warmup: number, haveC: boolean): Case[] {
  const n = (x: number, multipleOf = 1) =>
    Math.max(multipleOf, Math.round((x * scale) / multipleOf) * multipleOf);
  const counts: Counts = {
    durableOps: n(600),
    fastOps: n(3000),
    concOps: n(1600, 32),
    procOps: n(1600, PROCS),
  };
  const b = new Cases(haveC, warmup);
  oneAtATime(b, counts);
  noSync(b, counts);
  inFlight(b, counts);
  processes(b, counts);
  return b.list;
}

/** The C case doing what @quire/fs's implementation does: the native addon publishes through O_TMPFILE. */
const native = implementation === 'native';
const cPublish = native ? 'c-publish-tmpfile' : 'c-publish';
const cRename = native ? 'c-rename-tmpfile' : 'c-rename';
const fsTags = ['fs'];
const js = { QUIRE_FS_PURE_JS: '1' };

/**
 * One writer, one call at a time. The rows that a target compares run next to each other. This process runs
 * @quire/fs's default implementation (the native addon on Linux: compared with the C program doing its
 * syscalls, O_TMPFILE + linkat); the `-js` rows run the pure-JS protocol in a child with QUIRE_FS_PURE_JS=1
 * (compared with the C program doing its syscalls, a named temp + link).
 */
function oneAtATime(b: Cases, counts: Counts): void {
  publishes(b, counts);
  overwrites(b, counts);
}

function publishes(b: Cases, { durableOps }: Counts): void {
  b.c('c-publish', 'C: durable publish (link)', false, 'durable', 1, durableOps, { tags: fsTags });
  b.c('c-publish-tmpfile', 'C: durable publish (O_TMPFILE)', false, 'durable', 1, durableOps, {
    tmpfile: true,
    tags: fsTags,
  });
  b.inProc('createUniqueSync', 'createUniqueSync', true, 1, durableOps, { c: cPublish }, fsTags);
  b.inWorkers('createUniqueSync-js', 'createUniqueSync', 1, 1, durableOps, { c: 'c-publish' }, js, fsTags);
  b.inProc('createUnique', 'createUnique', true, 1, durableOps, { c: cPublish }, ['group', 'fs']);
  b.inWorkers('createUnique-js', 'createUnique', 1, 1, durableOps, { c: 'c-publish' }, js, fsTags);
  b.inProc('createExclusiveSync', 'createExclusiveSync', true, 1, durableOps, { c: cPublish }, fsTags);
  b.inWorkers(
    'createExclusiveSync-js',
    'createExclusiveSync',
    1,
    1,
    durableOps,
    { c: 'c-publish' },
    js,
    fsTags,
  );
  b.inProc('createExclusive', 'createExclusive', true, 1, durableOps, { c: cPublish }, fsTags);
  b.inWorkers('createExclusive-js', 'createExclusive', 1, 1, durableOps, { c: 'c-publish' }, js, fsTags);
}

/** Overwrites one at a time, with the anchor libraries doing the same. */
function overwrites(b: Cases, { durableOps, fastOps }: Counts): void {
  b.c('c-rename', 'C: durable overwrite (rename)', true, 'durable', 1, durableOps, { tags: fsTags });
  b.c('c-rename-tmpfile', 'C: durable overwrite (O_TMPFILE)', true, 'durable', 1, durableOps, {
    tmpfile: true,
    tags: fsTags,
  });
  b.inWorkers('replaceFileSync-js', 'replaceFileSync', 1, 1, durableOps, { c: 'c-rename' }, js, fsTags);
  b.inWorkers('replaceFile-js', 'replaceFile', 1, 1, durableOps, { c: 'c-rename' }, js, fsTags);
  b.c('c-rename-nodirsync', 'C: overwrite, file fsync only', true, 'nodirsync', 1, durableOps);
  const anchor = ['anchor'];
  b.inProc(
    'replaceFileSync',
    'replaceFileSync',
    true,
    1,
    durableOps,
    { c: cRename, wfa: 'wfa-sync' },
    fsTags,
  );
  b.inProc('wfa-sync', 'wfaSync', true, 1, durableOps, { c: 'c-rename-nodirsync', wfa: 'wfa-sync' }, anchor);
  b.inProc(
    'wfa-sync-dirsync',
    'wfaSyncDirsync',
    true,
    1,
    durableOps,
    { c: 'c-rename', wfa: 'wfa-sync' },
    anchor,
  );
  b.inProc(
    'atomically-sync',
    'atomicallySync',
    true,
    1,
    durableOps,
    { c: 'c-rename-nodirsync', wfa: 'wfa-sync' },
    anchor,
  );
  b.inProc('replaceFile', 'replaceFile', true, 1, durableOps, { c: cRename, wfa: 'wfa-async' }, fsTags);
  b.inProc('wfa-async', 'wfa', true, 1, durableOps, { c: 'c-rename-nodirsync', wfa: 'wfa-async' }, anchor);
  b.inProc(
    'wfa-async-dirsync',
    'wfaDirsync',
    true,
    1,
    durableOps,
    { c: 'c-rename', wfa: 'wfa-async' },
    anchor,
  );
  b.inProc(
    'atomically-async',
    'atomically',
    true,
    1,
    durableOps,
    { c: 'c-rename-nodirsync', wfa: 'wfa-async' },
    anchor,
  );
  b.inProc('steno-async', 'steno', true, 1, fastOps, { c: 'c-rename-nosync', wfa: 'wfa-async' }, anchor);
}

function noSync(b: Cases, { fastOps }: Counts): void {
  // durable:false: the same protocol without fsync (and the C program without fsync).
  b.c('c-publish-nosync', 'C: publish, no fsync', false, 'nosync', 1, fastOps);
  for (const op of ['createUniqueSync', 'createUnique', 'createExclusiveSync', 'createExclusive'] as const) {
    b.inProc(`${op}-nosync`, op, false, 1, fastOps, { c: 'c-publish-nosync' });
  }
  b.c('c-rename-nosync', 'C: overwrite, no fsync', true, 'nosync', 1, fastOps);
  b.inProc('replaceFileSync-nosync', 'replaceFileSync', false, 1, fastOps, { c: 'c-rename-nosync' });
  b.inProc('replaceFile-nosync', 'replaceFile', false, 1, fastOps, {
    c: 'c-rename-nosync',
    wfa: 'steno-async',
  });
}

function inFlight(b: Cases, { concOps }: Counts): void {
  // Async calls in flight at once in one process (overwrites: one file per call in flight).
  for (const k of [8, 32]) {
    const tags = k === 32 ? ['group', 'fs'] : [];
    b.inProc(
      `createUnique-c${k}`,
      'createUnique',
      true,
      k,
      concOps,
      { c: k === 32 ? `${cPublish}-t32` : cPublish, c1: 'createUnique' },
      tags,
    );
    b.inProc(`createExclusive-c${k}`, 'createExclusive', true, k, concOps, {
      c: 'c-publish',
      c1: 'createExclusive',
    });
    b.inProc(`replaceFile-c${k}`, 'replaceFile', true, k, concOps, { c: 'c-rename', c1: 'replaceFile' });
  }
  // 32 in flight against 32 C threads doing the same syscalls, and the pure-JS protocol's 32 in flight.
  b.c('c-publish-t32', 'C: durable publish (link)', false, 'durable', 1, concOps, {
    threads: 32,
    tags: fsTags,
  });
  b.c('c-publish-tmpfile-t32', 'C: durable publish (O_TMPFILE)', false, 'durable', 1, concOps, {
    tmpfile: true,
    threads: 32,
    tags: fsTags,
  });
  b.inWorkers(
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
  b.inWorkers(
    `createUnique-c32-pool${POOL}`,
    'createUnique',
    1,
    32,
    concOps,
    { c: 'c-publish', c1: 'createUnique' },
    { UV_THREADPOOL_SIZE: String(POOL) },
    ['group'],
  );
}

function processes(b: Cases, { procOps }: Counts): void {
  // Several processes, sync API, one directory.
  b.c(`c-publish-p${PROCS}`, 'C: durable publish (link)', false, 'durable', PROCS, procOps);
  b.inWorkers(`createUniqueSync-p${PROCS}`, 'createUniqueSync', PROCS, 1, procOps, {
    c: `c-publish-p${PROCS}`,
    c1: 'createUniqueSync',
  });
  b.inWorkers(`createExclusiveSync-p${PROCS}`, 'createExclusiveSync', PROCS, 1, procOps, {
    c: `c-publish-p${PROCS}`,
    c1: 'createExclusiveSync',
  });
  b.c(`c-rename-p${PROCS}`, 'C: durable overwrite (rename)', true, 'durable', PROCS, procOps);
  b.inWorkers(`replaceFileSync-p${PROCS}`, 'replaceFileSync', PROCS, 1, procOps, {
    c: `c-rename-p${PROCS}`,
    c1: 'replaceFileSync',
  });
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
