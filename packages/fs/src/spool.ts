import { validatePath } from './args.js';
import { type Data, toBytes } from './data.js';
import { makeDirSteps } from './dir.js';
import { errnoCode, invalidArg, QuireError, toQuireError } from './errors.js';
import type { TimeSource } from './names.js';
import { createUnique, replaceFile } from './publish.js';
import { readComplete } from './read.js';
import { type CheckOptions, type CheckReport, checkSpool } from './spool-check.js';
import { SpoolContext } from './spool-context.js';
import { type AppendResult, appendKeyedBatch, appendWithKey, recordedId } from './spool-keys.js';
import { type ListOptions, listIds } from './spool-list.js';
import { type WatchOptions, watchIds } from './spool-watch.js';
import { call, runAsync } from './steps.js';
import { retrying } from './transient.js';

/** Options of openSpool. */
export interface SpoolOptions {
  /**
   * Suffix of new record names, e.g. `.json`; when given, only names with this suffix are records of this spool.
   * When omitted, names with any suffix are read and new records have none (what `quire ls DIR` wants).
   */
  suffix?: string;
  /** Default true: every append, update and delete is durable when it returns. See WriteOptions.durable. */
  durable?: boolean;
  /** Clock for record names; default now. */
  time?: TimeSource;
  /** Create the directory (and its parents) if missing. Default true. */
  create?: boolean;
}

/** Options of Spool.append. */
export interface AppendOptions {
  /**
   * Idempotency key (1-1024 bytes of UTF-8). A retried append with the same key returns the first record's id
   * and writes nothing new, also when the attempts race from different processes. If the first attempt crashed
   * after publishing its record but before recording the key's id, the retry recognises that record by its
   * checksum: only a retry with the same bytes finds it (a retry whose bytes differ, say with a new timestamp
   * inside, publishes a second record).
   */
  key?: string;
  /** As createUnique's: runs before the record takes its name; if it throws, nothing is appended. */
  beforePublish?: () => unknown;
  /** As createUnique's: nothing is appended while this path exists (ERR_PRECONDITION). Not with `key`. */
  ifAbsent?: string;
}

/** One append of Spool.appendBatch. */
export interface BatchAppend {
  spool: Spool;
  data: Data;
  /** As AppendOptions.key; each key once per batch. */
  key: string;
  /** The moment the record's name records (to the second); default the spool's clock. */
  time?: TimeSource;
}

/**
 * A spool is a comment folder, generalised: one flat directory of immutable-by-default records named
 * by createUnique (`YYYYMMDDTHHMMSSZ-N[suffix]`), plus dot entries that are never records:
 *
 *   .spool.lock    byte-range locks, one range per record id or append key (never replaced, never removed)
 *   .keys/         idempotency keys of append({ key }) (spool-keys.ts)
 *   .quire-*       temps of writers at work (or dead: check() and sweepTemps remove those)
 *
 * Flat rather than sharded by day: a human can `ls`, `cat`, `cp -a` or `rsync` it; an id is its own path; and
 * listing the newest 50 of 100,000 records costs one readdir of names and a partial sort, no content reads
 * (bench/README.md measures it against a bare readdir).
 *
 * Every method may be called from any number of threads, processes and hosts at once.
 */
export class Spool {
  /** The spool's directory, absolute. */
  readonly dir: string;
  /** The suffix of its records, or undefined when names with any suffix are records. */
  readonly suffix: string | undefined;
  /** Whether appends, updates and deletes are durable when they return. */
  readonly durable: boolean;
  readonly #context: SpoolContext;
  readonly #closed = new AbortController();

  /** Use openSpool(), which checks the directory. */
  constructor(dir: string, opts: SpoolOptions = {}) {
    validatePath(dir, 'dir', 'Spool');
    this.#context = new SpoolContext(dir, opts.suffix, opts.durable !== false, opts.time);
    this.dir = this.#context.dir;
    this.suffix = this.#context.suffix;
    this.durable = this.#context.durable;
  }

