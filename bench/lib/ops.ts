/**
 * Every operation the bench times, behind one shape: `prepare` sets up the directory untimed (overwrite targets
 * exist beforehand, as they would in use), then `op(i)` does the i-th write and returns how many link(2) calls it
 * took (createUnique's `attempts`; 1 for everything else). Used in-process by run.ts and in children by worker.ts,
 * so both time exactly the same calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  createExclusive,
  createExclusiveSync,
  createUnique,
  createUniqueSync,
  replaceFile,
  replaceFileSync,
} from '@quire/fs';
import * as atomically from 'atomically';
import { Writer } from 'steno';
import writeFileAtomic from 'write-file-atomic';

export const PAYLOAD_BYTES = 1024;

export const OP_NAMES = [
  'createUnique',
  'createUniqueSync',
  'createExclusive',
  'createExclusiveSync',
  'replaceFile',
  'replaceFileSync',
  'wfa',
  'wfaSync',
  'wfaDirsync',
  'wfaSyncDirsync',
  'atomically',
  'atomicallySync',
  'steno',
] as const;
export type OpName = (typeof OP_NAMES)[number];

export function isSyncOp(name: OpName): boolean {
  return /Sync(Dirsync)?$/.test(name);
}

export function isQuireOp(name: OpName): boolean {
  return /^(create|replace)/.test(name);
}

/** Calls without fsync that a fresh process makes first, so that V8 has compiled the code the timed calls run. */
export const JIT_WARMUP = 300;

/** Overwrites (replace-style) rewrite existing targets; the others create a new name per call. */
export function isOverwriteOp(name: OpName): boolean {
  return !name.startsWith('create');
}

export interface OpConfig {
  op: OpName;
  dir: string;
  /** quire's `durable` option; the anchors always run with their defaults. */
  durable: boolean;
  /** Overwrite ops spread their calls over this many targets (one per call in flight: replaceFile queues calls to one path). */
  targets: number;
  /** Distinguishes the names of processes sharing `dir` (createExclusive). */
  worker: number;
  /** createUnique's `time`: a fixed second puts every writer on the same names. */
  time?: number;
  /** Give each call its own content (to check afterwards that nothing was lost); else one shared buffer. */
  distinct?: boolean;
}

export type OpFn = (i: number) => number | Promise<number>;

/** 1 KiB whose first line names its writer and call, so a check can tell every record apart. */
export function distinctPayload(worker: number, i: number): Buffer {
  const buf = Buffer.alloc(PAYLOAD_BYTES, 0x2e);
  buf.write(`w${worker}-${i}\n`, 0, 'latin1');
  return buf;
}

/** The id a distinct payload carries, or null when the bytes are not one of ours, complete. */
export function payloadId(buf: Buffer): string | null {
  const nl = buf.indexOf(0x0a);
  if (buf.length !== PAYLOAD_BYTES || nl < 0) return null;
  const id = buf.toString('latin1', 0, nl);
  const m = /^w(\d+)-(\d+)$/.exec(id);
  return m && distinctPayload(Number(m[1]), Number(m[2])).equals(buf) ? id : null;
}

const shared = Buffer.alloc(PAYLOAD_BYTES, 0x78);

export function targetPath(dir: string, slot: number): string {
  return path.join(dir, `target-${slot}`);
}

/** Creates what the op expects to find (untimed) and returns the op. */
export function prepareOp(c: OpConfig): OpFn {
  const { dir, durable } = c;
  if (isOverwriteOp(c.op)) {
    for (let s = 0; s < c.targets; s++) {
      const t = targetPath(dir, s);
      if (!fs.existsSync(t)) fs.writeFileSync(t, shared);
    }
  }
  const data = c.distinct ? (i: number) => distinctPayload(c.worker, i) : () => shared;
  const target = (i: number) => targetPath(dir, i % c.targets);
  const unique = c.time === undefined ? { durable } : { durable, time: c.time };
  switch (c.op) {
    case 'createUniqueSync':
      return (i) => createUniqueSync(dir, data(i), unique).attempts;
    case 'createUnique':
      return (i) => createUnique(dir, data(i), unique).then((r) => r.attempts);
    case 'createExclusiveSync':
      return (i) => {
        createExclusiveSync(path.join(dir, `x-${c.worker}-${i}`), data(i), { durable });
        return 1;
      };
    case 'createExclusive':
      return (i) => createExclusive(path.join(dir, `x-${c.worker}-${i}`), data(i), { durable }).then(() => 1);
    case 'replaceFileSync':
      return (i) => {
        replaceFileSync(target(i), data(i), { durable });
        return 1;
      };
    case 'replaceFile':
      return (i) => replaceFile(target(i), data(i), { durable }).then(() => 1);
    // The anchors run with their defaults: they fsync the file but never its directory.
    case 'wfaSync':
      return (i) => {
        writeFileAtomic.sync(target(i), data(i));
        return 1;
      };
    case 'wfa':
      return (i) => writeFileAtomic(target(i), data(i)).then(() => 1);
    // write-file-atomic made as durable as quire by its caller: fsync the directory after the rename.
    case 'wfaSyncDirsync':
      return (i) => {
        writeFileAtomic.sync(target(i), data(i));
        const fd = fs.openSync(dir, 'r');
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        return 1;
      };
    case 'wfaDirsync':
      return async (i) => {
        await writeFileAtomic(target(i), data(i));
        const h = await fs.promises.open(dir, 'r');
        try {
          await h.sync();
        } finally {
          await h.close();
        }
        return 1;
      };
    case 'atomicallySync':
      return (i) => {
        atomically.writeFileSync(target(i), data(i));
        return 1;
      };
    case 'atomically':
      return (i) => atomically.writeFile(target(i), data(i)).then(() => 1);
    case 'steno': {
      // One Writer per file, as lowdb uses it; it never fsyncs.
      const writers = Array.from({ length: c.targets }, (_, s) => new Writer(targetPath(dir, s)));
      return (i) => writers[i % c.targets]!.write(data(i)).then(() => 1);
    }
  }
}

export interface DriveResult {
  /** CLOCK_MONOTONIC nanoseconds around the timed calls. */
  start: bigint;
  end: bigint;
  ops: number;
  /** Sum and maximum of link(2) calls per op. */
  attempts: number;
  maxAttempts: number;
  /** User + system CPU of this whole process (every thread) during the calls, microseconds. */
  cpuUs: number;
}

/**
 * Runs `count` calls: one after another for a sync op, else with `concurrency` calls in flight at once (each
 * lane starts the next call when its last one settles).
 */
export async function drive(
  fn: OpFn,
  sync: boolean,
  count: number,
  concurrency: number,
): Promise<DriveResult> {
  let attempts = 0;
  let maxAttempts = 0;
  const note = (a: number) => {
    attempts += a;
    if (a > maxAttempts) maxAttempts = a;
  };
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  if (sync) {
    for (let i = 0; i < count; i++) note(fn(i) as number);
  } else {
    let next = 0;
    const lane = async () => {
      while (next < count) note(await fn(next++));
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
  }
  const end = process.hrtime.bigint();
  const used = process.cpuUsage(cpu);
  return { start, end, ops: count, attempts, maxAttempts, cpuUs: used.user + used.system };
}
