/**
 * Keyed appends: a retried append with the same key returns the first record's id and writes nothing new, also
 * when the attempts race from different processes or the first one died half-way. Per key, two names in the
 * spool's `.keys/` (their format is spool-key-files.ts):
 *
 *   .keys/<sha256(key)>      the intent: the second and the sha256 of the record about to be published (durable;
 *                            a link to the journal of its batch, which lists the intents of all its keys)
 *   .keys/<sha256(key)>.id   the id of the record, once published (not made durable: the intent finds it again)
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Data, toBytes, toContent } from './data.js';
import { makeDirSteps } from './dir.js';
import { errnoCode, invalidArg, toQuireError } from './errors.js';
import { formatStamp, resolveTime, type TimeSource } from './names.js';
import { createUnique } from './publish.js';
import { readComplete } from './read.js';
import { KEYS_DIR, type SpoolContext } from './spool-context.js';
import {
  journalOf,
  nameIfFree,
  readIntent,
  readKeyId,
  replaceName,
  writeJournal,
} from './spool-key-files.js';
import { BatchLocks } from './spool-key-locks.js';
import { call, runAsync } from './steps.js';

/** What Spool.append resolves to. */
export interface AppendResult {
  id: string;
  /** false when the key had already been used and `id` is the earlier record. */
  created: boolean;
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

/** One append of a batch on its way: its key's names, and its result once known. */
interface Pending {
  item: KeyedAppend;
  bytes: Buffer;
  sha: string;
  keysDir: string;
  intentPath: string;
  idPath: string;
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
    time: resolveTime(item.time ?? item.spool.time),
  };
}

/**
 * The batch's journal, one per filesystem: written and fsynced once, in the first key's `.keys/`, and linked
 * under every key's name; a key on another filesystem (EXDEV) gets a copy in its own `.keys/`.
 */
class Journals {
  private readonly files = new Map<string, Promise<string>>();
  private readonly bytes: Buffer;

  constructor(
    todo: readonly Pending[],
    private readonly durable: boolean,
  ) {
    this.bytes = journalOf(todo.map((p) => ({ h: path.basename(p.intentPath), time: p.time, sha: p.sha })));
  }

  /** The journal's name in `keysDir` (its first one: a temp), written there if it is the first. */
  in(keysDir: string, first = this.files.size === 0): Promise<string> | undefined {
    let file = this.files.get(keysDir);
    if (file === undefined && first) {
      file = writeJournal(keysDir, this.bytes, this.durable).catch(async (err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') throw err;
        await runAsync(makeDirSteps(keysDir, this.durable, 'append'));
        return writeJournal(keysDir, this.bytes, this.durable);
      });
      this.files.set(keysDir, file);
    }
    return file ?? this.files.values().next().value;
  }

  /** Unlinks the journals' temp names: the links under the keys' names keep them. */
  async done(): Promise<void> {
    const made = await Promise.allSettled(this.files.values());
    await Promise.all(
      made.map((m) => (m.status === 'fulfilled' ? fs.unlink(m.value).catch(() => {}) : null)),
    );
  }
}

/** Names the journal as the key's intent if the key has none: false if it has. Creates `.keys/` if missing. */
async function linkIntent(p: Pending, journals: Journals, replace = false): Promise<boolean> {
  const name = async (first?: boolean) => {
    const to = { existing: (await journals.in(p.keysDir, first)) as string };
    return replace ? replaceName(p.intentPath, to).then(() => true) : nameIfFree(p.intentPath, to);
  };
  for (let retried = false; ; retried = true) {
    try {
      return await name();
    } catch (err) {
      const code = errnoCode(err);
      if (retried || (code !== 'ENOENT' && code !== 'EXDEV')) throw err;
      if (code === 'EXDEV') return name(true);
      await runAsync(makeDirSteps(p.keysDir, p.item.spool.durable, 'append'));
    }
  }
}

/**
 * Step 2 below for one append, under its key's lock: the intent made (the append is to be published), or the
 * key's result when its id is recorded or a dead attempt's record is found.
 */
async function claim(p: Pending, journals: Journals): Promise<void> {
  if (await linkIntent(p, journals)) return;
  // No intent, no id: an id is recorded only after its intent. So only a key met before gets here.
  const known = await readKeyId(p.item.spool, p.idPath);
  if (known !== null) {
    p.result = { id: known, created: false };
    return;
  }
  const pending = await readIntent(p.keysDir, path.basename(p.intentPath));
  if (pending !== null && pending.sha === p.sha) {
    const found = await findBySum(p.item.spool, pending.stamp, p.sha);
    if (found !== null) {
      await replaceName(p.idPath, { target: found });
      p.result = { id: found, created: false };
      return;
    }
  }
  await linkIntent(p, journals, true);
}

/** fsync of each of `dirs` (group commit with any other writer there). */
async function syncDirs(dirs: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(dirs)].map((dir) => runAsync(call({ op: 'syncDir', dir }))));
}

