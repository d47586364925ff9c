import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUnique } from '@quire/fs';
import { type LoadResult, type LoadTool, runLoad } from './load.js';
import { fsType } from './machine.js';
import { spreadSubdirs } from './scratch.js';
import { median } from './stats.js';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'service-worker.js');
const PAGE = 'https://blog.example/posts/benchmark';
/** The warm-up's page: another thread, so the measured one starts empty, as the library's directory does. */
const WARM_PAGE = 'https://blog.example/posts/warm-up';

/** A filesystem the POSTs are measured on. */
export interface Place {
  label: string;
  /** What `df -T` says it is. */
  fs: string;
  /**
   * Gets ext4's TOPDIR flag where it can: each round's library, quire and bare directories, and their warm-ups,
   * then land in block groups of their own. On ext4 without a journal every create scans past the inodes its
   * group freed in the last seconds (lib/scratch.ts), and each publish frees its temp's inode: in one group,
   * each phase ran behind the thousands of inodes the phase before it had just freed (createUnique measured
   * anywhere from 2000/s to 6900/s in back-to-back rounds).
   */
  dir: string;
}

export interface PostResult {
  place: Place;
  /** Medians over the rounds. */
  postRate: number;
  libraryRate: number;
  /** node:http doing one createUnique per POST and nothing else. */
  barePostRate: number;
  /** Median of the per-round ratios POST / createUnique. */
  ratio: number;
  /** Median of the per-round ratios bare POST / createUnique: the ceiling of any HTTP service here. */
  bareRatio: number;
  /** Issue 15: POSTs with notifications on, delivered by no process (the outbox append alone). */
  appendRate: number;
  /** Median of the per-round ratios append / off. */
  appendRatio: number;
  /** Issue 15: POSTs with notifications on, a webhook per event delivered by the same process. */
  notifyRate: number;
  /** Median of the per-round ratios notifications on / off. */
  notifyRatio: number;
  posts: number;
  bad: number;
}

export interface GetResult {
  getRate: number;
  bareRate: number;
  ratio: number;
  threadBytes: number;
  bad: number;
}

export interface ServiceResult {
  tool: LoadTool;
  posts: PostResult[];
  get: GetResult;
  /** Places that could not be measured, and why. */
  skipped: string[];
}

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
    // Sparse, 4 GiB, an inode per 8 KiB: 5 rounds make about 150,000 small files, more than the 131,072 inodes
    // mkfs gives a 2 GiB image by default (an earlier run ran out, and its late rounds counted 500s).
    fs.truncateSync(image, 4 * 1024 ** 3);
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

/**
 * Issue 15: notifications off against the outbox append alone, both servers running, measured in alternating
 * windows (off, append, append, off, ...): the machine's load drifts between sequential runs far more than the
 * cost of one append (measured on a shared machine: the same run twice differed by 2x). Rates and the ratio are
 * medians over the windows.
 */
async function appendPairs(
  dir: string,
  o: ServiceOptions,
  appendConfig: string,
): Promise<{ off: number; append: number; ratio: number; bad: number }> {
  const servers: { child: ChildProcess; url: string }[] = [];
  try {
    for (const [name, extra] of [
      ['off', undefined],
      ['append', appendConfig],
    ] as const) {
      const data = path.join(dir, name);
      fs.mkdirSync(path.join(data, 'threads'), { recursive: true });
      spreadSubdirs(path.join(data, 'threads'));
      servers.push(await start(extra === undefined ? ['quire', data] : ['quire', data, extra]));
    }
    const load = (i: number, page: string, seconds: number) =>
      runLoad(
        o.tool,
        { url: `${servers[i]?.url}/api/comments`, connections: 32, seconds, postComments: page },
        o.scratch,
      );
    for (let i = 0; i < servers.length; i++) await load(i, WARM_PAGE, o.warmSeconds);
    const off: number[] = [];
    const on: number[] = [];
    let wrong = 0;
    for (let w = 0; w < 4; w++) {
      for (const i of w % 2 === 0 ? [0, 1] : [1, 0]) {
        const r = await load(i, PAGE, o.postSeconds);
        wrong += bad(r);
        (i === 0 ? off : on).push(r.ok / r.seconds);
      }
    }
    return {
      off: median(off),
      append: median(on),
      ratio: median(on.map((x, k) => x / (off[k] as number))),
      bad: wrong,
    };
  } finally {
    for (const s of servers) await stop(s.child);
  }
}

