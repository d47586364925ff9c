/** Listing a spool: record names only, never contents, in (timestamp, counter) order, a page at a time. */
import { invalidArg } from './errors.js';
import type { RecordName } from './names.js';
import type { SpoolContext } from './spool-context.js';
import { wrapAsync } from './steps.js';
import { retrying } from './transient.js';

/** Options of Spool.list and Spool.ids: a page of ids. */
export interface ListOptions {
  /** Only ids that sort after this id (exclusive): pass the last id of a page to get the next page. */
  after?: string;
  /** Only ids that sort before this id (exclusive). */
  before?: string;
  /** At most this many ids (the first ones in the order asked for). Default: all. */
  limit?: number;
  /** Newest first. */
  reverse?: boolean;
}

/** Numbers, not the stamp string: comparing two doubles is several times cheaper, and listing compares a lot. */
interface SortKey {
  time: number;
  counter: number;
  name: string;
}

function byKey(a: SortKey, b: SortKey): number {
  if (a.time !== b.time) return a.time - b.time;
  if (a.counter !== b.counter) return a.counter - b.counter;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function keyOf(parsed: RecordName): SortKey {
  return { time: parsed.time, counter: parsed.counter, name: parsed.name };
}

/**
 * The `k` first of `items` in `order`, sorted, without sorting them all: one pass, each item compared with the
 * worst kept so far and, when better, binary-inserted among the `k` kept.
 */
function smallest(items: SortKey[], k: number, order: (a: SortKey, b: SortKey) => number): SortKey[] {
  const best: SortKey[] = [];
  if (k === 0) return best;
  for (const item of items) {
    if (best.length === k && order(item, best[k - 1] as SortKey) >= 0) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order(item, best[mid] as SortKey) < 0) hi = mid;
      else lo = mid + 1;
    }
    best.splice(lo, 0, item);
    if (best.length > k) best.pop();
  }
  return best;
}

/** Spool.list(): one readdir, the names of records kept, the page picked (partially sorted when small). */
export async function listIds(spool: SpoolContext, opts: ListOptions = {}): Promise<string[]> {
  const after = opts.after === undefined ? undefined : spool.checkId(opts.after);
  const before = opts.before === undefined ? undefined : spool.checkId(opts.before);
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  if (!(limit >= 0)) throw invalidArg('limit must be a number >= 0');
  const names = await wrapAsync('list', () => retrying({ op: 'readdir', path: spool.dir }));
  const lo = after === undefined ? undefined : keyOf(spool.recordName(after) as RecordName);
  const hi = before === undefined ? undefined : keyOf(spool.recordName(before) as RecordName);
  const order = opts.reverse ? (a: SortKey, b: SortKey) => byKey(b, a) : byKey;
  const keyed: SortKey[] = [];
  for (const name of names) {
    const parsed = spool.recordName(name);
    if (parsed === null) continue;
    const k = keyOf(parsed);
    if ((lo && byKey(k, lo) <= 0) || (hi && byKey(k, hi) >= 0)) continue;
    keyed.push(k);
  }
  const page = limit < keyed.length / 8 ? smallest(keyed, limit, order) : keyed.sort(order).slice(0, limit);
  return page.map((k) => k.name);
}
