/**
 * The abuse case (issue 12): a victim reads a thread at a steady rate while an attacker, within the default
 * limits, runs the worst inputs against one endpoint after another. The server (abuse-server.ts) and each attack
 * (abuse-attacker.ts) run in processes of their own; the victim runs here, so neither delays its clock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommentStore, normaliseUri, threadIdOf } from 'quire';
import { ORIGIN, send, VICTIM_PAGE } from './abuse-http.js';
import { renderTable } from './table.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const serverScript = path.join(here, '..', 'abuse-server.js');
const attackerScript = path.join(here, '..', 'abuse-attacker.js');

/** The attacks, in the order they run. */
export const ATTACKS = ['preview', 'post', 'feed', 'login', 'slow'] as const;

export interface AbuseOptions {
  /** Where the data directory goes. */
  scratch: string;
  /** Seconds the victim is measured per phase. */
  seconds: number;
  /** Victim requests per second (under the default 600 a minute per address). */
  victimRate: number;
  /** Threads made before the server starts, for the feed attack. */
  seedThreads: number;
  /** Slow connections the slow attack keeps open. */
  slowSockets: number;
  progress: (line: string) => void;
}

export interface VictimStats {
  requests: number;
  failures: number;
  p50: number;
  p99: number;
  max: number;
}

export interface Phase {
  name: string;
  victim: VictimStats;
  /** What the attacker sent and got back; null for the idle phases. */
  attacker: { sent: number; statuses: Record<string, number> } | null;
  /** ms after the attack until /healthz answered quickly again (settled). */
  recoveryMs?: number;
}

export interface AbuseResult {
  phases: Phase[];
  /** ms from SIGTERM to the server's exit, at the end. */
  exitMs: number;
}

/** Makes the victim's thread (50 comments) and `n` threads of one comment each, with the store's own API. */
async function seed(dataDir: string, n: number): Promise<void> {
  const store = await CommentStore.open(dataDir, { durable: false });
  const post = (uri: string, text: string) =>
    store.postComment(
      threadIdOf(normaliseUri(uri)),
      { uri: normaliseUri(uri), title: 'A page' },
      {
        parent: null,
        author: 'Reader',
        email: null,
        website: null,
        text,
        status: 'approved',
        address: '192.0.2.1',
        nonce: undefined,
      },
      { duplicateWindowMs: 0 },
    );
  for (let i = 0; i < 50; i++)
    await post(VICTIM_PAGE, `Comment ${i} with *some* Markdown and a [link](${ORIGIN}/).`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        await post(`${ORIGIN}/seed/${i}`, `Seed comment ${i}`);
      }
    }),
  );
}

/** Resolves with the first line the child prints; rejects if it exits first. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      child.stdout?.off('data', onData);
      resolve(buf.slice(0, nl));
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready`)));
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

/** The victim: GET of its thread at `rate` per second from 127.0.0.1, each on a new connection, for `seconds`. */
async function victim(url: string, rate: number, seconds: number): Promise<VictimStats> {
  const path = `/api/comments?uri=${encodeURIComponent(VICTIM_PAGE)}`;
  const gap = 1000 / rate;
  const count = Math.round(rate * seconds);
  const began = performance.now();
  const all: Promise<{ ok: boolean; ms: number }>[] = [];
  for (let i = 0; i < count; i++) {
    // Open loop: a slow answer does not delay the next request, as with readers who do not wait for each other.
    const wait = began + i * gap - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    all.push(
      send(url, { path, localAddress: '127.0.0.1' }).then((r) => ({ ok: r.status === 200, ms: r.ms })),
    );
  }
  const done = await Promise.all(all);
  const ms = done.map((d) => d.ms).sort((a, b) => a - b);
  return {
    requests: done.length,
    failures: done.filter((d) => !d.ok).length,
    p50: percentile(ms, 0.5),
    p99: percentile(ms, 0.99),
    max: ms[ms.length - 1] ?? Number.NaN,
  };
}

/**
 * Until /healthz has answered 200 within 50 ms three times in a row (at most 30 s): the server has recovered
 * from the last attack, and work it kept doing after its clients left shows as a slow recovery, not as noise in
 * the next phase.
 */
