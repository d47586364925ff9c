import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUnique } from '@quire/fs';
import { generatorCpuUs, processCpuUs } from './cpu.js';
import { type LoadResult, type LoadTool, runLoad } from './load.js';
import { fsType } from './machine.js';
import { spreadSubdirs } from './scratch.js';
import type { GetResult, Place, PostCpu, PostResult, ServiceResult } from './service-report.js';
import { median } from './stats.js';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'service-worker.js');
const PAGE = 'https://blog.example/posts/benchmark';
/** The warm-up's page: another thread, so the measured one starts empty, as the library's directory does. */
const WARM_PAGE = 'https://blog.example/posts/warm-up';

/** Issue 15: a webhook receiver answering 204, for the notifications-on variant of the POST rounds. */
async function hookReceiver(): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, close: () => server.close() };
}

async function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(line.trim());
    });
    child.on('exit', (code) => reject(new Error(`service worker exited ${code}`)));
  });
  return { child, url };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Durable createUnique with `inFlight` calls at once into one directory: the library's own rate. */
async function libraryRate(dir: string, n: number, inFlight: number): Promise<number> {
  fs.mkdirSync(dir, { recursive: true });
  const body = JSON.stringify({ text: 'x'.repeat(300) });
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < n) await createUnique(dir, body, { suffix: '.json' });
    }),
  );
  return n / ((performance.now() - t) / 1000);
}

const bad = (r: LoadResult) => r.non2xx + r.errors;

/**
 * A journaled ext4 in a loop-mounted image file on the temp dir, made for this run (root only). The machine's
 * own filesystem may lack a journal (this one does), which makes fsync unusually cheap; a journaled ext4 is what
 * mkfs.ext4 and the distributions' installers make, so it is measured too.
 */
export function mountJournaledExt4(root: string): { place: Place; unmount: () => void } | string {
  if (process.getuid?.() !== 0) return 'journaled ext4 image: needs root (loop mount)';
  const image = path.join(root, 'ext4.img');
  const dir = path.join(root, 'ext4');
  try {
    fs.writeFileSync(image, '');
    // Sparse, 16 GiB, an inode per 8 KiB (2 million): a round's side-by-side windows make about 200,000 small
    // files (a 4 GiB image ran out in round 2), and each round's are removed after it.
    fs.truncateSync(image, 16 * 1024 ** 3);
    execFileSync('mkfs.ext4', ['-q', '-F', '-i', '8192', image], { stdio: 'ignore' });
    fs.mkdirSync(dir);
    execFileSync('mount', ['-o', 'loop', image, dir], { stdio: 'ignore' });
  } catch (err) {
    return `journaled ext4 image: ${(err as Error).message.split('\n')[0]}`;
  }
  return {
    place: { label: 'journaled ext4 (loop image)', fs: fsType(dir), dir },
    unmount: () => execFileSync('umount', [dir], { stdio: 'ignore' }),
  };
}

export interface ServiceOptions {
  tool: LoadTool;
  places: Place[];
  rounds: number;
  /** createUnique calls per library run. */
  libraryOps: number;
  /**
   * Load before each measured window, not counted: a new server process runs its first few thousand requests
   * in V8's interpreter and baseline tiers (measured: 1200-2100 POSTs/s in its first 3 s, 2600-2900 after), and
   * a service is measured as it runs for days, warm. The library gets the same (warmOps calls first).
   */
  warmSeconds: number;
  warmOps: number;
  postSeconds: number;
  getSeconds: number;
  scratch: string;
  progress: (line: string) => void;
}

/** One of the servers measured side by side: the service worker's arguments, and where it warms up. */
interface Contender {
  args: string[];
  /** quire warms up on another page; the bare servers write what is posted to /warm elsewhere. */
  warm: 'page' | 'path';
}

/**
 * Each contender's rates (2xx answers/s), p50 latencies (ms) and CPU per 2xx answer (µs: the server process,
 * every thread; `genCpu`: the load generator), one per window, and the answers not 2xx.
 */
interface Windows {
  rates: number[][];
  p50s: number[][];
  cpu: number[][];
  genCpu: number[][];
  bad: number;
}

