import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { errnoCode } from './errors.js';

/**
 * Temps live in the target's own directory (link and rename only work within one filesystem) under a dot name
 * that no reader takes for a record: `.quire-<pid>-<random>+<host id>`. The pid and the host id let sweepTemps
 * tell a dead writer's leftovers from a live writer's work in progress.
 *
 * The host id names the set of processes that kill(pid, 0) can see: the kernel's boot (a reboot recycles every
 * pid), its pid namespace (containers on one kernel each have their own pids) and the machine (machine-id). Two
 * writers whose temps carry the same id can judge each other's pids; any other temp is judged by its age alone.
 * The host name is no such id: containers share it, and two hosts that share a volume may well be both
 * "localhost" (issue 13: a sweep on one host removed the other's live temp as "writer dead").
 */
const PREFIX = '.quire-';

/** What a temp's name tells about its writer: its pid, and the host id, or for an old-style name the host name. */
export interface TempName {
  pid: number;
  /** The writer's host id (see hostId), or null for a name made before host ids (host name style). */
  hostId: string | null;
  /** What the name carries after the random part: the host id, or the old style's host name. */
  host: string;
}

function readFirstLine(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function nsOf(kind: string): string {
  try {
    return fs.readlinkSync(`/proc/self/ns/${kind}`);
  } catch {
    return '';
  }
}

/**
 * Where /proc has no boot id (not Linux): a random id kept beside the system's temp directory, on local disk and
 * never in a data directory another host sees. Linked into place, so processes starting at once agree on one.
 */
function storedRandomId(): string {
  const file = path.join(tmpdir(), '.quire-host-id');
  const id = readFirstLine(file);
  if (/^[0-9a-f]{32}$/.test(id)) return id;
  const mine = path.join(tmpdir(), `.quire-host-id-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    fs.writeFileSync(mine, randomBytes(16).toString('hex'), { flag: 'wx' });
    fs.linkSync(mine, file);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') return randomBytes(16).toString('hex');
  } finally {
    fs.rmSync(mine, { force: true });
  }
  return readFirstLine(file);
}

function computeHostId(): string {
  // An override for deployments whose hosts cannot be told apart from inside (and for tests of exactly that).
  const given = process.env.QUIRE_HOST_ID;
  const boot = readFirstLine('/proc/sys/kernel/random/boot_id');
  const parts =
    given !== undefined && given !== ''
      ? ['env', given]
      : boot === ''
        ? ['stored', storedRandomId()]
        : [
            'linux',
            readFirstLine('/etc/machine-id') || readFirstLine('/var/lib/dbus/machine-id'),
            boot,
            nsOf('pid'),
          ];
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16);
}

// Once, at load: a few reads of local files (/proc, /etc), never on a request's path.
const HOST_ID = computeHostId();

/**
 * The id this host's temps carry: 16 hex digits, the same for every process that sees the same pids (one boot of
 * one machine, one pid namespace) and different otherwise. From machine-id, the boot id and the pid namespace on
 * Linux; elsewhere a random id kept in the system temp directory. `QUIRE_HOST_ID` in the environment, if set,
 * is hashed instead (for hosts that cannot be told apart from inside).
 */
export function hostId(): string {
  return HOST_ID;
}

// Random per module instance (each worker thread has its own), then a counter: unique within a process without a
// getrandom(2) per call, which cost ~9 % of a non-durable create. O_EXCL on the temp still catches any clash.
const salt = randomBytes(3).toString('hex');
let seq = 0;

// What every temp name of this module instance starts and ends with, made once.
const tempHead = `${PREFIX}${process.pid}-${salt}`;
const tempTail = `+${HOST_ID}`;

/** A fresh temp name for this process. */
export function tempName(): string {
  seq = (seq + 1) & 0xffffff;
  return `${tempHead}${seq.toString(16).padStart(6, '0')}${tempTail}`;
}

/** True for every name this library uses for temps. */
export function isTempName(name: string): boolean {
  return name.startsWith(PREFIX);
}

/**
 * The writer's pid and host from a temp's name; null for a name that is not a temp of this library. Names of
 * earlier versions (`-<host name>` instead of `+<host id>`) still parse, with hostId null, so that a sweep after
 * an upgrade judges them by age.
 */
export function parseTempName(name: string): TempName | null {
  if (!isTempName(name)) return null;
  const rest = name.slice(PREFIX.length);
  const m = /^(\d+)-([0-9a-f]{12})\+([0-9a-f]{16})$/.exec(rest);
  if (m) return { pid: Number(m[1]), hostId: m[3] as string, host: m[3] as string };
  const old = /^(\d+)-([0-9a-f]{12})-(.+)$/.exec(rest);
  if (!old) return null;
  return { pid: Number(old[1]), hostId: null, host: old[3] as string };
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
