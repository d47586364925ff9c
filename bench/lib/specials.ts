/**
 * The cases that are not rounds of one operation: the same-second correctness runs, a spool listing, the import,
 * the comment service, the attacks, several hosts and the site at scale. Each runs once, after the rounds, and
 * returns what the report needs.
 */
import { type AbuseResult, abuseBench } from './abuse.js';
import type { Cli } from './cli.js';
import { type HostsResult, hostsBench } from './hosts.js';
import { type ImportResult, importBench } from './import.js';
import { haveWrk, type LoadTool } from './load.js';
import type { Machine } from './machine.js';
import { type SameSecond, sameSecondNaive, sameSecondQuire } from './same-second.js';
import type { Scratch } from './scratch.js';
import { mountJournaledExt4, serviceBench } from './service.js';
import type { Place, ServiceResult } from './service-report.js';
import { siteBench } from './site-bench.js';
import { type SpoolListResult, spoolList } from './spool-list.js';
import { fmtSeconds } from './stats.js';

/** The special cases, for --only and --list. */
export const SPECIALS = [
  { id: 'contention', tags: ['same-second'] },
  { id: 'naive', tags: ['same-second'] },
  { id: 'spool-list', tags: ['spool'] },
  { id: 'service', tags: ['http'] },
  { id: 'abuse', tags: ['security'] },
  { id: 'import', tags: ['port'] },
  { id: 'hosts', tags: ['gluster', 'several-hosts'] },
  { id: 'site', tags: ['scale'] },
] as const;

export type SpecialId = (typeof SPECIALS)[number]['id'];

export interface SpecialResults {
  /** Writes per process of the same-second runs. */
  perProc: number;
  naivePerProc: number;
  sameSecond: SameSecond[];
  naiveRows: SameSecond[];
  listed?: SpoolListResult;
  imported?: ImportResult;
  services: ServiceResult[];
  abuse?: AbuseResult;
  hosts?: HostsResult;
  /** The site case's report section (Markdown). */
  site?: string;
}

export interface SpecialContext {
  cli: Cli;
  scratch: Scratch;
  machine: Machine;
  /** Unmounts the service case's images when the run ends (or is stopped). */
  unmounts: (() => void)[];
  progress: (line: string) => void;
}

/** Runs the selected special cases one after another. */
export async function runSpecials(
  selected: (id: SpecialId) => boolean,
  ctx: SpecialContext,
): Promise<SpecialResults> {
  const { cli, scratch, progress } = ctx;
  const r: SpecialResults = {
    perProc: cli.quick ? 200 : 1000,
    naivePerProc: cli.quick ? 100 : 250,
    sameSecond: [],
    naiveRows: [],
    services: [],
  };
  if (selected('contention')) await sameSecondRuns(r, ctx);
  if (selected('naive')) await naiveRuns(r, ctx);
  if (selected('spool-list')) {
    const records = cli.quick ? 20_000 : 100_000;
    progress(
      `[spool] creating ${records} records, then timing list({ reverse: true, limit: 50 }) vs readdir`,
    );
    r.listed = await spoolList(scratch.fresh('spool-list'), records);
    progress(
      `[spool] readdir ${r.listed.readdirMs.toFixed(1)} ms, newest 50 ${r.listed.newest50Ms.toFixed(1)} ms`,
    );
  }
  if (selected('import')) {
    const { comments, pages } = cli.importSize ?? { comments: cli.quick ? 10_000 : 50_000, pages: 100 };
    progress(`[import] ${comments} comments on ${pages} pages: bare createUnique, then quire import disqus`);
    r.imported = await importBench(scratch.fresh('import'), comments, pages);
  }
  if (selected('service')) r.services = await serviceRuns(ctx);
  if (selected('abuse')) {
    r.abuse = await abuseBench({
      scratch: scratch.fresh('abuse'),
      seconds: cli.quick ? 5 : 15,
      victimRate: 8,
      seedThreads: cli.quick ? 2000 : 10_000,
      slowSockets: cli.quick ? 1000 : 5000,
      progress,
    });
  }
  if (selected('hosts')) {
    r.hosts = await hostsBench({
      profiles: ['strict', 'default'],
      seconds: cli.quick ? 3 : 8,
      concurrency: 16,
      progress,
    });
  }
  if (selected('site')) {
    r.site = await siteBench({
      scale: cli.siteScale,
      quick: cli.quick,
      scratch: scratch.fresh('site'),
      progress,
      steps: cli.siteSteps,
    });
  }
  return r;
}

function sayRun(progress: (line: string) => void, r: SameSecond): void {
  progress(
    `[same second] ${r.label}: ${r.writes} writes, ${r.census.files} files, ${r.census.ids} distinct contents, ` +
      `${r.avgAttempts.toFixed(2)} attempts/write (${fmtSeconds(r.seconds)})`,
  );
}

async function sameSecondRuns(r: SpecialResults, { scratch, progress }: SpecialContext): Promise<void> {
  for (const [name, durable, label] of [
    ['contention', true, 'createUniqueSync (durable)'],
    ['contention-nosync', false, 'createUniqueSync (durable:false)'],
  ] as const) {
    const row = await sameSecondQuire(scratch.fresh(name), r.perProc, durable, label);
    r.sameSecond.push(row);
    sayRun(progress, row);
  }
}

async function naiveRuns(r: SpecialResults, { scratch, progress }: SpecialContext): Promise<void> {
  const naive = await sameSecondNaive(scratch.fresh('naive'), r.naivePerProc);
  r.naiveRows.push(naive);
  sayRun(progress, naive);
  const quire = await sameSecondQuire(
    scratch.fresh('naive-quire'),
    r.naivePerProc,
    false,
    'createUniqueSync (durable:false)',
  );
  r.naiveRows.push(quire);
  sayRun(progress, quire);
}

/** The service case once per load tool, on the temp dir and (as root) a journaled ext4 image. */
async function serviceRuns({
  cli,
  scratch,
  machine,
  unmounts,
  progress,
}: SpecialContext): Promise<ServiceResult[]> {
  const wrk = haveWrk();
  const load = cli.load ?? (wrk ? 'both' : 'autocannon');
  const tools: LoadTool[] = load === 'both' ? ['wrk', 'autocannon'] : [load];
  if (cli.load === undefined && !wrk) {
    progress(
      '[service] wrk is not installed (apt-get install wrk): autocannon only, whose own CPU use skews the ratios',
    );
  }
  const services: ServiceResult[] = [];
  const skipped = new Set<string>();
  for (const tool of tools) {
    const tmp = scratch.fresh(`service-${tool}`);
    const places: Place[] = [{ label: 'temp dir', fs: machine.fs, dir: tmp }];
    const image = mountJournaledExt4(scratch.fresh(`service-image-${tool}`));
    if (typeof image === 'string') skipped.add(image);
    else {
      unmounts.push(image.unmount);
      places.push(image.place);
    }
    progress(
      `[service] ${tool}: durable POSTs with 32 connections vs createUnique with 32 in flight, on ` +
        `${places.map((p) => p.label).join(' and ')}; then GETs of a 200-comment page vs bare node:http`,
    );
    const options = {
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
    };
    services.push(await serviceBench(options, [...skipped]));
  }
  for (const why of skipped) progress(`[service] skipped: ${why}`);
  return services;
}
