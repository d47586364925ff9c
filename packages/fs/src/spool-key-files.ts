/**
 * The two names a keyed append leaves in its spool's `.keys/` (the protocol is spool-keys.ts):
 *
 *   .keys/<h>      the intent, h = sha256(key): a hard link to its batch's journal, a file that lists, one line
 *                  per key of the batch, `<h> <second> <sha256 of the record>` (after a first line
 *                  `quire-keys-journal 1`)
 *   .keys/<h>.id   the id: a symbolic link to the record's id
 *
 * A batch writes and fsyncs one journal, then links it under every key's name: a link is a new name for an
 * inode that is already durable, so an fsync of `.keys/` makes every new intent in it durable. Per key, one
 * link(2) and no file: no temp to write, fsync, link and unlink, no inode to allocate, and one directory
 * fsync for all of them. The id needs no durability (the intent finds the record again): a symlink, which
 * symlink(2) makes whole or not at all, and never over an existing name. Earlier versions wrote both as
 * regular files ({"time", "sha"} as JSON, and the id): those are still read, and replaced when rewritten.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from './errors.js';
import { fdAsync, writeAll } from './io.js';
import { formatStamp } from './names.js';
import { readComplete } from './read.js';
import type { SpoolContext } from './spool-context.js';
import { tempName } from './temp.js';

const JOURNAL_HEAD = 'quire-keys-journal 1\n';

/** What an intent records: the second the record was stamped with and the sha256 of its bytes (hex). */
export interface Intent {
  stamp: string;
  sha: string;
}

/** One line of a journal: key hash `h`, the record's time (ms), its bytes' sha256 (hex). */
export interface JournalEntry {
  h: string;
  time: number;
  sha: string;
}

/** A journal's bytes. */
export function journalOf(entries: readonly JournalEntry[]): Buffer {
  const lines = entries.map((e) => `${e.h} ${Math.floor(e.time / 1000)} ${e.sha}\n`);
  return Buffer.from(JOURNAL_HEAD + lines.join(''));
}

/** The intent of key hash `h` in an intent file: a journal's line, or an earlier version's JSON. */
function parseIntent(h: string, b: Buffer): Intent | null {
  const text = b.toString('utf8');
  if (text.startsWith(JOURNAL_HEAD)) {
    const at = text.indexOf(`\n${h} `);
    const m = at < 0 ? null : /^\n[0-9a-f]{64} (\d{1,15}) ([0-9a-f]{64})\n/.exec(text.slice(at, at + 160));
    return m === null ? null : { stamp: formatStamp(Number(m[1]) * 1000), sha: m[2] as string };
  }
  try {
    const v = JSON.parse(text) as { time?: unknown; sha?: unknown };
    if (typeof v.time !== 'number' || typeof v.sha !== 'string') return null;
    return { stamp: formatStamp(v.time), sha: v.sha };
  } catch {
    return null;
  }
}

/** The intent at `.keys/<h>` in `keysDir`, or null when there is none or it cannot be read as one. */
export async function readIntent(keysDir: string, h: string): Promise<Intent | null> {
  const b = await readComplete(path.join(keysDir, h));
  return b === null ? null : parseIntent(h, b);
}

/** The id recorded at `file`, or null when there is none (or it is not an id of this spool: cut by a crash). */
export async function readKeyId(spool: SpoolContext, file: string): Promise<string | null> {
  let id: string | null;
  try {
    id = await fs.readlink(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    if (errnoCode(err) !== 'EINVAL') throw err;
    // An earlier version's file; empty when a crash cut it.
    id = (await readComplete(file))?.toString('utf8') ?? null;
  }
  return id !== null && spool.recordName(id) !== null ? id : null;
}

/**
 * Writes `bytes` to a new temp in `dir` and fsyncs it (when `durable`): the journal's first name, to link from
 * and then unlink (a crash in between leaves a temp that sweepTemps removes).
 */
export async function writeJournal(dir: string, bytes: Buffer, durable: boolean): Promise<string> {
  const file = path.join(dir, tempName());
  const fd = await fdAsync.open(file, 'wx');
  try {
    await writeAll(fd, bytes);
    if (durable) await fdAsync.fsync(fd);
  } catch (err) {
    await fdAsync.close(fd).catch(() => {});
    await fs.unlink(file).catch(() => {});
    throw err;
  }
  await fdAsync.close(fd);
  return file;
}

/**
 * Makes `file` a new name of `existing` (link) or a link to `target` (symlink) if the name is free: true if
 * this call made it, false if something is there (EEXIST). Not durable by itself: the caller fsyncs the
 * directory. ENOENT when the directory is missing.
 */
export async function nameIfFree(
  file: string,
  to: { existing: string } | { target: string },
): Promise<boolean> {
  try {
    if ('existing' in to) await fs.link(to.existing, file);
    else await fs.symlink(to.target, file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
}

/**
 * As nameIfFree, whatever is there: the name made under a temp name, then renamed over `file`, so a reader
 * sees the old entry or the new one. Not durable by itself: the caller fsyncs the directory.
 */
export async function replaceName(
  file: string,
  to: { existing: string } | { target: string },
): Promise<void> {
  if (await nameIfFree(file, to)) return;
  const tmp = path.join(path.dirname(file), tempName());
  await nameIfFree(tmp, to);
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.unlink(tmp).catch(() => {});
    throw err;
  }
}