/**
 * The contenders, all started at once, measured in alternating windows (forward, then backward, ...) of
 * `seconds` each: the machine's load drifts between sequential runs far more than the differences measured
 * (the same run twice differed by 2x on a shared machine), while windows next to each other see about the same
 * load, so the ratios of neighbouring windows are what to compare.
 */
async function alternating(
  o: ServiceOptions,
  contenders: Contender[],
  connections: number,
  windows: number,
  seconds: number,
): Promise<Windows> {
  const servers: { child: ChildProcess; url: string }[] = [];
  try {
    for (const c of contenders) servers.push(await start(c.args));
    const load = (i: number, warm: boolean, secs: number) => {
      const base = servers[i]?.url as string;
      const url = warm && contenders[i]?.warm === 'path' ? `${base}/warm` : `${base}/api/comments`;
      const page = warm && contenders[i]?.warm === 'page' ? WARM_PAGE : PAGE;
      return runLoad(o.tool, { url, connections, seconds: secs, postComments: page }, o.scratch);
    };
    for (let i = 0; i < servers.length; i++) await load(i, true, o.warmSeconds);
    const each = () => contenders.map((): number[] => []);
    const out: Windows = { rates: each(), p50s: each(), cpu: each(), genCpu: each(), bad: 0 };
    const order = contenders.map((_, i) => i);
    for (let w = 0; w < windows; w++) {
      for (const i of w % 2 === 0 ? order : [...order].reverse()) {
        const pid = servers[i]?.child.pid;
        const [server0, gen0] = [processCpuUs(pid), generatorCpuUs()];
        const r = await load(i, false, seconds);
        out.bad += bad(r);
        out.rates[i]?.push(r.ok / r.seconds);
        out.p50s[i]?.push(r.p50Ms);
        out.cpu[i]?.push((processCpuUs(pid) - server0) / r.ok);
        out.genCpu[i]?.push((generatorCpuUs() - gen0) / r.ok);
      }
    }
    return out;
  } finally {
    for (const s of servers) await stop(s.child);
  }
}

/** Median of the per-window ratios a / b. */
const windowRatio = (a: number[], b: number[]) => median(a.map((x, k) => x / (b[k] as number)));

/** A data directory for quire under `dir`, its threads spread over block groups (see Place.dir). */
function quireDir(dir: string): string {
  const threads = path.join(dir, 'threads');
  fs.mkdirSync(threads, { recursive: true });
  spreadSubdirs(threads);
  return dir;
}

/** The windows' CPU per POST of quire, bare and Fastify (their contenders' indexes) and of the generator. */
function cpuOf(w: Windows, [quire, bare, fastify]: [number, number, number]): PostCpu {
  const of = (i: number) => median(w.cpu[i] as number[]);
  return { quire: of(quire), bare: of(bare), fastify: of(fastify), generator: median(w.genCpu.flat()) };
}

/** What one round of postBench measured. */
interface Round {
  post: number;
  lib: number;
  bare: number;
  fastify: number;
  ceilingRatio: number;
  fastifyRatio: number;
  append: number;
  appendRatio: number;
  notify: number;
  p50: { quire: number; bare: number; fastify: number };
  cpu: PostCpu;
  cpuOne: PostCpu;
  n: number;
  bad: number;
}

/**
 * One round on one filesystem: the library's durable createUnique with 32 calls in flight; then, side by side
 * in alternating windows of 32 connections, quire (notifications off), quire with the outbox append (issue 15),
 * bare node:http + createUnique (the ceiling, issue 16) and Fastify + createUnique; then quire with delivery on;
 * then one POST at a time, quire against the bare server (issue 17's p50) and Fastify doing the same as the bare one.
 */
