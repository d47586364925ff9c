/**
 * The report `npm run bench` prints on stdout (Markdown): the rounds' table, a section per special case, then
 * every target with PASS or MISS. Ratios are medians of per-round ratios, or of the paired chunks where a pair
 * was timed so.
 */
import { implementation } from '@quire/fs';
import { abuseTable } from './abuse.js';
import { type Case, POOL, PROCS } from './cases.js';
import type { Cli } from './cli.js';
import { type PairResult, pairKey } from './fs-pairs.js';
import { type Check, cRefOf, fsReport } from './fs-report.js';
import { hostsTable } from './hosts.js';
import { importTable } from './import.js';
import { loadAverage, type Machine } from './machine.js';
import { PAYLOAD_BYTES } from './ops.js';
import { sameSecondTable } from './same-second.js';
import { serviceTable } from './service-report.js';
import type { SpecialResults } from './specials.js';
import type { Startup } from './startup.js';
import { fmtRate, fmtRatio, fmtSeconds, median } from './stats.js';
import { renderTable } from './table.js';

export interface Sample {
  rate: number;
  /** CPU time (user + system, all threads of all processes of the case) per operation, microseconds. */
  cpuPerOp: number;
}

export interface ReportInput {
  cli: Cli;
  began: number;
  machine: Machine;
  compiled: { ok: true; cc: string } | { ok: false; why: string };
  /** Whether the runs' directories were spread over block groups (chattr +T). */
  spread: boolean;
  loadBefore: string;
  cases: readonly Case[];
  samples: ReadonlyMap<string, readonly Sample[]>;
  paired: Map<string, PairResult>;
  startup: Startup | undefined;
  specials: SpecialResults;
}

/** How the report reads rates and ratios out of the samples. */
interface Figures {
  med(id: string | undefined): number | undefined;
  roundRatio(a: string, b: string | undefined): number | undefined;
  ratio(a: string, b: string | undefined): number | undefined;
}

function figures(samples: ReportInput['samples'], paired: ReportInput['paired']): Figures {
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
  return { med, roundRatio, ratio };
}

export function report(input: ReportInput): string {
  const f = figures(input.samples, input.paired);
  const out: string[] = [...header(input)];
  if (input.cases.length > 0) out.push(...roundsSection(input, f));
  out.push(...groupCommitSection(f));
  out.push(...specialSections(input.specials));
  const fs17 = fsReport({
    implementation,
    med: f.med,
    roundRatio: f.roundRatio,
    paired: input.paired,
    chunks: input.cli.pairs,
    startup: input.startup,
  });
  out.push(...fs17.lines);
  const checks = [...fs17.checks, ...targets(f, input.specials)];
  out.push('## Targets', '');
  out.push(
    renderTable(
      [{ title: 'target' }, { title: 'measured', align: 'right' }, { title: 'result' }],
      checks.map((c) => [c.what, c.value, c.ok === undefined ? 'n/a (not run)' : c.ok ? 'PASS' : 'MISS']),
    ),
  );
  return `${out.join('\n')}\n`;
}

function header({ cli, began, machine, compiled, spread, loadBefore }: ReportInput): string[] {
  return [
    `# @quire/fs benchmark, ${new Date(began).toISOString()}${cli.quick ? ' (--quick)' : ''}`,
    '',
    `machine: ${machine.cpus}; ${machine.kernel}; temp dir on ${machine.fs}; Node ${machine.node}`,
    `libuv pool: ${machine.pool}; C: ${compiled.ok ? compiled.cc : `skipped: ${compiled.why}`}`,
    spread
      ? 'each run in a fresh directory of its own block group (chattr +T on the bench root); nothing deleted until the end'
      : 'each run in a fresh directory (chattr +T unavailable: runs may share block groups); nothing deleted until the end',
    `load average (1, 5, 15 min): ${loadBefore} at start, ${loadAverage()} at end; took ${fmtSeconds((Date.now() - began) / 1000)}`,
    `${PAYLOAD_BYTES}-byte payloads; ops/s = median of ${cli.runs} rounds; ratios = median of per-round ratios ` +
      '(cases run back to back within a round).',
    '',
  ];
}

const ROUNDS_COLUMNS = [
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
] as const;

const ROUNDS_LEGEND = [
  'vs C: against the C program doing the same syscalls at the same durability (publish rows: link;',
  '  overwrite rows: rename; write-file-atomic and atomically: rename with the file fsync only; no-fsync',
  '  rows: the C program without fsync; 8-process rows: the C program in 8 processes).',
];

