import type { Site } from './site.js';
import type { MixedResult } from './site-load.js';
import {
  canDropCaches,
  SERVER_MALLOC,
  SERVER_NODE_ARGS,
  SERVER_NODE_OPTIONS,
  type ServerStats,
} from './site-probe.js';
import { renderTable } from './table.js';

/** One row of the `site` table: quire against its baseline, milliseconds. */
export interface Row {
  what: string;
  quire: number;
  baseline: number | null;
  baselineWhat: string;
  note?: string;
}

export const MB = 1024 * 1024;

export function fmtMs(x: number): string {
  return x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(x < 10 ? 2 : 1)} ms`;
}

/** The `site` case's report: the table of rows, the RSS figures, the mixed load. Markdown. */
export function report(
  quick: boolean,
  site: Site,
  indexSeconds: number,
  rows: readonly Row[],
  rss: { idle: ServerStats; afterAll: ServerStats | null; underLoad: ServerStats | null },
  mixed: MixedResult | null,
): string {
  const p = site.params;
  const out: string[] = [];
  out.push(
    `## A site of ${p.comments.toLocaleString('en')} comments in ${p.threads.toLocaleString('en')} threads (issue 16)`,
  );
  out.push('');
  out.push(
    `Biggest thread ${p.big.toLocaleString('en')} comments; ${site.replies} replies, ${site.pending} pending, ` +
      `${site.deleted} tombstones, ${site.voted} comments with likes. Generated through the import path in ` +
      `${site.firstGeneratedSeconds.toFixed(0)} s (cached since); thread indexes first built in ${indexSeconds.toFixed(0)} s. ` +
      `Page cache dropped before every "cold" figure: ${canDropCaches() ? 'yes' : 'no (not root): "cold" is warm'}.`,
  );
  out.push('');
  out.push(
    renderTable(
      [
        { title: 'what' },
        { title: 'quire', align: 'right' },
        { title: 'baseline', align: 'right' },
        { title: 'ratio', align: 'right' },
        { title: 'baseline is' },
        { title: 'note' },
      ],
      rows.map((r) => [
        r.what,
        fmtMs(r.quire),
        r.baseline === null ? '' : fmtMs(r.baseline),
        r.baseline === null ? '' : `${(r.quire / Math.max(r.baseline, 0.01)).toFixed(2)}×`,
        r.baselineWhat,
        r.note ?? '',
      ]),
    ),
  );
  out.push('');
  const mb = (s: ServerStats | null) =>
    s === null
      ? 'not measured (--site-steps)'
      : `${(s.rss / MB).toFixed(0)} MB (V8 heap ${(s.heapUsed / MB).toFixed(0)} of ${(s.heapTotal / MB).toFixed(0)} MB, external ${(s.external / MB).toFixed(0)} MB; index cache ${(s.indexBytes / MB).toFixed(1)} MB, records ${(s.recordBytes / MB).toFixed(1)} MB)`;
  const malloc = Object.entries(SERVER_MALLOC)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  out.push(
    `RSS of the server (${SERVER_NODE_ARGS.length > 0 ? `node ${SERVER_NODE_ARGS.join(' ')}, ` : ''}NODE_OPTIONS='${SERVER_NODE_OPTIONS}', ${malloc}): idle after start ${mb(rss.idle)}; after a GET of every thread ${mb(rss.afterAll)}; after the mixed load ${mb(rss.underLoad)}. Target <= 100 MB.`,
  );
  out.push('');
  if (mixed !== null && rss.underLoad !== null) mixedReport(out, mixed, rss.underLoad);
  if (quick) out.push('', '(--quick: one cold-start round and 10 s of mixed load)');
  return out.join('\n');
}

/** The mixed load's paragraph and its table of routes. */
function mixedReport(out: string[], mixed: MixedResult, underLoad: ServerStats): void {
  out.push(
    `Mixed load, ${mixed.connections} connections for ${mixed.seconds.toFixed(0)} s (90 % GET, 9 % POST, 1 % like, threads by the power law; ` +
      `the client runs on the same 2 CPUs): ${mixed.rate.toFixed(0)} requests/s; event-loop delay p99 ${underLoad.delayP99.toFixed(1)} ms ` +
      `(max ${underLoad.delayMax.toFixed(0)} ms), target <= 20 ms.`,
  );
  out.push('');
  out.push(
    renderTable(
      [
        { title: 'route' },
        { title: 'requests', align: 'right' },
        { title: 'p50', align: 'right' },
        { title: 'p99', align: 'right' },
        { title: 'errors (5xx, failed)', align: 'right' },
        { title: '4xx', align: 'right' },
      ],
      mixed.routes.map((r) => [
        r.route,
        String(r.count),
        fmtMs(r.p50),
        fmtMs(r.p99),
        String(r.errors),
        String(r.refused),
      ]),
    ),
  );
}
