/**
 * `npm run bench -- --only hosts`: quire on a GlusterFS replica-3 volume (the test rig of @quire/testkit, three
 * client hosts in network namespaces) with 1, 2 and 3 instances, next to one instance on the local disk of the
 * same host, in one run: POSTs/s, GET p50/p99, and the event-loop delay (p99) of the first instance during the
 * POST run. Under both client caching profiles.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CachingProfile, HostsRig, rigMissing, type Service, socketRequest } from '@quire/testkit';
import { DEFAULT_CONFIG } from 'quire';
import { median } from './stats.js';
import { renderTable } from './table.js';

/** The committed `quire` command; this file runs as bench/dist/lib/hosts.js. */
const QUIRE_BIN = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../packages/quire/bin/quire.cjs',
);
const ELD_PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'hosts-eld.js');
const PORT = 8080;
const ELD_PORT = 9100;
const PAGE = 'https://blog.example/posts/hosts';
const CONFIG = {
  spam: { minComposeSeconds: 0 },
  rateLimits: Object.fromEntries(
    Object.keys(DEFAULT_CONFIG.rateLimits).map((k) => [k, { max: 0, windowSeconds: 60 }]),
  ),
  connections: { perClient: 100_000 },
  logLevel: 'warn',
};

export interface HostsOptions {
  profiles: CachingProfile[];
  /** Seconds of POSTs, then of GETs, per row. */
  seconds: number;
  concurrency: number;
  progress: (line: string) => void;
}

export interface HostsRow {
  place: string;
  instances: number;
  postRate: number;
  postP50: number;
  getRate: number;
  getP50: number;
  getP99: number;
  /** Event-loop delay of the first instance during the POST run, ms. */
  eldP99: number;
  eldMax: number;
  errors: number;
  /** The first failed answer, to say why. */
  firstError: string | undefined;
}

export interface HostsResult {
  rows: HostsRow[];
  skipped?: string;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number);
};

/** Runs `one` from `loops` loops for `seconds`; latencies (ms) of the answers `ok` accepts, and the others. */
async function drive(seconds: number, loops: number, one: (k: number) => Promise<boolean>) {
  const lat: number[] = [];
  let errors = 0;
  let k = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const ok = await one(k++).catch(() => false);
        if (ok) lat.push(performance.now() - s);
        else errors++;
      }
    }),
  );
  return { rate: lat.length / ((performance.now() - t0) / 1000), lat, errors };
}

/** Starts an instance on each of `hosts` (the first with the event-loop probe) into `services`; forwards ports. */
async function startAll(
  rig: HostsRig,
  socks: Map<string, string>,
  hosts: string[],
  dataDir: (h: string) => string,
  services: Service[],
): Promise<void> {
  for (const [i, h] of hosts.entries()) {
    const cfg = rig.local(h, 'bench-config.json');
    fs.writeFileSync(cfg, JSON.stringify(CONFIG));
    // The first instance reports its event-loop delay (hosts-eld.ts) on a port of its own.
    const pre = i === 0 ? ['--import', ELD_PRELOAD] : [];
    const serve = [
      'serve',
      '--data',
      dataDir(h),
      '--host',
      rig.address(h),
      '--port',
      String(PORT),
      '--config',
      cfg,
    ];
    services.push(
      await rig.startService(h, [process.execPath, ...pre, QUIRE_BIN, ...serve], /quire serve: listening on/),
    );
    if (!socks.has(h)) socks.set(h, await rig.forward(h, PORT));
    if (i === 0 && !socks.has(`${h}-eld`)) socks.set(`${h}-eld`, await rig.forward(h, ELD_PORT));
  }
}