const ROUNDS_LEGEND_END = [
  'vs wfa: against write-file-atomic with the same API style (sync vs sync, async vs async), which',
  '  fsyncs the file but NOT the directory: after a power cut its rename may be gone (the old content',
  '  back). atomically does the same; steno never fsyncs. quire durable rows fsync file and directory.',
  'vs 1 at a time: the same calls with one in flight (for the 8-process rows: one sync process).',
  'CPU µs/op: user + system time of every thread of every process of the case, per operation (2 vCPUs',
  '  give at most 2,000,000 µs per second: a case near 2e6 / ops/s is CPU-bound, not disk-bound).',
  '',
];

function roundsSection({ cases, samples, paired }: ReportInput, f: Figures): string[] {
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
      fmtRatio(f.ratio(c.id, c.refs.c)),
      fmtRatio(f.ratio(c.id, c.refs.wfa)),
      fmtRatio(f.ratio(c.id, c.refs.c1)),
    ];
  });
  return [
    renderTable([...ROUNDS_COLUMNS], rows),
    '',
    ...ROUNDS_LEGEND,
    ...(paired.size > 0
      ? ['  Rows with an issue 17 target: the median of the paired chunks (see below), not of the rounds.']
      : []),
    ...ROUNDS_LEGEND_END,
  ];
}

function groupCommitSection({ med, ratio }: Figures): string[] {
  const gc = ratio('createUnique-c32', 'createUnique');
  const gcPool = ratio(`createUnique-c32-pool${POOL}`, 'createUnique');
  if (gc === undefined && gcPool === undefined) return [];
  return [
    '## Group commit: 32 concurrent async createUnique into one directory vs the same calls one at a time',
    '',
    `- one at a time: ${fmtRate(med('createUnique') ?? Number.NaN)} ops/s; 32 in flight, default pool of 4: ` +
      `${fmtRate(med('createUnique-c32') ?? Number.NaN)} ops/s = ${fmtRatio(gc)}`,
    `- 32 in flight, UV_THREADPOOL_SIZE=${POOL} (child process): ` +
      `${fmtRate(med(`createUnique-c32-pool${POOL}`) ?? Number.NaN)} ops/s = ${fmtRatio(gcPool)}`,
    "- Each async call is a chain of fs jobs on libuv's thread pool: 4 threads unless UV_THREADPOOL_SIZE says",
    '  otherwise, read once when a process starts (hence the child process). With 32 calls in flight only 4 of',
    '  their syscalls run at once and the rest queue; calls whose link() is done while a directory fsync runs',
    '  share the next one (DirCommit), so 32 in flight pay a fraction of a directory fsync per create instead of',
    '  one. A bigger pool lets more file fsyncs overlap, which pays only while the disk and the CPUs have room',
    '  (see bench/README.md for what this machine does).',
    '',
  ];
}

function specialSections(r: SpecialResults): string[] {
  const out: string[] = [];
  if (r.sameSecond.length > 0) {
    out.push(
      `## Same second: ${PROCS} processes × ${r.perProc} createUniqueSync with one fixed \`time\` (one directory)`,
    );
    out.push('', sameSecondTable(r.sameSecond), '');
  }
  for (const service of r.services) {
    out.push(`## The comment service (issue 5): HTTP on loopback, ${service.tool}, same run`, '');
    out.push(...serviceTable(service), '');
    const badAnswers = service.posts.reduce((a, p) => a + p.bad, service.get.bad);
    if (badAnswers > 0) out.push(`- ${badAnswers} answers were not 2xx or failed: the rates count only 2xx.`);
    for (const why of service.skipped) out.push(`- not measured: ${why}`);
    out.push('');
  }
  if (r.abuse) {
    out.push(
      '## The comment service under attack (issue 12): a victim reading a thread, default limits, same run',
    );
    out.push('', abuseTable(r.abuse), '');
    out.push(
      `SIGTERM to exit after the attacks: ${r.abuse.exitMs.toFixed(0)} ms. Target per attack: no failed victim ` +
        'request, victim p99 <= 10x idle p99 and < 250 ms.',
      '',
    );
  }
  if (r.hosts) {
    out.push('## Several hosts (issue 13): quire on a GlusterFS replica-3 volume vs local disk, same run');
    out.push('', hostsTable(r.hosts), '');
    out.push(
      'Three client hosts in network namespaces on this machine (@quire/testkit rig/hosts.sh); requests go ' +
        'to the instances in turn, 16 in flight; the event loop is that of the first instance during the POSTs.',
      '',
    );
  }
  if (r.site !== undefined) out.push(r.site, '');
  if (r.imported) {
    out.push(
      `## Import (issue 14): ${r.imported.comments} Disqus comments on ${r.imported.pages} pages, durable`,
    );
    out.push('', importTable(r.imported), '');
  }
  out.push(...spoolListSection(r), ...naiveSection(r));
  return out;
}

