import { createHash } from 'node:crypto';
import path from 'node:path';
import { QuireError } from './errors.js';
import { acquireLock } from './lock.js';
import { checkSuffix, parseName } from './names.js';
/** The longest id a spool accepts: a record name with a 32-byte suffix is well under it. */
const MAX_ID = 64;
/** Byte-range locks, one range per record id or append key; never replaced, never removed. */
const LOCK_FILE = '.spool.lock';
/** Idempotency keys of append({ key }). */
export const KEYS_DIR = '.keys';
/** 31-bit offset for a byte-range lock: distinct names collide with probability about 2^-31. */
function lockOffset(kind, name) {
    return createHash('sha256').update(`${kind}\0${name}`).digest().readUInt32BE(0) >>> 1;
}
function badId(id) {
    const shown = typeof id === 'string' ? JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id) : typeof id;
    return new QuireError('ERR_INVALID_ID', `not a record id of this spool: ${shown}`);
}
/**
 * What every part of a spool (appends, keys, listing, watching, checking) shares: its directory, its suffix, its
 * durability, which names are its records, and its locks. Module-internal: users see Spool.
 */
export class SpoolContext {
    dir;
    suffix;
    durable;
    time;
    constructor(dir, suffix, durable, time) {
        this.dir = path.resolve(dir);
        this.suffix = suffix === undefined ? undefined : checkSuffix(suffix);
        this.durable = durable;
        this.time = time;
    }
    /** The parsed name when `name` is a record of this spool (a record name with its suffix), else null. */
    recordName(name) {
        const parsed = parseName(name);
        return parsed !== null && (this.suffix === undefined || parsed.suffix === this.suffix) ? parsed : null;
    }
    /** `id` itself when it is a record name of this spool, so never a path outside it; else ERR_INVALID_ID. */
    checkId(id) {
        if (typeof id !== 'string' || id.length > MAX_ID || this.recordName(id) === null)
            throw badId(id);
        return id;
    }
    /** The path of record `id`, checked. */
    recordPath(id) {
        return path.join(this.dir, this.checkId(id));
    }
    /** createUnique's options for a new record of this spool. */
    writeOptions(beforePublish, time) {
        const at = time ?? this.time;
        return {
            suffix: this.suffix ?? '',
            durable: this.durable,
            ...(at === undefined ? {} : { time: at }),
            ...(beforePublish === undefined ? {} : { beforePublish }),
        };
    }
    /** The lock of one record id or one append key: one byte of the spool's lock file. */
    lock(kind, name) {
        return acquireLock(path.join(this.dir, LOCK_FILE), {
            range: { offset: lockOffset(kind, name), length: 1 },
        });
    }
}
//# sourceMappingURL=spool-context.js.map