async function settled(url: string): Promise<number> {
  const began = performance.now();
  for (let ok = 0, i = 0; ok < 3 && i < 300; i++) {
    const r = await send(url, { path: '/healthz', localAddress: '127.0.0.2' });
    ok = r.status === 200 && r.ms < 50 ? ok + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return performance.now() - began;
}

async function attack(url: string, kind: string, opts: AbuseOptions): Promise<Phase> {
  const child = spawn(process.execPath, [attackerScript, kind, url, String(opts.slowSockets)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    lines.push(...buf.split('\n').slice(0, -1));
    buf = buf.slice(buf.lastIndexOf('\n') + 1);
  });
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise<void>((resolve) => {
    const check = () => (lines.length > 0 ? resolve() : setTimeout(check, 20));
    check();
  });
  // The attack ramps up for a second before the victim is measured.
  await new Promise((r) => setTimeout(r, 1000));
  const stats = await victim(url, opts.victimRate, opts.seconds);
  child.kill('SIGTERM');
  await exited;
  const summary = lines.find((l) => l.startsWith('{'));
  const attacker =
    summary === undefined ? { sent: 0, statuses: {} } : (JSON.parse(summary) as Phase['attacker']);
  return { name: kind, victim: stats, attacker };
}

/** Runs the abuse case: idle, each attack, idle again; the server's exit time after SIGTERM. */
export async function abuseBench(opts: AbuseOptions): Promise<AbuseResult> {
  const dataDir = path.join(opts.scratch, 'data');
  opts.progress(`[abuse] seeding ${opts.seedThreads} threads`);
  await seed(dataDir, opts.seedThreads);
  const server = spawn(process.execPath, [serverScript, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const serverExit = new Promise((r) => server.once('exit', r));
  try {
    const url = await firstLine(server);
    await settled(url);
    const phases: Phase[] = [];
    // Untimed: the victim's code paths and the thread's view warm, as on a server that has run a while.
    await victim(url, opts.victimRate * 4, 2);
    opts.progress(`[abuse] idle: victim ${opts.victimRate}/s for ${opts.seconds} s`);
    phases.push({ name: 'idle', victim: await victim(url, opts.victimRate, opts.seconds), attacker: null });
    for (const kind of ATTACKS) {
      opts.progress(`[abuse] ${kind}`);
      const phase = await attack(url, kind, opts);
      phase.recoveryMs = await settled(url);
      phases.push(phase);
    }
    opts.progress('[abuse] idle again');
    phases.push({
      name: 'idle (after)',
      victim: await victim(url, opts.victimRate, opts.seconds),
      attacker: null,
    });
    const t = performance.now();
    server.kill('SIGTERM');
    await serverExit;
    return { phases, exitMs: performance.now() - t };
  } finally {
    server.kill('SIGKILL');
  }
}

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');

/** The report's table: per phase the victim's p50/p99/failures next to idle, and the target's verdict. */
export function abuseTable(r: AbuseResult): string {
  const idle = r.phases.find((p) => p.name === 'idle');
  const idleP99 = idle?.victim.p99 ?? Number.NaN;
  const rows = r.phases.map((p) => {
    const v = p.victim;
    const ok = v.failures === 0 && v.p99 < 250 && (p === idle || v.p99 <= 10 * idleP99);
    const statuses =
      p.attacker === null
        ? ''
        : Object.entries(p.attacker.statuses)
            .map(([k, n]) => `${k}: ${n}`)
            .join(', ');
    return [
      p.name,
      String(v.requests),
      ms(v.p50),
      ms(v.p99),
      p === idle ? '1.0×' : `${(v.p99 / idleP99).toFixed(1)}×`,
      String(v.failures),
      ok ? 'yes' : 'NO',
      p.recoveryMs === undefined ? '' : (p.recoveryMs / 1000).toFixed(1),
      p.attacker === null ? '' : `${p.attacker.sent} sent; ${statuses}`,
    ];
  });
  return renderTable(
    [
      { title: 'attack' },
      { title: 'victim reqs', align: 'right' },
      { title: 'p50 ms', align: 'right' },
      { title: 'p99 ms', align: 'right' },
      { title: 'p99 / idle', align: 'right' },
      { title: 'failed', align: 'right' },
      { title: 'target met' },
      { title: 'recovery s', align: 'right' },
      { title: "attacker's requests and answers" },
    ],
    rows,
  );
}