/** One row: `hosts` each run an instance on their `dataDir`; POSTs then GETs spread over them. */
async function row(
  rig: HostsRig,
  socks: Map<string, string>,
  hosts: string[],
  dataDir: (h: string) => string,
  place: string,
  opts: HostsOptions,
): Promise<HostsRow> {
  const services: Service[] = [];
  let firstError: string | undefined;
  try {
    await startAll(rig, socks, hosts, dataDir, services);
    const sock = (k: number) => socks.get(hosts[k % hosts.length] as string) as string;
    const tok = JSON.parse(
      (await socketRequest(sock(0), 'GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`)).text,
    ).formToken;
    let n = 0;
    const post = async (k: number) => {
      const i = n++;
      const body = {
        uri: PAGE,
        text: `bench ${place} ${hosts.length} ${i}`,
        formToken: tok,
        nonce: `bench-${hosts.length}-${String(i).padStart(8, '0')}`,
      };
      const r = await socketRequest(sock(k), 'POST', '/api/comments', body);
      if (r.status !== 201 && firstError === undefined)
        firstError = `POST: ${r.status} ${r.text.slice(0, 300)}`;
      return r.status === 201;
    };
    await drive(1, opts.concurrency, post); // warm-up: code paths, the thread's directory, the views
    const eldSock = socks.get(`${hosts[0]}-eld`) as string;
    await socketRequest(eldSock, 'GET', '/reset');
    const posts = await drive(opts.seconds, opts.concurrency, post);
    const eld = JSON.parse((await socketRequest(eldSock, 'GET', '/')).text) as { p99: number; max: number };
    const gets = await drive(
      opts.seconds,
      opts.concurrency,
      async (k) =>
        (await socketRequest(sock(k), 'GET', `/api/comments?uri=${encodeURIComponent(PAGE)}&limit=50`))
          .status === 200,
    );
    return {
      place,
      instances: hosts.length,
      postRate: posts.rate,
      postP50: median(posts.lat),
      getRate: gets.rate,
      getP50: pct(gets.lat, 50),
      getP99: pct(gets.lat, 99),
      eldP99: eld.p99,
      eldMax: eld.max,
      errors: posts.errors + gets.errors,
      firstError,
    };
  } finally {
    for (const s of services) HostsRig.signal(s.child, 'SIGTERM');
    await Promise.all(services.map((s) => s.exit));
  }
}

/** The whole case: per profile a rig, a local-disk row, then 1, 2, 3 instances on the volume. */
export async function hostsBench(opts: HostsOptions): Promise<HostsResult> {
  const missing = rigMissing();
  if (missing !== undefined) return { rows: [], skipped: missing };
  const rows: HostsRow[] = [];
  for (const profile of opts.profiles) {
    opts.progress(`[hosts] ${profile}: bringing up a GlusterFS replica-3 rig`);
    const rig = await HostsRig.up(profile);
    const socks = new Map<string, string>();
    try {
      const places: [string, string[], (h: string) => string][] = [
        ['local disk', ['a'], (h) => rig.local(h, 'bench-data')],
        ...[1, 2, 3].map((n): [string, string[], (h: string) => string] => [
          `GlusterFS ${profile}`,
          rig.hosts.slice(0, n),
          (h) => path.join(rig.mount(h), `bench-${n}`),
        ]),
      ];
      for (const [place, hosts, dir] of places) {
        if (profile !== opts.profiles[0] && place === 'local disk') continue;
        const r = await row(rig, socks, hosts, dir, place, opts);
        opts.progress(
          `[hosts] ${place} x${hosts.length}: ${r.postRate.toFixed(1)} POSTs/s, GET p50 ${r.getP50.toFixed(1)} ms p99 ${r.getP99.toFixed(1)} ms, event loop p99 ${r.eldP99.toFixed(1)} ms`,
        );
        if (r.firstError !== undefined) opts.progress(`[hosts]   first failure: ${r.firstError}`);
        rows.push(r);
      }
    } finally {
      await rig.down();
    }
  }
  return { rows };
}

/** The report's table. */
export function hostsTable(r: HostsResult): string {
  if (r.skipped !== undefined) return `hosts: skipped: ${r.skipped}`;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
  return renderTable(
    [
      { title: 'data on' },
      { title: 'instances', align: 'right' },
      { title: 'POSTs/s', align: 'right' },
      { title: 'POST p50 ms', align: 'right' },
      { title: 'GETs/s', align: 'right' },
      { title: 'GET p50 ms', align: 'right' },
      { title: 'GET p99 ms', align: 'right' },
      { title: 'event loop p99 ms (POSTs)', align: 'right' },
      { title: 'event loop max ms', align: 'right' },
      { title: 'failed', align: 'right' },
    ],
    r.rows.map((x) => [
      x.place,
      String(x.instances),
      f(x.postRate),
      f(x.postP50),
      f(x.getRate),
      f(x.getP50),
      f(x.getP99),
      f(x.eldP99),
      f(x.eldMax),
      String(x.errors),
    ]),
  );
}
