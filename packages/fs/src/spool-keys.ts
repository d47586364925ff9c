/**
 * Keyed appends: a retried append with the same key returns the first record's id and writes nothing new, also
 * when the attempts race from different processes or the first one died half-way.
 *
 *   .keys/<sha256(key)>      the intent: {"time", "sha"} of the record about to be published (durable)
 *   .keys/<sha256(key)>.id   the id of the record, once published (not fsynced: the intent finds it again)
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { type Data, toBytes, toContent } from './data.js';
import { makeDirSteps } from './dir.js';
import { invalidArg, toQuireError } from './errors.js';
import type { Lock } from './lock.js';
import { formatStamp, resolveTime, type TimeSource } from './names.js';
import { createExclusive, createUnique, replaceFile } from './publish.js';
import { readComplete } from './read.js';
import { KEYS_DIR, type SpoolContext } from './spool-context.js';
import { call, runAsync } from './steps.js';

/** What Spool.append resolves to. */
export interface AppendResult {
  id: string;
  /** false when the key had already been used and `id` is the earlier record. */
  created: boolean;
}

/** What an intent file holds: the second the record was stamped with and the sha256 of its bytes. */
interface Intent {
  stamp: string;
  sha: string;
}

function parseIntent(b: Buffer): Intent | null {
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

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The id recorded for a key, or null when there is none (or it is empty: cut by a crash). */
export async function readKeyId(spool: SpoolContext, idPath: string): Promise<string | null> {
  const b = await readComplete(idPath);
  if (b === null || b.length === 0) return null;
  const id = b.toString('utf8');
  return spool.recordName(id) ? id : null;
}

/** The record stamped `stamp` whose content has checksum `sha`, if one was published. */
async function findBySum(spool: SpoolContext, stamp: string, sha: string): Promise<string | null> {
  for (const name of await runAsync(call({ op: 'readdir', path: spool.dir }))) {
    const parsed = spool.recordName(name);
    if (parsed === null || parsed.stamp !== stamp) continue;
    const b = await readComplete(path.join(spool.dir, name));
    if (b !== null && sha256(b) === sha) return name;
  }
  return null;
}

/** One keyed append of a batch: its spool, its data and key, and the time its record name records. */
export interface KeyedAppend {
  spool: SpoolContext;
  data: Data;
  key: string;
  /** Default: the spool's clock. */
  time?: TimeSource;
  beforePublish?: (() => unknown) | undefined;
}

/** One append of a batch on its way: its key's files, and its result once known. */
interface Pending {
  item: KeyedAppend;
  bytes: Buffer;
  sha: string;
  keysDir: string;
  intentPath: string;
  idPath: string;
  /** The intent already on disk (a dead attempt's), or null. */
  intent: Buffer | null;
  time: number;
  result?: AppendResult;
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > 1024) {
    throw invalidArg('key must be a non-empty string of at most 1024 bytes');
  }
}

async function pendingOf(item: KeyedAppend): Promise<Pending> {
  const bytes = await collect(item.data);
  const h = sha256(item.key);
  const keysDir = path.join(item.spool.dir, KEYS_DIR);
  return {
    item,
    bytes,
    sha: sha256(bytes),
    keysDir,
    intentPath: path.join(keysDir, h),
    idPath: path.join(keysDir, `${h}.id`),
    intent: null,
    time: resolveTime(item.time ?? item.spool.time),
  };
}

/**
 * Steps 1 and 2 below for one append (under its key's lock): its result when the key is known, or when a dead
 * attempt's record is found by its intent; otherwise it stays without one, to be published.
 */
async function settleKnown(p: Pending): Promise<void> {
  const known = await readKeyId(p.item.spool, p.idPath);
  if (known !== null) {
    p.result = { id: known, created: false };
    return;
  }
  p.intent = await readComplete(p.intentPath);
  const pending = p.intent === null ? null : parseIntent(p.intent);
  if (pending === null || pending.sha !== p.sha) return;
  const found = await findBySum(p.item.spool, pending.stamp, p.sha);
  if (found === null) return;
  await replaceFile(p.idPath, found, { durable: false });
  p.result = { id: found, created: false };
}

/** The directories that more than one of `dirs` names: fsynced once for all of them, after their writes. */
function shared(dirs: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const d of dirs) (seen.has(d) ? twice : seen).add(d);
  return twice;
}

/** fsync of each of `dirs` (group commit with any other writer there). */
async function syncDirs(dirs: Set<string>): Promise<void> {
  await Promise.all([...dirs].map((dir) => runAsync(call({ op: 'syncDir', dir }))));
}

/**
 * The records of `todo`, in parallel, except that appends into one directory stamped with one second go one
 * after another in the batch's order, so their counters number them in that order (-0, -1, ...).
 */
async function publishRecords(todo: readonly Pending[], later: Set<string>): Promise<void> {
  const chains = new Map<string, Promise<unknown>>();
  await Promise.all(
    todo.map((p) => {
      const chain = `${p.item.spool.dir}\0${formatStamp(p.time)}`;
      const run = (chains.get(chain) ?? Promise.resolve()).then(async () => {
        const syncDir = !later.has(p.item.spool.dir);
        const opts = { ...p.item.spool.writeOptions(p.item.beforePublish, p.time), syncDir };
        const r = await createUnique(p.item.spool.dir, p.bytes, opts);
        p.result = { id: r.name, created: true };
      });
      chains.set(chain, run);
      return run;
    }),
  );
}

