/**
 * The two names a keyed append leaves in its spool's `.keys/` (the protocol is spool-keys.ts):
 *
 *   .keys/<sha256(key)>      the intent: a symbolic link to `<second>.<sha256 of the record, base64url>`
 *   .keys/<sha256(key)>.id   the id: a symbolic link to the record's id
 *
 * Symbolic links, not files: symlink(2) makes the name and its target in one step (whole or not at all, and
 * never over an existing name), and a target this short (at most 57 bytes) is kept in the inode itself, so an
 * fsync of `.keys/` makes every new intent in it durable. A batch of appends then writes, per key, one name and
 * no file: no temp to write, fsync, link and unlink, and one directory fsync for all of them (f2fs's maintainers
 * state the contract: "if user wants to keep this file atomically, it needs to trigger dir->fsync", commit
 * d0cae97c, "f2fs: flush symlink path to avoid broken symlink after POR"). The targets point nowhere; nothing
 * follows them. Earlier versions wrote both as regular files ({"time", "sha"} as JSON, and the id): those are
 * still read, and replaced when rewritten.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from './errors.js';
import { formatStamp } from './names.js';
import { readComplete } from './read.js';
import type { SpoolContext } from './spool-context.js';
import { tempName } from './temp.js';

/** What an intent records: the second the record was stamped with and the sha256 of its bytes (hex). */
export interface Intent {
  stamp: string;
  sha: string;
}

/** The target of an intent link for a record stamped `timeMs` whose bytes have the sha256 `sha` (hex). */
export function intentTarget(timeMs: number, sha: string): string {
  return `${Math.floor(timeMs / 1000)}.${Buffer.from(sha, 'hex').toString('base64url')}`;
}

function parseTarget(target: string): Intent | null {
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(target);
  if (m === null) return null;
  return { stamp: formatStamp(Number(m[1]) * 1000), sha: Buffer.from(m[2] as string, 'base64url').toString('hex') };
}

/** An intent file of an earlier version: JSON {time (ms), sha (hex)}. */
function parseLegacy(b: Buffer): Intent | null {
  try {
    const v = JSON.parse(b.toString('utf8')) as { time?: unknown; sha?: unknown };
    if (typeof v.time !== 'number' || typeof v.sha !== 'string') return null;
    return { stamp: formatStamp(v.time), sha: v.sha };
  } catch {
    return null;
  }
}

/**
 * What is at `file`: a link's target, a regular file's content (an earlier version's), or null when there is
 * nothing (or an empty file: one cut by a crash).
 */
async function readKeyName(file: string): Promise<string | null> {
  try {
    return await fs.readlink(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    if (errnoCode(err) !== 'EINVAL') throw err;
  }
  const b = await readComplete(file);
  return b === null || b.length === 0 ? null : b.toString('utf8');
}

/** The intent at `file`, or null when there is none or it cannot be read as one. */
export async function readIntent(file: string): Promise<Intent | null> {
  try {
    const target = await fs.readlink(file);
    return parseTarget(target);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    if (errnoCode(err) !== 'EINVAL') throw err;
  }
  const b = await readComplete(file);
  return b === null ? null : parseLegacy(b);
}

/** The id recorded at `file`, or null when there is none (or it is not an id of this spool: cut by a crash). */
export async function readKeyId(spool: SpoolContext, file: string): Promise<string | null> {
  const id = await readKeyName(file);
  return id !== null && spool.recordName(id) !== null ? id : null;
}

/**
 * Makes `file` a link to `target` if the name is free: true if this call made it, false if something is there
 * (EEXIST). Not durable by itself: the caller fsyncs the directory. ENOENT when the directory is missing.
 */
export async function linkIfFree(file: string, target: string): Promise<boolean> {
  try {
    await fs.symlink(target, file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Makes `file` a link to `target` whatever is there: a link made under a temp name, renamed over the name, so a
 * reader sees the old entry or the new one. Not durable by itself: the caller fsyncs the directory.
 */
export async function replaceLink(file: string, target: string): Promise<void> {
  if (await linkIfFree(file, target)) return;
  const tmp = path.join(path.dirname(file), tempName());
  await fs.symlink(target, tmp);
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.unlink(tmp).catch(() => {});
    throw err;
  }
}
