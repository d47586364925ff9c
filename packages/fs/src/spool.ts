import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Data, toBytes, toContent } from './data.js';
import { makeDirSteps } from './dir.js';
import { errnoCode, invalidArg, QuireError, toQuireError } from './errors.js';
import { acquireLock } from './lock.js';
import {
  checkSuffix,
  compareNames,
  formatStamp,
  parseName,
  type RecordName,
  resolveTime,
  type TimeSource,
} from './names.js';
import { createExclusive, createUnique, replaceFile } from './publish.js';
import { readComplete } from './read.js';
import { call, runAsync } from './steps.js';
import { sweepTemps } from './sweep.js';
import { isProcessAlive, isTempName, parseTempName, thisHost } from './temp.js';

/**
 * A spool is the seed's comment folder, generalised: one flat directory of immutable-by-default records named
 * by createUnique (`YYYYMMDDTHHMMSSZ-N[suffix]`), plus dot entries that are never records:
 *
 *   .spool.lock    byte-range locks, one range per record id or append key (never replaced, never removed)
 *   .keys/         idempotency keys of append({ key })
 *   .quire-*       temps of writers at work (or dead: check() and sweepTemps remove those)
 *
 * Flat rather than sharded by day: a human can `ls`, `cat`, `cp -a` or `rsync` it; an id is its own path; and
 * listing the newest 50 of 100,000 records costs one readdir of names and a partial sort, no content reads
 * (bench/README.md measures it against a bare readdir).
 */
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
}

export interface AppendResult {
  id: string;
  /** false when the key had already been used and `id` is the earlier record. */
  created: boolean;
}

export interface ListOptions {
  /** Only ids that sort after this id (exclusive). */
  after?: string;
  /** Only ids that sort before this id (exclusive). */
  before?: string;
  limit?: number;
  /** Newest first. */
  reverse?: boolean;
}

export interface WatchOptions {
  /** Yield only ids that sort after this id, then every id published later. Default: only ids published later. */
  after?: string;
  /** Stops the iteration. */
  signal?: AbortSignal;
  /**
   * How often to rescan when no change notification arrives (ms, default 1000). Notifications (inotify) are
   * only a hint: they can be coalesced, dropped, or absent on network filesystems; the rescan is the truth.
   */
  pollMs?: number;
  /** Use change notifications as a hint (default true); false polls only. */
  notify?: boolean;
}

export interface CheckOptions {
  /** Remove dead writers' temps and finish keys whose record exists. Never removes a record. */
  repair?: boolean;
  /** Called with the number of records checked so far, every 10,000 records. */
  onProgress?: (records: number) => void;
}

export interface CheckIssue {
  name: string;
  problem: 'dead-temp' | 'live-temp' | 'stray' | 'malformed' | 'unreadable' | 'pending-key';
  detail: string;
  repaired: boolean;
}

export interface CheckReport {
  records: number;
  issues: CheckIssue[];
  /** True when no issue remains unrepaired. */
  clean: boolean;
}

const MAX_ID = 64;
const LOCK_FILE = '.spool.lock';
const KEYS_DIR = '.keys';

/** 31-bit offset for a byte-range lock: distinct names collide with probability about 2^-31. */
function lockOffset(kind: string, name: string): number {
  return createHash('sha256').update(`${kind}\0${name}`).digest().readUInt32BE(0) >>> 1;
}

export class Spool {
  readonly dir: string;
  readonly suffix: string | undefined;
  readonly durable: boolean;
  private readonly time: TimeSource | undefined;

  /** Use openSpool(). */
  constructor(dir: string, opts: SpoolOptions = {}) {
    this.dir = path.resolve(dir);
    this.suffix = opts.suffix === undefined ? undefined : checkSuffix(opts.suffix);
    this.durable = opts.durable !== false;
    this.time = opts.time;
  }

  /** Throws ERR_INVALID_ID unless `id` is a well-formed record name of this spool: never a path outside it. */
  checkId(id: unknown): string {
    if (typeof id !== 'string' || id.length > MAX_ID) throw badId(id);
    const p = parseName(id);
    if (p === null || (this.suffix !== undefined && p.suffix !== this.suffix)) throw badId(id);
    return id;
  }

  pathOf(id: string): string {
    return path.join(this.dir, this.checkId(id));
  }

  private parseOwn(name: string): RecordName | null {
    const p = parseName(name);
    return p !== null && (this.suffix === undefined || p.suffix === this.suffix) ? p : null;
  }

