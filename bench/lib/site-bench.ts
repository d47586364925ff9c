import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommentStore } from 'quire';
import { ensureSite, type Site, siteParams } from './site.js';
import { feedAndQueue } from './site-admin.js';
import { type MixedResult, mixedLoad } from './site-load.js';
import {
  bare,
  countOpens,
  dropCaches,
  firstOk,
  restart,
  type ServerStats,
  SiteServer,
  send,
} from './site-probe.js';
import { fmtMs, MB, type Row, report } from './site-report.js';
import { wholeSiteRows } from './site-whole.js';
import { median } from './stats.js';

const quireBin = fileURLToPath(new URL('../../../packages/quire/bin/quire.cjs', import.meta.url));

/** How the `site` case runs. */
export interface SiteBenchOptions {
  scale: number;
  quick: boolean;
  /** A fresh scratch directory of this run. */
  scratch: string;
  progress: (line: string) => void;
  /** Steps to run (cold, big, counts, queue, every, mixed, whole); undefined: all. */
  steps?: Set<string> | undefined;
}

/** Marks a cached site whose thread indexes and recent-comments index were built (once per site). */
const INDEXED = '.bench-indexed-v1';

/**
 * Builds every thread's index snapshot and the site's recent-comments index, as a site's first reads (or
 * `quire fsck --repair`) would: once per cached site, timed, so that the measurements below see the steady state.
 */
async function prepare(site: Site, say: (s: string) => void): Promise<number> {
  const marker = path.join(site.dir, INDEXED);
  if (fs.existsSync(marker)) return Number(fs.readFileSync(marker, 'utf8'));
  say('[site] building the thread indexes (once per cached site)');
  const started = performance.now();
  const store = await CommentStore.open(site.dir, { durable: false });
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < site.threads.length; i = next++)
      await store.view(site.threads[i]?.threadId as string);
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  await store.newestApproved(1);
  const seconds = (performance.now() - started) / 1000;
  fs.writeFileSync(marker, String(seconds));
  return seconds;
}

/**
 * The site's status index (store/status-index.ts: the moderation queue), built once per cached site from the
 * thread indexes, as a server's start would do in the background: the queue row measures the steady state.
 */