async function postRound(place: Place, o: ServiceOptions, r: number, notifyConfig: (d: boolean) => string) {
  await libraryRate(path.join(place.dir, `library-${r}-warm`), o.warmOps, 32);
  const lib = await libraryRate(path.join(place.dir, `library-${r}`), o.libraryOps, 32);
  const dir = (name: string) => path.join(place.dir, `${name}-${r}`);
  const side = await alternating(
    o,
    [
      { args: ['quire', quireDir(dir('data'))], warm: 'page' },
      { args: ['quire', quireDir(dir('append')), notifyConfig(false)], warm: 'page' },
      { args: ['bare-post', dir('bare')], warm: 'path' },
      { args: ['fastify-post', dir('fastify')], warm: 'path' },
    ],
    32,
    4,
    o.postSeconds,
  );
  const [post, append, bare, fastify] = side.rates as [number[], number[], number[], number[]];
  const on = await alternating(
    o,
    [{ args: ['quire', quireDir(dir('notify')), notifyConfig(true)], warm: 'page' }],
    32,
    1,
    o.postSeconds,
  );
  const one = await alternating(
    o,
    [
      { args: ['quire', quireDir(dir('one'))], warm: 'page' },
      { args: ['bare-post', dir('one-bare')], warm: 'path' },
      { args: ['fastify-post', dir('one-fastify')], warm: 'path' },
    ],
    1,
    4,
    o.postSeconds,
  );
  // What the round wrote goes: the image holds a few rounds' files, not the run's.
  for (const name of fs.readdirSync(place.dir)) {
    if (name.endsWith(`-${r}`) || name.endsWith(`-${r}-warm`))
      fs.rmSync(path.join(place.dir, name), { recursive: true, force: true });
  }
  const round: Round = {
    post: median(post),
    lib,
    bare: median(bare),
    fastify: median(fastify),
    ceilingRatio: windowRatio(post, bare),
    fastifyRatio: windowRatio(fastify, bare),
    append: median(append),
    appendRatio: windowRatio(append, post),
    notify: median(on.rates[0] as number[]),
    p50: {
      quire: median(one.p50s[0] as number[]),
      bare: median(one.p50s[1] as number[]),
      fastify: median(one.p50s[2] as number[]),
    },
    cpu: cpuOf(side, [0, 2, 3]),
    cpuOne: cpuOf(one, [0, 1, 2]),
    n: post.reduce((a, x) => a + x * o.postSeconds, 0),
    bad: side.bad + on.bad + one.bad,
  };
  o.progress(
    `[service] ${place.label}: POST ${round.post.toFixed(0)}/s, bare node:http + createUnique ${round.bare.toFixed(0)}/s ` +
      `(quire ${round.ceilingRatio.toFixed(2)} of it), Fastify + createUnique ${round.fastify.toFixed(0)}/s ` +
      `(${round.fastifyRatio.toFixed(2)}), createUnique ${lib.toFixed(0)}/s, with the outbox append ` +
      `${round.append.toFixed(0)}/s (${round.appendRatio.toFixed(2)} of off), with delivery too ` +
      `${round.notify.toFixed(0)}/s; one at a time p50 ${round.p50.quire.toFixed(2)} ms vs bare ` +
      `${round.p50.bare.toFixed(2)} ms, Fastify ${round.p50.fastify.toFixed(2)} ms; CPU per POST: quire ` +
      `${round.cpu.quire.toFixed(0)} µs, bare ${round.cpu.bare.toFixed(0)}, Fastify ${round.cpu.fastify.toFixed(0)}, ` +
      `load generator ${round.cpu.generator.toFixed(0)}; one at a time quire ${round.cpuOne.quire.toFixed(0)} µs, bare ` +
      `${round.cpuOne.bare.toFixed(0)}, Fastify ${round.cpuOne.fastify.toFixed(0)} (round ${r + 1})` +
      (round.bad > 0 ? `; ${round.bad} answers not 2xx: this round is not valid` : ''),
  );
  return round;
}