  /**
   * Publishes a new record. Readers in any process see nothing, then the whole record; when the promise resolves
   * (durable spool) the record survives a power cut.
   */
  async append(data: Data, opts: AppendOptions = {}): Promise<AppendResult> {
    if (opts.key === undefined) {
      const r = await createUnique(this.dir, data, this.writeOpts(opts.beforePublish));
      return { id: r.name, created: true };
    }
    return this.appendOnce(data, opts.key, opts.beforePublish);
  }

  private writeOpts(beforePublish?: () => unknown) {
    return {
      suffix: this.suffix ?? '',
      durable: this.durable,
      ...(this.time === undefined ? {} : { time: this.time }),
      ...(beforePublish === undefined ? {} : { beforePublish }),
    };
  }

  /**
   * Keyed append, under the key's lock:
   * 1. `.keys/<h>.id` holds the id: done, return it.
   * 2. `.keys/<h>` holds a pending marker {stamp, sha256} without an id: an earlier attempt died between marking
   *    and finishing. Its record, if it was published, is a record of that second with that checksum: adopt it.
   * 3. Otherwise mark (durably, before the record exists, so a crash after the record cannot forget the key),
   *    publish the record stamped with the marked second, then write the id.
   * The id file may be written without fsync: if a power cut loses it, step 2 finds the record again.
   */
  private async appendOnce(
    data: Data,
    key: string,
    beforePublish: (() => unknown) | undefined,
  ): Promise<AppendResult> {
    if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > 1024) {
      throw invalidArg('key must be a non-empty string of at most 1024 bytes');
    }
    const bytes = await collect(data);
    const h = createHash('sha256').update(key).digest('hex');
    const keysDir = path.join(this.dir, KEYS_DIR);
    const markerPath = path.join(keysDir, h);
    const idPath = path.join(keysDir, `${h}.id`);
    await runAsync(makeDirSteps(keysDir, this.durable, 'append')).catch((err: unknown) => {
      throw toQuireError(err, 'append');
    });
    const lock = await this.lock('key', h);
    try {
      const known = await this.readId(idPath);
      if (known !== null) return { id: known, created: false };
      const sha = createHash('sha256').update(bytes).digest('hex');
      const marker = await readComplete(markerPath);
      if (marker !== null) {
        const pending = parseMarker(marker);
        if (pending !== null && pending.sha === sha) {
          const found = await this.findBySum(pending.stamp, sha);
          if (found !== null) {
            await replaceFile(idPath, found, { durable: false });
            return { id: found, created: false };
          }
        }
      }
      const time = resolveTime(this.time);
      const mark = JSON.stringify({ time, sha });
      if (marker === null) await createExclusive(markerPath, mark, { durable: this.durable });
      else await replaceFile(markerPath, mark, { durable: this.durable });
      const r = await createUnique(this.dir, bytes, { ...this.writeOpts(beforePublish), time });
      await replaceFile(idPath, r.name, { durable: false });
      return { id: r.name, created: true };
    } finally {
      await lock.release();
    }
  }

  private async readId(idPath: string): Promise<string | null> {
    const b = await readComplete(idPath);
    if (b === null || b.length === 0) return null;
    const id = b.toString('utf8');
    return this.parseOwn(id) ? id : null;
  }

  private async findBySum(stamp: string, sha: string): Promise<string | null> {
    for (const name of await fs.promises.readdir(this.dir)) {
      const p = this.parseOwn(name);
      if (p === null || p.stamp !== stamp) continue;
      const b = await readComplete(path.join(this.dir, name));
      if (b !== null && createHash('sha256').update(b).digest('hex') === sha) return name;
    }
    return null;
  }

  /** The record's content, or null if there is no such record. */
  async get(id: string): Promise<Buffer | null> {
    return readComplete(this.pathOf(id));
  }

  /** Ids in (timestamp, counter) order. Reads names only, never contents. */
  async *list(opts: ListOptions = {}): AsyncGenerator<string> {
    for (const id of await this.ids(opts)) yield id;
  }

  /** The same as list(), as an array. */
  async ids(opts: ListOptions = {}): Promise<string[]> {
    const after = opts.after === undefined ? undefined : this.checkId(opts.after);
    const before = opts.before === undefined ? undefined : this.checkId(opts.before);
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 0)) throw invalidArg('limit must be a number >= 0');
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch (err) {
      throw toQuireError(err, 'list');
    }
    const lo = after === undefined ? undefined : keyOf(after);
    const hi = before === undefined ? undefined : keyOf(before);
    const order = opts.reverse ? (a: Key, b: Key) => byKey(b, a) : byKey;
    const keyed: Key[] = [];
    for (const name of names) {
      const p = this.parseOwn(name);
      if (p === null) continue;
      const k = { time: p.time, counter: p.counter, name };
      if ((lo && byKey(k, lo) <= 0) || (hi && byKey(k, hi) >= 0)) continue;
      keyed.push(k);
    }
    return (limit < keyed.length / 8 ? smallest(keyed, limit, order) : keyed.sort(order).slice(0, limit)).map(
      (k) => k.name,
    );
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
    const file = this.pathOf(id);
    const lock = await this.lock('record', id);
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
    const file = this.pathOf(id);
    const lock = await this.lock('record', id);
    try {
      await fs.promises.unlink(file);
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
   * Ids of records as they are published, by any process or host, until `signal` aborts. No id is yielded
   * twice, and none is missed: change notifications only wake a rescan of the directory's names, and a rescan
   * also runs every `pollMs`. Ids come in name order within one rescan; a record stamped earlier than one
   * already yielded (a slow writer, a clock behind) is still yielded when it appears.
   */
  async *watch(opts: WatchOptions = {}): AsyncGenerator<string> {
    const after = opts.after === undefined ? undefined : this.checkId(opts.after);
    const pollMs = opts.pollMs ?? 1000;
    const signal = opts.signal;
    const seen = new Set<string>();
    let first = true;
    let wake: (() => void) | undefined;
    let dirty = false;
    const poke = () => {
      dirty = true;
      wake?.();
    };
    let watcher: fs.FSWatcher | undefined;
    if (opts.notify !== false) {
      try {
        watcher = fs.watch(this.dir, { persistent: false }, poke);
        watcher.on('error', () => {});
      } catch {
        // No notifications here (some network filesystems): polling alone still finds everything.
      }
    }
    signal?.addEventListener('abort', poke);
    try {
      while (!signal?.aborted) {
        dirty = false;
        const ids = await this.ids();
        for (const id of ids) {
          if (seen.has(id)) continue;
          seen.add(id);
          // The first scan yields only what sorts after `after`; everything that appears later is new.
          if (first && (after === undefined || compareNames(id, after) <= 0)) continue;
          yield id;
          if (signal?.aborted) return;
        }
        first = false;
        if (dirty) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      watcher?.close();
      signal?.removeEventListener('abort', poke);
    }
  }

  /**
   * fsck: reports temps of dead writers, stray or malformed names, unreadable records and unfinished keyed
   * appends; with `repair: true` it removes dead writers' temps and finishes keys whose record it can find.
   * It never removes a record or anything it does not understand.
   */
  async check(opts: CheckOptions = {}): Promise<CheckReport> {
    try {
      return await this.checkAll(opts);
    } catch (err) {
      throw toQuireError(err, 'check');
    }
  }

  private async checkAll(opts: CheckOptions): Promise<CheckReport> {
    const repair = opts.repair === true;
    const issues = await this.tempIssues(this.dir, '', repair);
    let records = 0;
    for (const name of await fs.promises.readdir(this.dir)) {
      // Dot names are never records: temps (reported above), lock files and sidecars, and whatever the layer
      // above keeps beside its records (a comment thread's .thread.json, .votes/).
      if (name.startsWith('.')) continue;
      if (this.parseOwn(name) === null) {
        const looksLikeRecord = /^\d{8}T\d{6}Z-/.test(name);
        issues.push({
          name,
          problem: looksLikeRecord ? 'malformed' : 'stray',
          detail: looksLikeRecord
            ? 'record-like name that does not parse for this spool'
            : 'not a record name',
          repaired: false,
        });
        continue;
      }
      records++;
      if (records % 10_000 === 0) opts.onProgress?.(records);
      try {
        const fd = await fs.promises.open(path.join(this.dir, name), 'r');
        await fd.close();
      } catch (err) {
        issues.push({ name, problem: 'unreadable', detail: String(errnoCode(err) ?? err), repaired: false });
      }
    }
    issues.push(...(await this.checkKeys(repair)));
    return { records, issues, clean: issues.every((i) => i.repaired || i.problem === 'live-temp') };
  }

  /** Temps in `dir`: with `repair`, dead writers' are swept; what remains is reported. */
  private async tempIssues(dir: string, label: string, repair: boolean): Promise<CheckIssue[]> {
    const swept = repair ? await sweepTemps(dir) : [];
    const issues: CheckIssue[] = swept.map((s) => ({
      name: label + s.name,
      problem: 'dead-temp',
      detail: s.reason,
      repaired: true,
    }));
    for (const name of await fs.promises.readdir(dir)) {
      if (!isTempName(name)) continue;
      const t = parseTempName(name);
      const live = t !== null && t.host === thisHost() && isProcessAlive(t.pid);
      issues.push({
        name: label + name,
        problem: live ? 'live-temp' : 'dead-temp',
        detail: live
          ? `writer pid ${t?.pid} is at work`
          : 'left by a writer that died (or of another host, younger than an hour); repair removes it',
        repaired: false,
      });
    }
    return issues;
  }

  private async checkKeys(repair: boolean): Promise<CheckIssue[]> {
    const keysDir = path.join(this.dir, KEYS_DIR);
    let names: string[];
    try {
      names = await fs.promises.readdir(keysDir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw toQuireError(err, 'check');
    }
    const issues = await this.tempIssues(keysDir, `${KEYS_DIR}/`, repair);
    for (const h of names) {
      if (!/^[0-9a-f]{64}$/.test(h)) continue;
      // A marker without a record is harmless (a retry publishes the record); one whose record exists but whose
      // id was never written is what an append that died after publishing leaves.
      const lock = await this.lock('key', h);
      try {
        const idPath = path.join(keysDir, `${h}.id`);
        if ((await this.readId(idPath)) !== null) continue;
        const pending = parseMarker((await readComplete(path.join(keysDir, h))) ?? Buffer.alloc(0));
        const found = pending === null ? null : await this.findBySum(pending.stamp, pending.sha);
        if (found === null) continue;
        // An id file may exist but be empty: written without fsync, cut by a crash. Replace it.
        if (repair) await replaceFile(idPath, found, { durable: this.durable });
        issues.push({
          name: `${KEYS_DIR}/${h}`,
          problem: 'pending-key',
          detail: `an append with this key died after publishing ${found}; repair records the id`,
          repaired: repair,
        });
      } finally {
        await lock.release();
      }
    }
    return issues;
  }

  private lock(kind: 'record' | 'key', name: string) {
    return acquireLock(path.join(this.dir, LOCK_FILE), {
      range: { offset: lockOffset(kind, name), length: 1 },
    });
  }
}

/** Numbers, not the stamp string: comparing two doubles is several times cheaper, and list() compares a lot. */
interface Key {
  time: number;
  counter: number;
  name: string;
}

function byKey(a: Key, b: Key): number {
  if (a.time !== b.time) return a.time - b.time;
  if (a.counter !== b.counter) return a.counter - b.counter;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function keyOf(id: string): Key {
  const p = parseName(id) as RecordName;
  return { time: p.time, counter: p.counter, name: id };
}

/**
 * The `k` first of `items` in `order`, sorted, without sorting them all: one pass, each item compared with the
 * worst kept so far and, when better, binary-inserted among the `k` kept.
 */
function smallest(items: Key[], k: number, order: (a: Key, b: Key) => number): Key[] {
  const best: Key[] = [];
  if (k === 0) return best;
  for (const item of items) {
    if (best.length === k && order(item, best[k - 1] as Key) >= 0) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order(item, best[mid] as Key) < 0) hi = mid;
      else lo = mid + 1;
    }
    best.splice(lo, 0, item);
    if (best.length > k) best.pop();
  }
  return best;
}

function badId(id: unknown): QuireError {
  const shown =
    typeof id === 'string' ? JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id) : typeof id;
  return new QuireError('ERR_INVALID_ID', `not a record id of this spool: ${shown}`);
}

