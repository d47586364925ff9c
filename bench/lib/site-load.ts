import { randomBytes } from 'node:crypto';
import type { Site } from './site.js';
import { commentStem } from './site.js';
import { send } from './site-probe.js';

/** Latencies of one route in the mixed load. */
export interface RouteResult {
  route: string;
  count: number;
  p50: number;
  p99: number;
  /** Answers 5xx or connection errors. */
  errors: number;
  /** 4xx answers (a like of a comment the public cannot see is a 404 by design). */
  refused: number;
}

export interface MixedResult {
  seconds: number;
  connections: number;
  rate: number;
  routes: RouteResult[];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
}

/** Picks thread indexes with probability by their comment count (the power law of the site). */
function powerLawPicker(site: Site): () => number {
  const cumulative: number[] = [];
  let sum = 0;
  for (const t of site.threads) {
    sum += t.comments;
    cumulative.push(sum);
  }
  return () => {
    const x = Math.random() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/**
 * `connections` lanes for `seconds`: 90 % GET of a thread's first page, 9 % POST of a new comment, 1 % like of
 * an existing comment, threads chosen by the site's power law (a thread with more comments is read and written
 * more). Latencies per route; the client runs in this process, on the same CPUs as the server.
 */
export async function mixedLoad(
  base: string,
  site: Site,
  connections: number,
  seconds: number,
): Promise<MixedResult> {
  const pick = powerLawPicker(site);
  const lat = new Map<string, number[]>([
    ['GET', []],
    ['POST', []],
    ['like', []],
  ]);
  const bad = new Map<string, { errors: number; refused: number }>();
  const note = (route: string, status: number, ms: number) => {
    lat.get(route)?.push(ms);
    const b = bad.get(route) ?? { errors: 0, refused: 0 };
    if (status >= 500 || status === 0) b.errors++;
    else if (status >= 400) b.refused++;
    bad.set(route, b);
  };
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  const lane = async () => {
    while (performance.now() < end) {
      const i = pick();
      const t = site.threads[i] as (typeof site.threads)[number];
      const r = Math.random();
      const [route, a] =
        r < 0.9
          ? ['GET', send(base, 'GET', `/api/comments?uri=${encodeURIComponent(t.uri)}`)]
          : r < 0.99
            ? ['POST', send(base, 'POST', '/api/comments', post(t.uri))]
            : [
                'like',
                send(
                  base,
                  'POST',
                  `/api/comments/${t.threadId}_${commentStem(i, Math.floor(Math.random() * t.comments))}/like`,
                ),
              ];
      const answer = await a.catch(() => ({ status: 0, ms: 0, body: '' }));
      note(route, answer.status, answer.ms);
    }
  };
  await Promise.all(Array.from({ length: connections }, lane));
  const took = (performance.now() - started) / 1000;
  let total = 0;
  const routes = [...lat].map(([route, xs]) => {
    xs.sort((a, b) => a - b);
    total += xs.length;
    const b = bad.get(route) ?? { errors: 0, refused: 0 };
    return { route, count: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), ...b };
  });
  return { seconds: took, connections, rate: total / took, routes };
}

function post(uri: string): unknown {
  const nonce = randomBytes(12).toString('hex');
  return {
    uri,
    author: 'bench',
    text: `a comment under load ${nonce} ${'lorem ipsum '.repeat(15)}`,
    nonce,
    attempt: 1,
  };
}