/** postRound `o.rounds` times on `place`; medians over the rounds. */
async function postBench(place: Place, o: ServiceOptions): Promise<PostResult> {
  spreadSubdirs(place.dir);
  const hook = await hookReceiver();
  // Issue 15: a webhook per event; `deliver: false` measures the outbox append alone.
  const notifyConfig = (deliver: boolean) =>
    JSON.stringify({
      notify: {
        webhooks: [
          { url: hook.url, events: [], secret: 'bench secret of 16+ chars', moderatorFields: false },
        ],
        webhooksAllowPrivate: true,
        deliver,
      },
    });
  const rounds: Round[] = [];
  try {
    for (let r = 0; r < o.rounds; r++) rounds.push(await postRound(place, o, r, notifyConfig));
  } finally {
    hook.close();
  }
  const med = (f: (x: Round) => number) => median(rounds.map(f));
  return {
    place,
    postRate: med((x) => x.post),
    libraryRate: med((x) => x.lib),
    barePostRate: med((x) => x.bare),
    ratio: med((x) => x.post / x.lib),
    bareRatio: med((x) => x.bare / x.lib),
    appendRate: med((x) => x.append),
    appendRatio: med((x) => x.appendRatio),
    notifyRate: med((x) => x.notify),
    notifyRatio: med((x) => x.notify / x.post),
    ceilingRatio: med((x) => x.ceilingRatio),
    fastifyRate: med((x) => x.fastify),
    fastifyRatio: med((x) => x.fastifyRatio),
    p50: { quire: med((x) => x.p50.quire), bare: med((x) => x.p50.bare), fastify: med((x) => x.p50.fastify) },
    cpu: {
      quire: med((x) => x.cpu.quire),
      bare: med((x) => x.cpu.bare),
      fastify: med((x) => x.cpu.fastify),
      generator: med((x) => x.cpu.generator),
    },
    cpuOne: {
      quire: med((x) => x.cpuOne.quire),
      bare: med((x) => x.cpuOne.bare),
      fastify: med((x) => x.cpuOne.fastify),
      generator: med((x) => x.cpuOne.generator),
    },
    posts: Math.round(rounds.reduce((a, x) => a + x.n, 0)),
    bad: rounds.reduce((a, x) => a + x.bad, 0),
  };
}

/** GETs of a 200-comment page against a bare node:http server answering the same bytes, alternating. */
async function getBench(dir: string, o: ServiceOptions): Promise<GetResult> {
  const server = await start(['quire', dir]);
  let bare: { child: ChildProcess; url: string } | undefined;
  try {
    const fill = await runLoad(
      o.tool,
      { url: `${server.url}/api/comments`, connections: 32, seconds: 1, postComments: PAGE },
      o.scratch,
    );
    if (fill.ok < 200) throw new Error(`only ${fill.ok} comments were posted for the GET benchmark`);
    const listUrl = `${server.url}/api/comments?uri=${encodeURIComponent(PAGE)}&limit=200`;
    const body = Buffer.from(await (await fetch(listUrl)).arrayBuffer());
    const bodyFile = path.join(o.scratch, 'thread.json');
    fs.writeFileSync(bodyFile, body);
    bare = await start(['bare', bodyFile]);
    for (const url of [listUrl, bare.url]) {
      await runLoad(o.tool, { url, connections: 10, seconds: o.warmSeconds }, o.scratch);
    }
    const rounds: { get: number; bare: number; bad: number }[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const q = await runLoad(o.tool, { url: listUrl, connections: 10, seconds: o.getSeconds }, o.scratch);
      const b = await runLoad(o.tool, { url: bare.url, connections: 10, seconds: o.getSeconds }, o.scratch);
      rounds.push({ get: q.ok / q.seconds, bare: b.ok / b.seconds, bad: bad(q) + bad(b) });
    }
    return {
      getRate: median(rounds.map((x) => x.get)),
      bareRate: median(rounds.map((x) => x.bare)),
      ratio: median(rounds.map((x) => x.get / x.bare)),
      threadBytes: body.length,
      bad: rounds.reduce((a, x) => a + x.bad, 0),
    };
  } finally {
    if (bare) await stop(bare.child);
    await stop(server.child);
  }
}

/** Issue 5's two ratios, measured in one run. */
export async function serviceBench(o: ServiceOptions, skipped: string[]): Promise<ServiceResult> {
  const posts: PostResult[] = [];
  for (const place of o.places) posts.push(await postBench(place, o));
  const first = o.places[0];
  if (first === undefined) throw new Error('serviceBench: no place to measure');
  const get = await getBench(path.join(first.dir, 'get-data'), o);
  return { tool: o.tool, posts, get, skipped };
}