function parseMarker(b: Buffer): { stamp: string; sha: string } | null {
  try {
    const v = JSON.parse(b.toString('utf8')) as { time?: unknown; sha?: unknown };
    if (typeof v.time !== 'number' || typeof v.sha !== 'string') return null;
    return { stamp: formatStamp(v.time), sha: v.sha };
  } catch {
    return null;
  }
}

/** A keyed append's content is checksummed before it is written, so it is drawn into memory first. */
async function collect(data: Data): Promise<Buffer> {
  const c = toContent(data, true);
  if (c.kind === 'bytes') return c.bytes;
  const parts: Buffer[] = [];
  for await (const chunk of c.chunks) parts.push(toBytes(chunk));
  return Buffer.concat(parts);
}

/** Opens (by default creating) a spool directory. */
export async function openSpool(dir: string, opts: SpoolOptions = {}): Promise<Spool> {
  if (typeof dir !== 'string' || dir === '' || dir.includes('\0'))
    throw invalidArg('dir must be a non-empty string');
  const spool = new Spool(dir, opts);
  if (opts.create !== false) {
    try {
      await runAsync(makeDirSteps(spool.dir, spool.durable, 'openSpool'));
    } catch (err) {
      throw toQuireError(err, 'openSpool');
    }
  }
  const st = await fs.promises.stat(spool.dir).catch((err: unknown) => {
    throw toQuireError(err, 'openSpool');
  });
  if (!st.isDirectory()) throw new QuireError('ENOTDIR', `openSpool: ${spool.dir} is not a directory`);
  return spool;
}
