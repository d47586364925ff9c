/**
 * Paired chunks for issue 17's targets (a quire call against the C program doing its syscalls). On this shared
 * machine a durable publish costs 0.4-7 ms depending on who else is fsyncing, and the load changes within a
 * second, so two cases timed seconds apart (as the rounds of run.ts time them) differ by up to 10× for reasons
 * of their own. Here each pair runs back to back in short chunks (tens of milliseconds each), the order
 * alternating (C first, then quire first), every chunk in fresh directories; the ratio is the median of the
 * per-chunk ratios. A burst of someone else's I/O then hits both halves of a chunk, or one chunk of many.
 */
import { loadAverage } from './machine.js';
import { median } from './stats.js';

/** What a pair needs of a case: run `ops` calls into `dir` and say how long they took. */
export interface Timed {
  id: string;
  run(dir: string, warmDir: string, ops: number, warmup?: number): Promise<{ ops: number; seconds: number }>;
}

export interface Pair {
  quire: Timed;
  c: Timed;
  /** Calls per chunk on each side (a multiple of the calls in flight). */
  ops: number;
}

export interface PairResult {
  /** quire's rate / C's rate, one per chunk. */
  ratios: number[];
  median: number;
  /** The middle half of the chunk ratios: how far one chunk can be trusted. */
  q1: number;
  q3: number;
  quireRate: number;
  cRate: number;
  load: string;
}

/** The key run.ts looks a pair's result up by. */
export function pairKey(quire: string, c: string): string {
  return `${quire} vs ${c}`;
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
}

/**
 * Runs every pair for `chunks` chunks, pairs interleaved within each chunk round so that all of them see the
 * same stretch of the machine's day. Warm-up is left to the caller (the rounds before this have run every case):
 * a chunk's calls start at once.
 */
export async function runPairs(
  pairs: readonly Pair[],
  chunks: number,
  fresh: (label: string) => string,
  progress: (line: string) => void,
): Promise<Map<string, PairResult>> {
  const ratios = pairs.map((): number[] => []);
  const rates = pairs.map(() => ({ quire: [] as number[], c: [] as number[] }));
  const loadBefore = loadAverage();
  for (let k = 0; k < chunks; k++) {
    for (const [i, p] of pairs.entries()) {
      const timeOne = async (t: Timed) => {
        const label = `pair-${k}-${i}-${t.id}`;
        const r = await t.run(fresh(label), fresh(`${label}.warm`), p.ops, 0);
        return r.ops / r.seconds;
      };
      const cFirst = k % 2 === 0;
      const first = await timeOne(cFirst ? p.c : p.quire);
      const second = await timeOne(cFirst ? p.quire : p.c);
      const [q, c] = cFirst ? [second, first] : [first, second];
      ratios[i]!.push(q / c);
      rates[i]!.quire.push(q);
      rates[i]!.c.push(c);
    }
    if (pairs.length > 0 && ((k + 1) % 4 === 0 || k + 1 === chunks)) {
      const now = pairs.map((p, i) => `${p.quire.id} ${median(ratios[i]!).toFixed(2)}`).join(', ');
      progress(`[pairs ${k + 1}/${chunks}] median so far: ${now}`);
    }
  }
  const load = `${loadBefore} before, ${loadAverage()} after`;
  const out = new Map<string, PairResult>();
  for (const [i, p] of pairs.entries()) {
    const r = ratios[i]!;
    out.set(pairKey(p.quire.id, p.c.id), {
      ratios: r,
      median: median(r),
      q1: quantile(r, 0.25),
      q3: quantile(r, 0.75),
      quireRate: median(rates[i]!.quire),
      cRate: median(rates[i]!.c),
      load,
    });
  }
  return out;
}
