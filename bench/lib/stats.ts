/** Small numeric helpers: medians, a monotonic clock shared with child processes, number formatting. */

/** Nanoseconds on CLOCK_MONOTONIC: the clock the C baseline and the workers report, so windows can be merged. */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** ops/s as people read it: 3 significant digits, thousands as k. */
export function fmtRate(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 10_000) return `${(x / 1000).toFixed(1)}k`;
  if (x >= 100) return Math.round(x).toString();
  return x.toFixed(1);
}

export function fmtRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return `${x.toFixed(2)}×`;
}

export function fmtSeconds(s: number): string {
  return s >= 10 ? `${s.toFixed(0)} s` : `${s.toFixed(2)} s`;
}