async function prepareStatusIndex(site: Site, say: (s: string) => void): Promise<void> {
  if (fs.existsSync(path.join(site.dir, 'status', '.complete'))) return;
  say('[site] building the status index (once per cached site)');
  const started = performance.now();
  const store = await CommentStore.open(site.dir, { durable: false });
  await store.statusIndex.ready();
  say(`[site] status index built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Time to the first 200 of /healthz and of a thread's GET after starting the server (caches dropped). */
async function coldStart(dataDir: string, uri: string): Promise<{ healthz: number; thread: number }> {
  dropCaches();
  const since = performance.now();
  const s = await SiteServer.start(dataDir);
  const healthz = await firstOk(s.url, '/healthz', since);
  const thread = await firstOk(s.url, `/api/comments?uri=${encodeURIComponent(uri)}`, since);
  await s.stop();
  return { healthz, thread };
}

/** Medians of `rounds` cold starts on an empty directory and on the site. */
async function coldStarts(o: SiteBenchOptions, site: Site, rounds: number): Promise<Row[]> {
  const empty = path.join(o.scratch, 'empty');
  const mid = site.threads[Math.floor(site.threads.length / 2)]?.uri as string;
  const e: { healthz: number; thread: number }[] = [];
  const f: { healthz: number; thread: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    e.push(await coldStart(empty, mid));
    f.push(await coldStart(site.dir, mid));
  }
  const m = (xs: typeof e, k: 'healthz' | 'thread') => median(xs.map((x) => x[k]));
  return [
    {
      what: 'cold start: first 200 on /healthz',
      quire: m(f, 'healthz'),
      baseline: m(e, 'healthz'),
      baselineWhat: 'the same on an empty directory',
    },
    {
      what: 'cold start: first 200 on a thread GET',
      quire: m(f, 'thread'),
      baseline: m(e, 'thread'),
      baselineWhat: 'the same on an empty directory',
    },
  ];
}

interface Page {
  ids: string[];
  next: string | null;
}

/** The page's comment ids (replies included) and its cursor. */
function pageOf(body: string): Page {
  const v = JSON.parse(body) as { comments: { id: string; replies: unknown[] }[]; next: string | null };
  const ids: string[] = [];
  const stack = [...v.comments] as { id: string; replies: unknown[] }[];
  for (let c = stack.pop(); c !== undefined; c = stack.pop()) {
    ids.push(c.id);
    stack.push(...(c.replies as { id: string; replies: unknown[] }[]));
  }
  return { ids, next: v.next };
}

/** The median of three requests one after another once the first has warmed everything up. */
async function warmMs(s: SiteServer, url: string): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 3; i++) ms.push((await send(s.url, 'GET', url)).ms);
  return median(ms);
}

/** GET of a page of the biggest thread: cold (restart, caches dropped; files opened counted), then warm. */
async function bigThreadPage(
  site: Site,
  server: SiteServer,
  label: string,
  after: string | null,
): Promise<{ rows: Row[]; server: SiteServer; page: Page }> {
  const big = site.threads[0] as Site['threads'][number];
  const url = `/api/comments?uri=${encodeURIComponent(big.uri)}${after === null ? '' : `&after=${after}`}`;
  const s = await restart(server, site);
  const before = (await s.stats()).filesRead;
  let cold = 0;
  let body = '';
  const dir = path.join(site.dir, 'threads', big.threadId);
  const opened = await countOpens(s.pid, dir, async () => {
    const a = await send(s.url, 'GET', url);
    cold = a.ms;
    body = a.body;
  });
  const counted = (await s.stats()).filesRead - before;
  const warm = await warmMs(s, url);
  const page = pageOf(body);
  dropCaches();
  const stems = page.ids.map((id) => id.slice(id.lastIndexOf('_') + 1));
  const bareMs = bare(['page', dir, ...stems]);
  const note = `${page.ids.length} comments shown; files opened: ${opened ?? 'strace n/a'} (strace), ${counted} read (counter)`;
  return {
    rows: [
      {
        what: `${big.comments}-comment thread, ${label}, cold`,
        quire: cold,
        baseline: bareMs,
        baselineWhat: "readdir + read of the page's files, cold",
        note,
      },
      {
        what: `${big.comments}-comment thread, ${label}, warm`,
        quire: warm,
        baseline: null,
        baselineWhat: '',
      },
    ],
    server: s,
    page,
  };
}

/** Walks `n - 1` pages of the biggest thread by their cursors: the cursor of page `n`. */
async function cursorOfPage(site: Site, s: SiteServer, n: number): Promise<string | null> {
  const big = site.threads[0] as Site['threads'][number];
  let after: string | null = null;
  for (let i = 1; i < n; i++) {
    const url = `/api/comments?uri=${encodeURIComponent(big.uri)}${after === null ? '' : `&after=${after}`}`;
    const p = pageOf((await send(s.url, 'GET', url)).body);
    if (p.next === null) return after;
    after = p.next;
  }
  return after;
}

/** /api/counts for 100 pages, cold and warm, against a readdir of each of their directories. */
async function counts(site: Site, server: SiteServer): Promise<{ rows: Row[]; server: SiteServer }> {
  const step = Math.max(1, Math.floor(site.threads.length / 100));
  const chosen = site.threads.filter((_, i) => i % step === 0).slice(0, 100);
  const url = `/api/counts?${chosen.map((t) => `uri=${encodeURIComponent(t.uri)}`).join('&')}`;
  const s = await restart(server, site);
  const cold = (await send(s.url, 'GET', url)).ms;
  const warm = await warmMs(s, url);
  dropCaches();
  const bareMs = bare(['counts', ...chosen.map((t) => path.join(site.dir, 'threads', t.threadId))]);
  return {
    rows: [
      {
        what: `/api/counts, ${chosen.length} pages, cold`,
        quire: cold,
        baseline: bareMs,
        baselineWhat: 'readdir of each thread, cold',
      },
      { what: `/api/counts, ${chosen.length} pages, warm`, quire: warm, baseline: null, baselineWhat: '' },
    ],
    server: s,
  };
}

/** GET of every thread's first page, 16 at a time: memory after the whole site was read once. */
async function readEveryThread(site: Site, s: SiteServer): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < site.threads.length; i = next++)
      await send(s.url, 'GET', `/api/comments?uri=${encodeURIComponent(site.threads[i]?.uri as string)}`);
  };
  await Promise.all(Array.from({ length: 16 }, lane));
}

/** The `site` case (issue 16): the generated site, then every measurement against its baseline. Markdown. */
export async function siteBench(o: SiteBenchOptions): Promise<string> {
  const p = siteParams(o.scale);
  o.progress(`[site] ${p.comments} comments in ${p.threads} threads (biggest ${p.big})`);
  const site = await ensureSite(p, o.progress);
  const gen =
    site.generatedSeconds > 0 ? `generated in ${site.generatedSeconds.toFixed(1)} s` : 'from the cache';
  o.progress(`[site] ${site.dir}: ${gen}`);
  const indexSeconds = await prepare(site, o.progress);
  await prepareStatusIndex(site, o.progress);
  fs.mkdirSync(path.join(o.scratch, 'empty'), { recursive: true });
  o.progress('[site] cold starts');
  const rows: Row[] = [];
  // Each row is also told as it is measured: a run cut short still leaves its figures in the log.
  const push = rows.push.bind(rows);
  rows.push = (...r: Row[]) => {
    for (const x of r)
      o.progress(
        `[site] ${x.what}: ${fmtMs(x.quire)} vs ${x.baseline === null ? '-' : fmtMs(x.baseline)} ${x.note ?? ''}`,
      );
    return push(...r);
  };
  const want = (step: string) => o.steps === undefined || o.steps.has(step);
  if (want('cold')) rows.push(...(await coldStarts(o, site, o.quick ? 1 : 3)));
  let server = await restart(null, site);
  const idle = await server.stats();
  if (want('big')) {
    o.progress('[site] the biggest thread: page 1 and page 100');
    const first = await bigThreadPage(site, server, 'page 1', null);
    rows.push(...first.rows);
    const cursor = await cursorOfPage(site, first.server, 100);
    const hundred = await bigThreadPage(site, first.server, 'page 100', cursor);
    rows.push(...hundred.rows);
    server = hundred.server;
  }
  if (want('counts')) {
    o.progress('[site] counts');
    const c = await counts(site, server);
    rows.push(...c.rows);
    server = c.server;
  }
  if (want('queue')) {
    o.progress('[site] feed, admin queue');
    const fq = await feedAndQueue(o, site, server);
    rows.push(...fq.rows);
    server = fq.server;
  }
  let afterAll: ServerStats | null = null;
  if (want('every')) {
    o.progress('[site] GET of every thread');
    await readEveryThread(site, server);
    afterAll = await server.stats();
    o.progress(`[site] RSS idle ${idle.rss / MB} MB, after every thread ${afterAll.rss / MB} MB`);
  }
  let mixed: MixedResult | null = null;
  let underLoad: ServerStats | null = null;
  if (want('mixed')) {
    const seconds = o.quick ? 10 : 60;
    o.progress(`[site] mixed load, ${seconds} s at c=64`);
    await server.stats();
    mixed = await mixedLoad(server.url, site, 64, seconds);
    underLoad = await server.stats();
    o.progress(`[site] mixed: ${JSON.stringify(mixed)} ${JSON.stringify(underLoad)}`);
  }
  await server.stop();
  if (want('whole')) {
    o.progress('[site] quire fsck and quire export');
    rows.push(...wholeSiteRows(site, quireBin));
  }
  return report(o.quick, site, indexSeconds, rows, { idle, afterAll, underLoad }, mixed);
}
