export function emptyTotals(fsType) {
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
export function addCut(t, r) {
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
export function formatProgress(r, of) {
    const errors = Object.entries(r.errors)
        .map(([code, n]) => `${code} x${n}`)
        .join(', ');
    return (`[${r.fs}] cut ${r.cut}/${of}: cut upon ack ${r.plannedAt}, ${r.acked} acknowledged (+${r.late} after the cut), ${r.lost} lost, ` +
        `${r.partial} partial, ${r.repaired} repaired, ${r.other} other, ${r.unclean} unclean; ` +
        `writers failed after the cut with ${errors || 'nothing'} (${(r.ms / 1000).toFixed(2)} s)`);
}
/** A Markdown table, one row per filesystem. */
export function formatTable(rows) {
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
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
    const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
    return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
//# sourceMappingURL=powercut-report.js.map