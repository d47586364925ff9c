/** What one cut found, the totals of a campaign, and the tables printed of them. */
import type { FsType } from '@quire/testkit';

// ---- results ----

export interface CutReport {
  fs: FsType;
  cut: number;
  /** Acknowledgements the cut was planned upon. */
  plannedAt: number;
  /** Acknowledged operations (appends, keyed appends and their retries, updates) of this cut, before the cut. */
  acked: number;
  /** Acknowledgements stamped after the cut began: treated as operations in flight, not counted in `acked`. */
  late: number;
  lost: number;
  partial: number;
  /** Issues check({ repair: true }) fixed. */
  repaired: number;
  other: number;
  /**
   * What check({ repair: true }) left behind although check() then says clean: dead writers' temps anywhere in
   * the spool (.keys/ included), empty key id files.
   */
  unclean: number;
  /** One line per lost, partial, other or unclean finding, each starting with its category. */
  findings: string[];
  /** How the writers' operations failed after the cut, by error code. */
  errors: Record<string, number>;
  ms: number;
}

/** A filesystem's sums over its cuts: the counters of CutReport, added up. */
export type Totals = Pick<
  CutReport,
  'fs' | 'acked' | 'late' | 'lost' | 'partial' | 'repaired' | 'other' | 'unclean' | 'ms'
> & {
  cuts: number;
};

export function emptyTotals(fsType: FsType): Totals {
  return {
    fs: fsType,
    cuts: 0,
    acked: 0,
    late: 0,
    lost: 0,
    partial: 0,
    repaired: 0,
    other: 0,
    unclean: 0,
    ms: 0,
  };
}

export function addCut(t: Totals, r: CutReport): void {
  t.cuts++;
  t.acked += r.acked;
  t.late += r.late;
  t.lost += r.lost;
  t.partial += r.partial;
  t.repaired += r.repaired;
  t.other += r.other;
  t.unclean += r.unclean;
  t.ms += r.ms;
}

export function formatProgress(r: CutReport, of: number): string {
  const errors = Object.entries(r.errors)
    .map(([code, n]) => `${code} x${n}`)
    .join(', ');
  return (
    `[${r.fs}] cut ${r.cut}/${of}: cut upon ack ${r.plannedAt}, ${r.acked} acknowledged (+${r.late} after the cut), ${r.lost} lost, ` +
    `${r.partial} partial, ${r.repaired} repaired, ${r.other} other, ${r.unclean} unclean; ` +
    `writers failed after the cut with ${errors || 'nothing'} (${(r.ms / 1000).toFixed(2)} s)`
  );
}

/** A Markdown table, one row per filesystem. */
export function formatTable(rows: Totals[]): string {
  const head = [
    'fs',
    'cuts',
    'acknowledged ops',
    'acked after cut',
    'lost',
    'partial',
    'repaired',
    'other',
    'unclean',
    'time',
  ];
  const body = rows.map((t) => [
    t.fs,
    String(t.cuts),
    String(t.acked),
    String(t.late),
    String(t.lost),
    String(t.partial),
    String(t.repaired),
    String(t.other),
    String(t.unclean),
    `${(t.ms / 1000).toFixed(1)} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
