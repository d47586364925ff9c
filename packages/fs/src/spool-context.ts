import { createHash } from 'node:crypto';
import path from 'node:path';
import { QuireError } from './errors.js';
import { acquireLock, type Lock } from './lock.js';
import { checkSuffix, parseName, type RecordName, type TimeSource } from './names.js';
import type { CreateUniqueOptions } from './publish.js';

/** The longest id a spool accepts: a record name with a 32-byte suffix is well under it. */
const MAX_ID = 64;
/** Byte-range locks, one range per record id or append key; never replaced, never removed. */
const LOCK_FILE = '.spool.lock';
/** Idempotency keys of append({ key }). */
export const KEYS_DIR = '.keys';

/** 31-bit offset for a byte-range lock: distinct names collide with probability about 2^-31. */
function lockOffset(kind: string, name: string): number {
  return createHash('sha256').update(`${kind}\0${name}`).digest().readUInt32BE(0) >>> 1;
}

function badId(id: unknown): QuireError {
  const shown =
    typeof id === 'string' ? JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id) : typeof id;
  return new QuireError('ERR_INVALID_ID', `not a record id of this spool: ${shown}`);
}

/**
 * What every part of a spool (appends, keys, listing, watching, checking) shares: its directory, its suffix, its
 * durability, which names are its records, and its locks. Module-internal: users see Spool.
 */
export class SpoolContext {
  readonly dir: string;
  readonly suffix: string | undefined;
  readonly durable: boolean;
  readonly time: TimeSource | undefined;

  constructor(dir: string, suffix: string | undefined, durable: boolean, time: TimeSource | undefined) {
    this.dir = path.resolve(dir);
    this.suffix = suffix === undefined ? undefined : checkSuffix(suffix);
    this.durable = durable;
    this.time = time;
  }

  /** The parsed name when `name` is a record of this spool (a record name with its suffix), else null. */
  recordName(name: string): RecordName | null {
    const parsed = parseName(name);
    return parsed !== null && (this.suffix === undefined || parsed.suffix === this.suffix) ? parsed : null;
  }

  /** `id` itself when it is a record name of this spool, so never a path outside it; else ERR_INVALID_ID. */
  checkId(id: unknown): string {
    if (typeof id !== 'string' || id.length > MAX_ID || this.recordName(id) === null) throw badId(id);
    return id;
  }

  /** The path of record `id`, checked. */
  recordPath(id: string): string {
    return path.join(this.dir, this.checkId(id));
  }

  /** createUnique's options for a new record of this spool. */
  writeOptions(beforePublish?: () => unknown, time?: number): CreateUniqueOptions {
    const at = time ?? this.time;
    return {
      suffix: this.suffix ?? '',
      durable: this.durable,
      ...(at === undefined ? {} : { time: at }),
      ...(beforePublish === undefined ? {} : { beforePublish }),
    };
  }

  /** Where the lock of one append key is: the lock file and its byte that lock('key', h) takes. */
  keyLockRange(h: string): { file: string; offset: number } {
    return { file: path.join(this.dir, LOCK_FILE), offset: lockOffset('key', h) };
  }

  /** The lock of one record id or one append key: one byte of the spool's lock file. */
  lock(kind: 'record' | 'key', name: string, timeoutMs?: number): Promise<Lock> {
    return acquireLock(path.join(this.dir, LOCK_FILE), {
      range: { offset: lockOffset(kind, name), length: 1 },
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  }
}