  /** Whether `id` names a record of this spool: a record name with the spool's suffix (so never a path). */
  isId(id: unknown): id is string {
    try {
      this.#context.checkId(id);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Publishes a new record. Readers in any process see nothing, then the whole record; when the promise resolves
   * (durable spool) the record survives a power cut.
   */
  async append(data: Data, opts: AppendOptions = {}): Promise<AppendResult> {
    if (opts.key === undefined) {
      const write = this.#context.writeOptions(opts.beforePublish);
      if (opts.ifAbsent !== undefined) write.ifAbsent = opts.ifAbsent;
      const r = await createUnique(this.dir, data, write);
      return { id: r.name, created: true };
    }
    if (opts.ifAbsent !== undefined) throw invalidArg('Spool.append: ifAbsent cannot be combined with key');
    return appendWithKey(this.#context, data, opts.key, opts.beforePublish);
  }

  /**
   * Keyed appends to one or more spools as one batch: each is exactly `spool.append(data, { key })` (same
   * files, same idempotence, same recovery after a crash), and the results come in order. Durability is shared:
   * each directory is fsynced once per batch instead of twice per append, and when the promise resolves every
   * append of a durable spool survives a power cut. If it rejects, some appends may have happened; a retry with
   * the same keys finds them and adds the rest. For imports that report progress once per batch.
   */
  static appendBatch(appends: readonly BatchAppend[]): Promise<AppendResult[]> {
    if (!Array.isArray(appends)) return Promise.reject(invalidArg('appendBatch: appends must be an array'));
    const items = [];
    for (const a of appends) {
      if (!(a?.spool instanceof Spool))
        return Promise.reject(invalidArg('appendBatch: spool must be a Spool'));
      items.push({
        spool: a.spool.#context,
        data: a.data,
        key: a.key,
        ...(a.time === undefined ? {} : { time: a.time }),
      });
    }
    return appendKeyedBatch(items);
  }

  /**
   * The id of the record appended with `key`, once that append has finished: one readlink, no lock. null when
   * the key was never used here, its append is still under way or died half-way, or a power cut took the id
   * (it is not fsynced): a retry of the append then finds the record again and records its id.
   */
  keyedId(key: string): Promise<string | null> {
    return recordedId(this.#context, key);
  }

  /** The record's content, or null if there is no such record. ERR_INVALID_ID for an id of no record. */
  async get(id: string): Promise<Buffer | null> {
    return readComplete(this.#context.recordPath(id));
  }

  /**
   * Ids in (timestamp, counter) order, newest first with `reverse`. Reads names only, never contents. Page with
   * `limit` and `after` (the last id of the previous page; `before` with `reverse`). A record published while
   * the call runs may or may not be listed; ids listed are records that existed during the call.
   */
  list(opts: ListOptions = {}): Promise<string[]> {
    return listIds(this.#context, opts);
  }

  /** The same as list(). */
  ids(opts: ListOptions = {}): Promise<string[]> {
    return listIds(this.#context, opts);
  }

  /**
   * Read-modify-write of one record under its lock: `fn` gets the current content and returns the new one
   * (or undefined to leave it), published with replaceFile, so readers see the old or the new record, whole.
   * Resolves to the new content, or null if the record does not exist.
   */
  async update(
    id: string,
    fn: (
      current: Buffer,
    ) => string | ArrayBufferView | undefined | Promise<string | ArrayBufferView | undefined>,
  ): Promise<Buffer | null> {
    const file = this.#context.recordPath(id);
    const lock = await this.#context.lock('record', id);
    try {
      const current = await readComplete(file);
      if (current === null) return null;
      const next = await fn(current);
      if (next === undefined) return current;
      const bytes = toBytes(next);
      await replaceFile(file, bytes, { durable: this.durable });
      return bytes;
    } finally {
      await lock.release();
    }
  }

  /** Removes a record under its lock. Resolves to false if there was none. */
  async delete(id: string): Promise<boolean> {
    const file = this.#context.recordPath(id);
    const lock = await this.#context.lock('record', id);
    try {
      await runAsync(call({ op: 'unlink', path: file }));
      if (this.durable) await runAsync(call({ op: 'syncDir', dir: this.dir }));
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw toQuireError(err, 'delete');
    } finally {
      await lock.release();
    }
  }

  /**
   * Ids of records as they are published, by any process or host, until `signal` aborts or the spool is
   * closed. No id is yielded twice, and none is missed: change notifications only wake a rescan of the
   * directory's names, and a rescan also runs every `pollMs`. Ids come in name order within one rescan; a record
   * stamped earlier than one already yielded (a slow writer, a clock behind) is still yielded when it appears.
   */
  watch(opts: WatchOptions = {}): AsyncGenerator<string> {
    return watchIds(this.#context, opts, this.#closed.signal);
  }

  /**
   * fsck: reports temps of dead writers, stray or malformed names, unreadable records and unfinished keyed
   * appends; with `repair: true` it removes dead writers' temps and finishes keys whose record it can find.
   * It never removes a record or anything it does not understand.
   */
  check(opts: CheckOptions = {}): Promise<CheckReport> {
    return checkSpool(this.#context, opts);
  }

  /**
   * Ends every watch() iteration of this spool (each holds a change notification and a timer). Nothing else
   * needs closing: a spool keeps no descriptor between calls (each lock opens and closes its own), so other
   * methods still work after close(). Idempotent.
   */
  close(): void {
    this.#closed.abort();
  }
}

/** Opens (by default creating, durably, with its parents) a spool directory. */
export async function openSpool(dir: string, opts: SpoolOptions = {}): Promise<Spool> {
  const spool = new Spool(validatePath(dir, 'dir', 'openSpool'), opts);
  try {
    // makeDir refuses a file in the way with ENOTDIR itself.
    if (opts.create !== false) await runAsync(makeDirSteps(spool.dir, spool.durable, 'openSpool'));
    else if (!(await runAsync(retrying({ op: 'stat', path: spool.dir }))).isDirectory()) {
      throw new QuireError('ENOTDIR', `openSpool: ${spool.dir} is not a directory`);
    }
  } catch (err) {
    throw toQuireError(err, 'openSpool');
  }
  return spool;
}