/**
 * Durable POSTs with 32 connections against the library's durable createUnique with 32 calls in flight, on the
 * same filesystem, back to back in each round (a fresh data directory each time): the ratio is the median of the
 * rounds' ratios.
 */
async function postBench(place: Place, o: ServiceOptions): Promise<PostResult> {
  spreadSubdirs(place.dir);
  const rounds: {
    post: number;
    lib: number;
    bare: number;
    append: number;
    appendRatio: number;
    notify: number;
    n: number;
    bad: number;
  }[] = [];
  const hook = await hookReceiver();
  // Issue 15: a webhook per event; `deliver: false` measures the outbox append alone.
  const notifyConfig = (deliver: boolean) =>
    JSON.stringify({
      notify: {
        webhooks: [{ url: hook.url, events: [], secret: 'bench secret of 16+ chars' }],
        webhooksAllowPrivate: true,
        deliver,
      },
    });
  const posts = async (kind: 'quire' | 'quire-notify' | 'bare-post', dir: string) => {
    if (kind !== 'bare-post') {
      // The warm-up's thread and the measured one in block groups of their own (see Place.dir).
      const threads = path.join(dir, 'threads');
      fs.mkdirSync(threads, { recursive: true });
      spreadSubdirs(threads);
    }
    const server = await start(kind === 'quire-notify' ? ['quire', dir, notifyConfig(true)] : [kind, dir]);
    const url = `${server.url}/api/comments`;
    try {
      // quire warms up on another page; bare-post writes what is posted to /warm into another directory.
      const warm =
        kind !== 'bare-post' ? { url, page: WARM_PAGE } : { url: `${server.url}/warm`, page: PAGE };
      await runLoad(
        o.tool,
        { url: warm.url, connections: 32, seconds: o.warmSeconds, postComments: warm.page },
        o.scratch,
      );
      return await runLoad(
        o.tool,
        { url, connections: 32, seconds: o.postSeconds, postComments: PAGE },
        o.scratch,
      );
    } finally {
      await stop(server.child);
    }
  };
  for (let r = 0; r < o.rounds; r++) {
    await libraryRate(path.join(place.dir, `library-${r}-warm`), o.warmOps, 32);
    const lib = await libraryRate(path.join(place.dir, `library-${r}`), o.libraryOps, 32);
    // Notifications off, the outbox append alone, then with delivery: back to back, so that the load of the
    // machine changes as little as possible between the three.
    const post = await posts('quire', path.join(place.dir, `data-${r}`));
    const appended = await appendPairs(path.join(place.dir, `pairs-${r}`), o, notifyConfig(false));
    const on = await posts('quire-notify', path.join(place.dir, `notify-${r}`));
    const bare = await posts('bare-post', path.join(place.dir, `bare-${r}`));
    const rate = post.ok / post.seconds;
    const bareRate = bare.ok / bare.seconds;
    const appendRate = appended.append;
    const notifyRate = on.ok / on.seconds;
    rounds.push({
      post: rate,
      lib,
      bare: bareRate,
      append: appendRate,
      appendRatio: appended.ratio,
      notify: notifyRate,
      n: post.ok,
      bad: bad(post) + bad(bare) + appended.bad + bad(on),
    });
    const wrong = bad(post) + bad(bare) + appended.bad + bad(on);
    o.progress(
      `[service] ${place.label}: POST ${rate.toFixed(0)}/s, bare node:http + createUnique ${bareRate.toFixed(0)}/s, ` +
        `createUnique ${lib.toFixed(0)}/s, POST with the outbox append ${appendRate.toFixed(0)}/s ` +
        `(${appended.ratio.toFixed(2)} of off in alternating windows, off ${appended.off.toFixed(0)}/s), ` +
        `with delivery too ${notifyRate.toFixed(0)}/s (round ${r + 1})` +
        (wrong > 0 ? `; ${wrong} answers not 2xx: this round is not valid` : ''),
    );
  }
  hook.close();
  return {
    place,
    postRate: median(rounds.map((x) => x.post)),
    libraryRate: median(rounds.map((x) => x.lib)),
    barePostRate: median(rounds.map((x) => x.bare)),
    ratio: median(rounds.map((x) => x.post / x.lib)),
    bareRatio: median(rounds.map((x) => x.bare / x.lib)),
    appendRate: median(rounds.map((x) => x.append)),
    appendRatio: median(rounds.map((x) => x.appendRatio)),
    notifyRate: median(rounds.map((x) => x.notify)),
    notifyRatio: median(rounds.map((x) => x.notify / x.post)),
    posts: rounds.reduce((a, x) => a + x.n, 0),
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
