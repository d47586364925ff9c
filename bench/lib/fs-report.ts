/**
 * Issue 17's part of the report: each @quire/fs call against the C program doing its syscalls (the paired
 * chunks of fs-pairs.ts), against the pure-JS protocol (the rounds), and what the addon costs at start-up.
 */
import type { Pair, PairResult, Timed } from './fs-pairs.js';
import { pairKey } from './fs-pairs.js';
import type { Startup } from './startup.js';
import { fmtRate, fmtRatio } from './stats.js';
import { renderTable } from './table.js';

/** The calls with a target, and the C program's case doing the pure-JS protocol's syscalls (a named temp). */
export const FS_ROWS = [
  ['createUniqueSync', 'c-publish'],
  ['createUnique', 'c-publish'],
  ['createExclusiveSync', 'c-publish'],
  ['createExclusive', 'c-publish'],
  ['replaceFileSync', 'c-rename'],
  ['replaceFile', 'c-rename'],
  ['createUnique-c32', 'c-publish-t32'],
] as const;

/** The C case doing what `implementation` does: the native addon goes through O_TMPFILE + linkat. */
export function cRefOf(cRef: string, native: boolean): string {
  return native ? cRef.replace(/^c-(publish|rename)/, 'c-$1-tmpfile') : cRef;
}

/** The target of a row: 0.9× of 32 C threads for 32 in flight, else 0.95× one at a time. */
function goalOf(q: string): number {
  return q.endsWith('-c32') ? 0.9 : 0.95;
}

/** The pairs to time: every target row whose case and C reference were both selected. */
export function fsPairs(
  cases: readonly Timed[],
  native: boolean,
  opsPerChunk: number,
  inFlight32Ops: number,
): Pair[] {
  return FS_ROWS.flatMap(([q, cRef]) => {
    const quire = cases.find((c) => c.id === q);
    const c = cases.find((x) => x.id === cRefOf(cRef, native));
    if (!quire || !c) return [];
    return [{ quire, c, ops: q.endsWith('-c32') ? inFlight32Ops : opsPerChunk }];
  });
}

export interface FsReportInput {
  implementation: 'native' | 'js';
  /** Median rate of a case over the rounds, and the median per-round ratio of two cases (rounds only). */
  med(id: string): number | undefined;
  roundRatio(a: string, b: string): number | undefined;
  paired: Map<string, PairResult>;
  chunks: number;
  startup: Startup | undefined;
}

export interface Check {
  what: string;
  value: string;
  ok: boolean | undefined;
}

function pairTable(input: FsReportInput, native: boolean): string[] {
  const rows = FS_ROWS.flatMap(([q, cRef]) => {
    const p = input.paired.get(pairKey(q, cRefOf(cRef, native)));
    if (!p) return [];
    return [
      [
        q,
        cRefOf(cRef, native),
        fmtRate(p.quireRate),
        fmtRate(p.cRate),
        fmtRatio(p.median),
        `${fmtRatio(p.q1)}–${fmtRatio(p.q3)}`,
        `${goalOf(q)}×`,
      ],
    ];
  });
  if (rows.length === 0) return [];
  const load = [...input.paired.values()][0]!.load;
  return [
    `## @quire/fs ${input.implementation} vs the C program doing the same syscalls: ${input.chunks} paired chunks`,
    '',
    renderTable(
      [
        { title: 'call' },
        { title: 'C case' },
        { title: 'ops/s', align: 'right' },
        { title: 'C ops/s', align: 'right' },
        { title: '÷ C (median)', align: 'right' },
        { title: 'middle half', align: 'right' },
        { title: 'target', align: 'right' },
      ],
      rows,
    ),
    '',
    `- Each chunk runs the call and its C case back to back (the order alternating), each in fresh directories;`,
    '  the ratio is the median of the per-chunk ratios, the middle half their interquartile range; the rates',
    `  are per-chunk medians. Load average ${load}.`,
    '',
  ];
}

function jsTable(input: FsReportInput): string[] {
  if (!FS_ROWS.some(([q]) => input.med(`${q}-js`) !== undefined)) return [];
  const impl = input.implementation;
  return [
    `## @quire/fs: ${impl} vs pure JS (durable, 1 KiB; medians of the rounds)`,
    '',
    renderTable(
      [
        { title: 'call' },
        { title: `${impl} ops/s`, align: 'right' },
        { title: 'pure JS ops/s', align: 'right' },
        { title: 'pure JS / C named temp', align: 'right' },
        { title: `${impl} / pure JS`, align: 'right' },
      ],
      FS_ROWS.map(([q, cRef]) => [
        q,
        fmtRate(input.med(q) ?? Number.NaN),
        fmtRate(input.med(`${q}-js`) ?? Number.NaN),
        fmtRatio(input.roundRatio(`${q}-js`, cRef)),
        fmtRatio(input.roundRatio(q, `${q}-js`)),
      ]),
    ),
    '',
  ];
}

function startupLines(s: Startup): string[] {
  const load = s.loadMs === undefined ? 'no addon loads here' : `${s.loadMs.toFixed(2)} ms`;
  return [
    `## Start-up: what the addon costs a \`quire\` command (${s.runs} alternating runs each)`,
    '',
    `- Loading the addon (require of the .node file: dlopen and its init, in a fresh process): ${load} of CPU`,
    '  (median; CPU time, user + system, so that waiting for a CPU on a loaded machine is not counted).',
    `- \`quire ls\` of an empty spool (loads @quire/fs): ${s.nativeMs.toFixed(1)} ms of CPU with the addon, ` +
      `${s.jsMs.toFixed(1)} ms with QUIRE_FS_PURE_JS=1; difference per pair ${s.diffMs.toFixed(1)} ms ` +
      `(middle half ${s.diffQ1.toFixed(1)} to ${s.diffQ3.toFixed(1)} ms). Load average ${s.load}.`,
    '',
  ];
}

/** The report's lines for issue 17, and its rows of the Targets table. */
export function fsReport(input: FsReportInput): { lines: string[]; checks: Check[] } {
  const native = input.implementation === 'native';
  const lines = [...pairTable(input, native), ...jsTable(input)];
  const checks: Check[] = [];
  for (const [q, cRef] of FS_ROWS) {
    const ref = cRefOf(cRef, native);
    const p = input.paired.get(pairKey(q, ref));
    const r = p?.median ?? input.roundRatio(q, ref);
    const how = p ? 'paired chunks' : 'rounds';
    if (r === undefined) continue;
    checks.push({
      what: `${input.implementation} ${q} >= ${goalOf(q)}x the C program (${ref}, ${how})`,
      value: fmtRatio(r),
      ok: r >= goalOf(q),
    });
  }
  const s = input.startup;
  if (s) {
    lines.push(...startupLines(s));
    // "No measurable start-up time": the addon's own load is under 2 % of the command that pays it.
    const share = s.loadMs === undefined ? undefined : s.loadMs / s.jsMs;
    checks.push({
      what: 'the addon adds < 2% to a quire command (its load / quire ls, CPU time)',
      value: share === undefined ? '—' : `${(share * 100).toFixed(1)} %`,
      ok: share === undefined ? undefined : share < 0.02,
    });
  }
  return { lines, checks };
}