function spoolListSection({ listed }: SpecialResults): string[] {
  if (!listed) return [];
  const rows = [
    ['spool.ids({ reverse: true, limit: 50 })', listed.newest50Ms],
    ['spool.ids() (all, sorted)', listed.allMs],
  ] as const;
  return [
    `## A spool of ${listed.records} records: the newest 50 without reading any record`,
    '',
    '| what | ms (median of 7) | vs readdir |',
    '|---|--:|--:|',
    `| fs.readdir of the directory (names only: the floor) | ${listed.readdirMs.toFixed(1)} | 1.00× |`,
    ...rows.map(([what, ms]) => `| ${what} | ${ms.toFixed(1)} | ${(ms / listed.readdirMs).toFixed(2)}× |`),
    '',
  ];
}

function naiveSection({ naiveRows, naivePerProc }: SpecialResults): string[] {
  if (naiveRows.length === 0) return [];
  const out = [
    `## The blog post's naive loop vs createUnique: ${PROCS} processes × ${naivePerProc} comments, same second, distinct contents`,
    '',
    sameSecondTable(naiveRows),
    '',
  ];
  const [naive, quire] = naiveRows;
  if (naive) {
    const lost = naive.writes - naive.census.ids;
    out.push(
      `- naive loop: ${lost} of ${naive.writes} comments overwritten (lost) by another process's write; ` +
        `${naive.census.bad} files with mixed or partial content. (No fsync on either side.)`,
    );
  }
  if (quire)
    out.push(`- createUniqueSync: ${quire.writes - quire.census.ids} lost, ${quire.census.bad} damaged.`);
  out.push('');
  return out;
}

function targets(f: Figures, r: SpecialResults): Check[] {
  const checks: Check[] = [];
  const target = (what: string, x: number | undefined, ok: (x: number) => boolean) =>
    checks.push({ what, value: fmtRatio(x), ok: x === undefined ? undefined : ok(x) });
  const cPublishRef = cRefOf('c-publish', implementation === 'native');
  target(
    'durable createUniqueSync >= 0.9x the C baseline',
    f.ratio('createUniqueSync', cPublishRef),
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
      f.ratio(q, w),
      (x) => x > 1,
    );
    target(
      `durable ${q} faster than write-file-atomic ${api} + dir fsync (equal)`,
      f.ratio(q, `${w}-dirsync`),
      (x) => x > 1,
    );
  }
  const gc = f.ratio('createUnique-c32', 'createUnique');
  target('group commit: 32 in flight >= 2x one at a time (default pool)', gc, (x) => x >= 2);
  for (const service of r.services) {
    for (const p of service.posts) {
      const t = `service (${service.tool})`;
      const at = p.place.label;
      target(
        `${t}: durable POST >= 0.85x bare node:http + createUnique, ${at}`,
        p.ceilingRatio,
        (x) => x >= 0.85,
      );
      target(`${t}: outbox append >= 0.85x notifications off, ${at}`, p.appendRatio, (x) => x >= 0.85);
      target(`${t}: one POST at a time, p50 <= 1.2x bare, ${at}`, p.p50.quire / p.p50.bare, (x) => x <= 1.2);
    }
    target(`service (${service.tool}): GET >= 0.5x bare node:http`, service.get.ratio, (x) => x >= 0.5);
  }
  const gcPool = f.ratio(`createUnique-c32-pool${POOL}`, 'createUnique');
  target(`group commit with UV_THREADPOOL_SIZE=${POOL} >= 2x`, gcPool, (x) => x >= 2);
  checks.push(...correctnessChecks(r));
  return checks;
}

function correctnessChecks(r: SpecialResults): Check[] {
  const checks: Check[] = [];
  for (const p of r.abuse?.phases.slice(1) ?? []) {
    const idleP99 = r.abuse?.phases[0]?.victim.p99 ?? Number.NaN;
    checks.push({
      what: `abuse (${p.name}): victim p99 <= 10x idle and < 250 ms, none failed`,
      value: `${p.victim.p99.toFixed(1)} ms, ${p.victim.failures} failed`,
      ok: p.victim.failures === 0 && p.victim.p99 < 250 && p.victim.p99 <= 10 * idleP99,
    });
  }
  const contention = r.sameSecond[0];
  if (contention) {
    const all = contention.writes;
    checks.push({
      what: `same second: ${all} distinct files, every content intact`,
      value: `${contention.census.files} files, ${contention.census.ids} distinct`,
      ok: contention.census.files === all && contention.census.ids === all && contention.census.bad === 0,
    });
  }
  const nq = r.naiveRows[1];
  if (nq) {
    checks.push({
      what: 'same second: createUnique lost no comment',
      value: `${nq.writes - nq.census.ids} lost`,
      ok: nq.census.ids === nq.writes && nq.census.files === nq.writes && nq.census.bad === 0,
    });
  }
  return checks;
}
