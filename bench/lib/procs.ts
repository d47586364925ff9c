/**
 * Child processes: Node workers (bench/worker.ts) that start together on a barrier, and the C baseline.
 * Every child reports CLOCK_MONOTONIC start and end times, so the aggregate rate of N processes is
 * total ops / (last end - first start): the honest wall-clock window, stragglers included.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DriveResult, OpName } from './ops.js';

/** bench/ (this file runs from bench/dist/lib/). */
export const benchRoot = fileURLToPath(new URL('../../', import.meta.url));
const workerScript = fileURLToPath(new URL('../worker.js', import.meta.url));
const cSource = `${benchRoot}c/publish.c`;
export const cBinary = `${benchRoot}bin/publish`;

export interface OpsJob {
  kind: 'ops';
  op: OpName;
  dir: string;
  count: number;
  concurrency: number;
  durable: boolean;
  targets: number;
  worker: number;
  time?: number;
  distinct?: boolean;
  /** Untimed calls first, in `warmDir` (never the timed directory), so the timed ones run warm. */
  warmup?: number;
  warmDir?: string;
}

/** The founding blog post's check-then-write loop (see worker.ts). */
export interface NaiveJob {
  kind: 'naive';
  dir: string;
  count: number;
  stamp: string;
  worker: number;
}

export type Job = OpsJob | NaiveJob;

/** A child's result is the driver's, measured in the child. */
export type ChildResult = DriveResult;

/** What crosses the pipe: bigints as decimal strings. */
export interface WireResult {
  start: string;
  end: string;
  ops: number;
  attempts: number;
  maxAttempts: number;
  cpuUs: number;
}

export function fromWire(w: WireResult): ChildResult {
  return { ...w, start: BigInt(w.start), end: BigInt(w.end) };
}

export interface Aggregate {
  seconds: number;
  ops: number;
  attempts: number;
  maxAttempts: number;
  cpuUs: number;
}

export function aggregate(results: readonly ChildResult[]): Aggregate {
  let start = results[0]!.start;
  let end = results[0]!.end;
  let ops = 0;
  let attempts = 0;
  let maxAttempts = 0;
  let cpuUs = 0;
  for (const r of results) {
    cpuUs += r.cpuUs;
    if (r.start < start) start = r.start;
    if (r.end > end) end = r.end;
    ops += r.ops;
    attempts += r.attempts;
    maxAttempts = Math.max(maxAttempts, r.maxAttempts);
  }
  return { seconds: Number(end - start) / 1e9, ops, attempts, maxAttempts, cpuUs };
}

/**
 * Starts one worker per job, waits until each has loaded and set up (it prints `ready`), then releases them all
 * at once (`go` on stdin) and collects their results. `env` is added to this process's environment.
 */
export async function runWorkers(jobs: readonly Job[], env: NodeJS.ProcessEnv = {}): Promise<ChildResult[]> {
  const children = jobs.map((job) =>
    spawn(process.execPath, [workerScript, JSON.stringify(job)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    }),
  );
  let released = false;
  let ready = 0;
  const release = () => {
    if (released) return;
    released = true;
    for (const c of children) c.stdin.end('go\n');
  };
  const done = children.map(
    (child, k) =>
      new Promise<ChildResult>((resolve, reject) => {
        // A worker that already died has closed its stdin: its exit status tells why, not this EPIPE.
        child.stdin.on('error', () => {});
        let out = '';
        let err = '';
        let saidReady = false;
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (!saidReady && out.includes('ready\n')) {
            saidReady = true;
            if (++ready === children.length) release();
          }
        });
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          err += d;
        });
        child.on('error', reject);
        child.on('close', (code, signal) => {
          // A worker that dies before `ready` must not leave the others waiting on the barrier forever.
          release();
          const last = out.trim().split('\n').pop() ?? '';
          if (code !== 0 || !last.startsWith('{')) {
            reject(
              new Error(`worker ${k} (${JSON.stringify(jobs[k])}) exited ${code ?? signal}:\n${err}${out}`),
            );
            return;
          }
          resolve(fromWire(JSON.parse(last) as WireResult));
        });
      }),
  );
  return Promise.all(done);
}

/** Compiles bench/c/publish.c with the machine's `cc -O2`; returns null (and why) when there is no compiler. */
export function compileC(): { ok: true; cc: string } | { ok: false; why: string } {
  fs.mkdirSync(`${benchRoot}bin`, { recursive: true });
  const cc = process.env.CC ?? 'cc';
  try {
    execFileSync(cc, ['-O2', '-Wall', '-o', cBinary, cSource], { stdio: ['ignore', 'ignore', 'pipe'] });
    const version = execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? cc;
    return { ok: true, cc: `${cc} -O2 (${version})` };
  } catch (err) {
    return { ok: false, why: `${cc} -O2 failed: ${(err as Error).message.split('\n')[0]}` };
  }
}

export interface CJob {
  rename: boolean;
  /** durable: fsync file and directory; nodirsync: the file only (the anchors' durability); nosync: neither. */
  sync: 'durable' | 'nodirsync' | 'nosync';
  count: number;
  dir: string;
}

/** Runs the C baseline in `jobs.length` processes at once (they create their own names; --rename shares one target). */
export function runC(jobs: readonly CJob[]): Promise<ChildResult[]> {
  return Promise.all(
    jobs.map(
      (j) =>
        new Promise<ChildResult>((resolve, reject) => {
          const args = [
            ...(j.rename ? ['--rename'] : []),
            ...(j.sync === 'durable' ? [] : [`--${j.sync}`]),
            String(j.count),
            j.dir,
          ];
          const child = spawn(cBinary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => {
            out += d;
          });
          child.stderr.setEncoding('utf8').on('data', (d: string) => {
            err += d;
          });
          child.on('error', reject);
          child.on('close', (code) => {
            // One line: elapsed seconds, start ns, end ns (CLOCK_MONOTONIC), user µs, system µs.
            const [, start, end, user, sys] = out.trim().split(/\s+/);
            if (code !== 0 || start === undefined || end === undefined || sys === undefined) {
              reject(new Error(`publish ${args.join(' ')} exited ${code}: ${err}${out}`));
              return;
            }
            resolve({
              start: BigInt(start),
              end: BigInt(end),
              ops: j.count,
              attempts: j.count,
              maxAttempts: 1,
              cpuUs: Number(user) + Number(sys),
            });
          });
        }),
    ),
  );
}
