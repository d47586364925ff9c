// The comment service for the `site` bench case: startServer on DATA (spam defences but the duplicate check, and rate limits, out of
// reach, the admin password hash the parent passes in QUIRE_BENCH_ADMIN_HASH), prints its URL once it listens. Each line `stats` on stdin is answered
// with one JSON line: RSS, event-loop delay percentiles since the last `stats` (then reset), and the store's
// file and cache counters. Exits on SIGTERM.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { DEFAULT_CONFIG, startServer } from 'quire';

const [dataDir] = process.argv.slice(2);
const limit = { max: 1e9, windowSeconds: 1 };
const s = await startServer({
  dataDir: dataDir as string,
  port: 0,
  host: '127.0.0.1',
  env: {},
  logger: false,
  config: {
    adminPasswordHash: process.env.QUIRE_BENCH_ADMIN_HASH ?? null,
    // Budgets other than the defaults, to weigh memory against CPU: QUIRE_BENCH_BUDGETS='{"pageBytes":2097152}'.
    ...(process.env.QUIRE_BENCH_BUDGETS === undefined
      ? {}
      : { cache: { ...DEFAULT_CONFIG.cache, ...(JSON.parse(process.env.QUIRE_BENCH_BUDGETS) as object) } }),
    // The duplicate check at its default: the load's texts differ, so it refuses nothing, and costs what it costs
    // a site (wave 8: with it off, the bench did not see that it summarised every comment of a big thread).
    spam: {
      requireFormToken: false,
      minComposeSeconds: 0,
      duplicateWindowSeconds: DEFAULT_CONFIG.spam.duplicateWindowSeconds,
      maxLinks: 100,
    },
    rateLimits: {
      requests: limit,
      posts: limit,
      edits: limit,
      likes: limit,
      login: limit,
      threads: limit,
      threadsTotal: limit,
    },
  },
});
/** RSS and V8's share of it (heap used and reserved, and memory outside the heap: buffers, strings' backing). */
function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
process.stdout.write(`${s.url}\n`);
createInterface({ input: process.stdin }).on('line', () => {
  const ms = (ns: number) => ns / 1e6;
  const stats = {
    ...memory(),
    delayP50: ms(delay.percentile(50)),
    delayP99: ms(delay.percentile(99)),
    delayMax: ms(delay.max),
    ...s.store.cacheStats(),
  };
  delay.reset();
  process.stdout.write(`${JSON.stringify(stats)}\n`);
});