/**
 * The keys' locks, `order` sorted: all at once when none is taken (the usual case), else one after another in
 * that order, so two batches that share keys wait for each other and never in a circle.
 */
async function lockAll(order: readonly Pending[]): Promise<Lock[]> {
  const lock = (p: Pending, timeoutMs?: number) =>
    p.item.spool.lock('key', path.basename(p.intentPath), timeoutMs);
  const tries = await Promise.allSettled(order.map((p) => lock(p, 0)));
  const got = tries.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : []));
  if (got.length === order.length) return got;
  await Promise.all(got.map((l) => l.release()));
  const locks: Lock[] = [];
  try {
    for (const p of order) locks.push(await lock(p));
  } catch (err) {
    await Promise.all(locks.map((l) => l.release()));
    throw err;
  }
  return locks;
}

/**
 * Keyed appends, each under its key's lock (lockAll):
 * 1. `.keys/<h>.id` holds the id: done, return it.
 * 2. `.keys/<h>` holds an intent {time, sha256} without an id: an earlier attempt died between the intent and
 *    the id. Its record, if it was published, is a record of that second with that checksum: adopt it.
 * 3. Otherwise write the intent (durably, before the record exists, so a crash after the record cannot forget
 *    the key), publish the record stamped with the intent's second, then write the id.
 * The id file may be written without fsync: if a power cut loses it, step 2 finds the record again.
 * In a batch, every intent is written (each file fsynced) before one fsync of each keys directory, then every
 * record (each file fsynced) before one fsync of each spool directory: the same order of durable steps as one
 * append, with two directory fsyncs per directory per batch instead of two per append. When it resolves, every
 * append of the batch is durable; if it rejects, those that happened are found by a retry with the same keys.
 */
export async function appendKeyedBatch(items: readonly KeyedAppend[]): Promise<AppendResult[]> {
  for (const item of items) checkKey(item.key);
  const all = await Promise.all(items.map(pendingOf));
  const order = [...all].sort((a, b) =>
    a.intentPath < b.intentPath ? -1 : a.intentPath > b.intentPath ? 1 : 0,
  );
  for (let k = 1; k < order.length; k++) {
    if (order[k]!.intentPath === order[k - 1]!.intentPath)
      throw invalidArg('a key appears twice in one batch');
  }
  await Promise.all(
    [...new Map(all.map((p) => [p.keysDir, p.item.spool.durable])).entries()].map(([dir, durable]) =>
      runAsync(makeDirSteps(dir, durable, 'append')),
    ),
  ).catch((err: unknown) => {
    throw toQuireError(err, 'append');
  });
  const locks = await lockAll(order);
  try {
    await Promise.all(all.map(settleKnown));
    const todo = all.filter((p) => p.result === undefined);
    const durable = todo.filter((p) => p.item.spool.durable);
    // A directory written once in this batch is fsynced by its write, as a single append does; one written
    // more often, once after all of its writes.
    const keysLater = shared(durable.map((p) => p.keysDir));
    await Promise.all(
      todo.map((p) => {
        const next = JSON.stringify({ time: p.time, sha: p.sha });
        const opts = { durable: p.item.spool.durable, syncDir: !keysLater.has(p.keysDir) };
        return p.intent === null
          ? createExclusive(p.intentPath, next, opts)
          : replaceFile(p.intentPath, next, opts);
      }),
    );
    await syncDirs(keysLater);
    const recordsLater = shared(durable.map((p) => p.item.spool.dir));
    await publishRecords(todo, recordsLater);
    await syncDirs(recordsLater);
    await Promise.all(
      todo.map((p) => replaceFile(p.idPath, (p.result as AppendResult).id, { durable: false })),
    );
    return all.map((p) => p.result as AppendResult);
  } finally {
    await Promise.all(locks.map((l) => l.release()));
  }
}

/** One keyed append: a batch of one. */
export async function appendWithKey(
  spool: SpoolContext,
  data: Data,
  key: string,
  beforePublish: (() => unknown) | undefined,
): Promise<AppendResult> {
  const [r] = await appendKeyedBatch([{ spool, data, key, beforePublish }]);
  return r as AppendResult;
}

/**
 * For check(): the record a key's dead append published without recording its id, or null (the id is there,
 * or there is no intent, or its record was never published: harmless, a retry publishes it). Under the key's lock.
 */
export async function pendingKeyRecord(spool: SpoolContext, h: string): Promise<string | null> {
  const keysDir = path.join(spool.dir, KEYS_DIR);
  if ((await readKeyId(spool, path.join(keysDir, `${h}.id`))) !== null) return null;
  const pending = parseIntent((await readComplete(path.join(keysDir, h))) ?? Buffer.alloc(0));
  return pending === null ? null : findBySum(spool, pending.stamp, pending.sha);
}
