import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { errnoCode } from './errors.js';

/**
 * Temps live in the target's own directory (link and rename only work within one filesystem) under a dot name
 * that no reader takes for a record: `.quire-<pid>-<random>-<host>`. The pid and host let sweepTemps tell a dead
 * writer's leftovers from a live writer's work in progress.
 */
const PREFIX = '.quire-';
const host =
  hostname()
    .replace(/[^A-Za-z0-9.-]/g, '_')
    .slice(0, 64) || 'localhost';

/** What a temp's name tells about its writer. */
export interface TempName {
  pid: number;
  host: string;
}

// Random per module instance (each worker thread has its own), then a counter: unique within a process without a
// getrandom(2) per call, which cost ~9 % of a non-durable create. O_EXCL on the temp still catches any clash.
const salt = randomBytes(3).toString('hex');
let seq = 0;

/** A fresh temp name for this process. */
export function tempName(): string {
  seq = (seq + 1) & 0xffffff;
  return `${PREFIX}${process.pid}-${salt}${seq.toString(16).padStart(6, '0')}-${host}`;
}

/** This host's name as temp names carry it. */
export function thisHost(): string {
  return host;
}

/** True for every name this library uses for temps. */
export function isTempName(name: string): boolean {
  return name.startsWith(PREFIX);
}

/** The writer's pid and host from a temp's name; null for a name that is not a temp of this library. */
export function parseTempName(name: string): TempName | null {
  if (!isTempName(name)) return null;
  const m = /^(\d+)-([0-9a-f]{12})-(.+)$/.exec(name.slice(PREFIX.length));
  if (!m) return null;
  return { pid: Number(m[1]), host: m[3] as string };
}

/**
 * Whether `pid` names a live process on this host: kill(pid, 0) delivers nothing and fails with ESRCH only when
 * there is no such process (EPERM means it exists but belongs to someone else). A recycled pid looks alive.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) !== 'ESRCH';
  }
}