/**
 * The records of `todo`, in parallel, each file fsynced (durable spools) but not its directory, except that
 * appends into one directory stamped with one second go one after another in the batch's order, so their
 * counters number them in that order (-0, -1, ...).
 */
async function publishRecords(todo: readonly Pending[]): Promise<void> {
  const chains = new Map<string, Promise<unknown>>();
  await Promise.all(
    todo.map((p) => {
      const chain = `${p.item.spool.dir}\0${formatStamp(p.time)}`;
      const run = (chains.get(chain) ?? Promise.resolve()).then(async () => {
        const opts = { ...p.item.spool.writeOptions(p.item.beforePublish, p.time), syncDir: false };
        const r = await createUnique(p.item.spool.dir, p.bytes, opts);
        p.result = { id: r.name, created: true };
      });
      chains.set(chain, run);
      return run;
    }),
  );
}

/** The batch's appends, checked (each key once) and in key order, which BatchLocks.acquire needs. */
async function prepare(items: readonly KeyedAppend[]): Promise<{ all: Pending[]; order: Pending[] }> {
  for (const item of items) checkKey(item.key);
  const all = await Promise.all(items.map(pendingOf));
  const order = [...all].sort((a, b) =>
    a.intentPath < b.intentPath ? -1 : a.intentPath > b.intentPath ? 1 : 0,
  );
  for (let k = 1; k < order.length; k++) {
    if (order[k]!.intentPath === order[k - 1]!.intentPath)
      throw invalidArg('a key appears twice in one batch');
  }
  return { all, order };
}

/**
 * Keyed appends:
 * 1. `.keys/<h>.id` names the id: done, return it. An id, once recorded, never changes, so this first look
 *    needs no lock (a re-run of an import costs one readlink per key).
 * Then, under the key's lock (spool-key-locks.ts):
 * 2. The intent is made if there is none. If there is one, an earlier attempt got this far: if its id is
 *    recorded now, return it; if the record it names (that second, that checksum) was published, adopt it.
 *    Otherwise the intent is replaced with this attempt's.
 * 3. Once every intent is durable (one fsync of each `.keys/`, before any record exists, so a crash after the
 *    record cannot forget the key), the records are published, stamped with their intents' seconds, each
 *    file fsynced; then each spool directory is fsynced once; then the ids are recorded, without fsync: if a
 *    power cut loses one, step 2 finds the record again.
 * When it resolves, every append of the batch is durable; if it rejects, those that happened are found by a
 * retry with the same keys. Per append: one file fsync (its record); per directory, one fsync per batch.
 */
export async function appendKeyedBatch(items: readonly KeyedAppend[]): Promise<AppendResult[]> {
  const { all, order } = await prepare(items);
  try {
    await Promise.all(
      all.map(async (p) => {
        const known = await readKeyId(p.item.spool, p.idPath);
        if (known !== null) p.result = { id: known, created: false };
      }),
    );
  } catch (err) {
    throw toQuireError(err, 'append');
  }
  const open = order.filter((p) => p.result === undefined);
  const locks = await BatchLocks.acquire(
    open.map((p) => ({ spool: p.item.spool, h: path.basename(p.intentPath) })),
  );
  const journals = new Journals(
    open,
    open.some((p) => p.item.spool.durable),
  );
  try {
    try {
      await Promise.all(open.map((p) => claim(p, journals)));
    } finally {
      await journals.done();
    }
    // In the batch's order, which numbers the records of one second.
    const todo = all.filter((p) => p.result === undefined);
    const durable = todo.filter((p) => p.item.spool.durable);
    await syncDirs(durable.map((p) => p.keysDir));
    await publishRecords(todo);
    await syncDirs(durable.map((p) => p.item.spool.dir));
    await Promise.all(todo.map((p) => replaceName(p.idPath, { target: (p.result as AppendResult).id })));
    return all.map((p) => p.result as AppendResult);
  } catch (err) {
    throw toQuireError(err, 'append');
  } finally {
    await locks.release();
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

/** Spool.keyedId: the id recorded for `key`, or null. */
export async function recordedId(spool: SpoolContext, key: string): Promise<string | null> {
  checkKey(key);
  try {
    return await readKeyId(spool, path.join(spool.dir, KEYS_DIR, `${sha256(key)}.id`));
  } catch (err) {
    throw toQuireError(err, 'keyedId');
  }
}

/**
 * For check(): the record a key's dead append published without recording its id, or null (the id is there,
 * or there is no intent, or its record was never published: harmless, a retry publishes it). Under the key's lock.
 */
export async function pendingKeyRecord(spool: SpoolContext, h: string): Promise<string | null> {
  const keysDir = path.join(spool.dir, KEYS_DIR);
  if ((await readKeyId(spool, path.join(keysDir, `${h}.id`))) !== null) return null;
  const pending = await readIntent(keysDir, h);
  return pending === null ? null : findBySum(spool, pending.stamp, pending.sha);
}
