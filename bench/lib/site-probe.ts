import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPassword } from 'quire';
import type { Site } from './site.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const serverScript = path.join(here, '..', 'site-server.js');
const bareScript = path.join(here, '..', 'site-bare.js');

/** What the server process says of itself (site-server.ts). */
export interface ServerStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  delayP50: number;
  delayP99: number;
  delayMax: number;
  filesRead: number;
  indexBytes: number;
  recordBytes: number;
}

/**
 * The V8 flags the bench's servers run with (and SERVER_MALLOC): those of deploy/quire.service and
 * deploy/Containerfile, so the memory figures are of the service as deployed. QUIRE_BENCH_NODE_OPTIONS replaces
 * the flags in NODE_OPTIONS, QUIRE_BENCH_NODE_ARGS those on the command line ('' for none), QUIRE_BENCH_ARENAS
 * the arenas.
 */
export const SERVER_NODE_OPTIONS =
  process.env.QUIRE_BENCH_NODE_OPTIONS ?? '--max-semi-space-size=1 --max-old-space-size=128';

/**
 * glibc's malloc settings of the deploy files (docs/comment-service.md, "Memory"). QUIRE_BENCH_ARENAS replaces
 * the arenas; QUIRE_BENCH_MALLOC_THRESHOLD the two thresholds ('' for glibc's own, which rise as big blocks are
 * freed).
 */
export const SERVER_MALLOC: Record<string, string> = (() => {
  const threshold = process.env.QUIRE_BENCH_MALLOC_THRESHOLD ?? '131072';
  const env: Record<string, string> = { MALLOC_ARENA_MAX: process.env.QUIRE_BENCH_ARENAS ?? '2' };
  if (threshold !== '') {
    env.MALLOC_MMAP_THRESHOLD_ = threshold;
    env.MALLOC_TRIM_THRESHOLD_ = threshold;
  }
  return env;
})();

/**
 * Flags on the server's command line, for those NODE_OPTIONS may not carry (QUIRE_BENCH_NODE_ARGS, none by
 * default: --optimize-for-size measured 3-11 MB less RSS, and 23-33 % less throughput, bench/README.md).
 */
export const SERVER_NODE_ARGS = (process.env.QUIRE_BENCH_NODE_ARGS ?? '')
  .split(/\s+/)
  .filter((a) => a !== '');

/** The admin password of the bench's servers; hashed once here, so that no start pays for scrypt. */
export const ADMIN_PASSWORD = 'bench-password';
let adminHash: string | undefined;

/** A keep-alive agent for the bench's own requests. */
export const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });

/** One answer: status, body and milliseconds from sending to the last byte. */
export interface Answer {
  status: number;
  body: string;
  ms: number;
}

/** Sends one request; never rejects on a status, only on a connection error. */
export function send(
  base: string,
  method: string,
  url: string,
  body?: unknown,
  headers = {},
): Promise<Answer> {
  const started = performance.now();
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${url}`,
      {
        method,
        agent,
        headers: {
          ...headers,
          ...(data === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': data.length }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** A running site-server.ts. */
export class SiteServer {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    private readonly lines: AsyncIterator<string>,
  ) {}

  /** Starts the server on `dataDir`; resolves once it printed its URL, with the milliseconds that took. */
  static async start(dataDir: string): Promise<SiteServer> {
    adminHash ??= await hashPassword(ADMIN_PASSWORD);
    const child = spawn(process.execPath, [...SERVER_NODE_ARGS, serverScript, dataDir], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        ...process.env,
        QUIRE_BENCH_ADMIN_HASH: adminHash,
        NODE_OPTIONS: SERVER_NODE_OPTIONS,
        ...SERVER_MALLOC,
      },
    });
    const lines = lineReader(child);
    const first = await lines.next();
    if (first.done === true) throw new Error('site-server exited before listening');
    return new SiteServer(child, first.value, lines);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  async stats(): Promise<ServerStats> {
    this.child.stdin?.write('stats\n');
    const line = await this.lines.next();
    if (line.done === true) throw new Error('site-server exited');
    return JSON.parse(line.value) as ServerStats;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

function lineReader(child: ChildProcess): AsyncIterator<string> {
  const queue: string[] = [];
  const waiting: ((r: IteratorResult<string>) => void)[] = [];
  let buf = '';
  let ended = false;
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w === undefined) queue.push(line);
      else w({ value: line, done: false });
    }
  });
  child.once('exit', () => {
    ended = true;
    for (const w of waiting.splice(0)) w({ value: undefined, done: true });
  });
  return {
    next: () => {
      const line = queue.shift();
      if (line !== undefined) return Promise.resolve({ value: line, done: false });
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** Whether this process may drop the kernel's page cache (root, /proc writable). */
export function canDropCaches(): boolean {
  try {
    fs.accessSync('/proc/sys/vm/drop_caches', fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Writes back dirty pages and drops the page, dentry and inode caches: the next read goes to the disk. */
export function dropCaches(): void {
  if (!canDropCaches()) return;
  execFileSync('sync');
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

/** Polls `url` until it answers 200; milliseconds from `since`. */
export async function firstOk(base: string, url: string, since: number): Promise<number> {
  for (;;) {
    const a = await send(base, 'GET', url).catch(() => null);
    if (a?.status === 200) return performance.now() - since;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Runs site-bare.ts with `args` (a baseline): the milliseconds it reports for its work alone. */
export function bare(args: readonly string[]): number {
  const out = execFileSync(process.execPath, [bareScript, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return Number(out.trim());
}

/**
 * Files under `under` that the server opens while `fn` runs, counted by strace attached to it (open and
 * openat calls, every thread); null when strace is missing or cannot attach.
 */
export async function countOpens(
  pid: number,
  under: string,
  fn: () => Promise<unknown>,
): Promise<number | null> {
  const log = path.join(fs.mkdtempSync(path.join(path.dirname(under), '.strace-')), 'log');
  const tracer = spawn('strace', ['-f', '-qq', '-e', 'trace=open,openat', '-o', log, '-p', String(pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const failed = new Promise<null>((resolve) => tracer.once('error', () => resolve(null)));
  // strace has attached once the log file exists and has seen a call: poke the server until it has.
  const attached = (async () => {
    for (let i = 0; i < 500 && !fs.existsSync(log); i++) await new Promise((r) => setTimeout(r, 10));
    return fs.existsSync(log);
  })();
  if ((await Promise.race([attached, failed])) !== true) return null;
  await new Promise((r) => setTimeout(r, 300));
  await fn();
  const exited = new Promise((resolve) => tracer.once('exit', resolve));
  tracer.kill('SIGINT');
  await exited;
  const opened = fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.includes(`"${under}`) && !l.includes('= -1'));
  fs.rmSync(path.dirname(log), { recursive: true, force: true });
  return opened.length;
}

/**
 * A restarted server, its code warmed by one GET of another page, then the page cache dropped: the data a
 * request reads is cold, as after a reboot or a long idle, while the server's own code (which a bare script
 * does not have to load) is not counted.
 */
export async function restart(server: SiteServer | null, site: Site): Promise<SiteServer> {
  await server?.stop();
  const s = await SiteServer.start(site.dir);
  const smallest = site.threads[site.threads.length - 1]?.uri as string;
  await send(s.url, 'GET', `/api/comments?uri=${encodeURIComponent(smallest)}`);
  dropCaches();
  return s;
}
