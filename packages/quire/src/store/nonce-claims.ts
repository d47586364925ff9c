import { createHash } from 'node:crypto';
import path from 'node:path';
import { createMarker, stampAsync } from '@quire/fs';

const CLAIMS = '.nonces';
/** Where a keyed append of an earlier version of quire marked nonces; no version since makes it. */
const LEGACY_MARKS = '.keys';

/**
 * Whether `p` exists, as fs.existsSync says (any failed stat is false), by a stat on the threadpool that does
 * not throw: a miss is the usual answer here, for every first attempt, and the event loop must not wait for a
 * stat (on a network filesystem, a round trip to the server).
 */
async function present(p: string): Promise<boolean> {
  return (await stampAsync(p)).st != null;
}

function nonceHash(nonce: string): string {
  return createHash('sha256').update(nonce).digest('hex');
}

/** Per thread directory, whether it has the `.keys` directory of an earlier version (looked up once). */
const legacy = new Map<string, boolean>();

async function hasLegacyMarks(dir: string): Promise<boolean> {
  let has = legacy.get(dir);
  if (has === undefined) {
    has = await present(path.join(dir, LEGACY_MARKS));
    legacy.set(dir, has);
  }
  return has;
}

/**
 * Claims `nonce` in the thread `dir` by making the name `.nonces/<sha256(nonce)>` (fsynced only with `durable`):
 * true if this call made it, false if it existed, or if a keyed append of an earlier version of quire marked the
 * nonce (`.keys/<sha256(nonce)>`; looked for only in threads that have a `.keys` directory). Called under the
 * nonce's lock.
 *
 * Why a claim made here proves that no comment with this nonce exists beyond those listed once since this
 * process started (Admission): every comment with a nonce is published, under the nonce's lock, after its
 * claim exists, and claims are never removed. While the kernel runs, all processes of a host see one namespace,
 * so a claim is visible to everyone the moment it is made. Only a crash of the kernel (a power cut, a panic) can
 * lose a claim whose comment survived (the claim is not fsynced; the comment is), and that crash also ended
 * every process that had an index: a process started afterwards lists the comments before it trusts a claim.
 * Across hosts the filesystem must apply namespace operations in order (NFS: a `sync` export, which fsync on
 * NFS needs anyway). A claim whose post was refused or crashed before publishing only sends later attempts
 * with that nonce to the listing.
 *
 * A claim is a marker of @quire/fs (createMarker: a hard link to an empty anchor, no inode per claim), made on
 * the threadpool while the comment's file is written: a link is a change to the filesystem's metadata, which on
 * a journaled filesystem can wait for the journal, and the event loop must not (measured on ext4 with a
 * journal: 10% of POSTs per second when this link ran on the event loop).
 */
export async function claimNonce(dir: string, nonce: string, durable: boolean): Promise<boolean> {
  const h = nonceHash(nonce);
  if ((await hasLegacyMarks(dir)) && (await present(path.join(dir, LEGACY_MARKS, h)))) return false;
  return createMarker(path.join(dir, CLAIMS, h), { durable });
}

/**
 * How a first attempt learns whether a retry overtook it (it holds the nonce's lock, as every claimer does):
 * usually the claim's path, which its publish then requires absent (@quire/fs `ifAbsent`: one lstat in the
 * publish's own trip to the threadpool, just before the name is taken, instead of a trip of its own before it);
 * in a thread with an earlier version's marks (`.keys`), whether the nonce is claimed, looked up now.
 */
export async function firstAttemptLook(dir: string, nonce: string): Promise<string | boolean> {
  if (await hasLegacyMarks(dir)) return nonceClaimed(dir, nonce);
  return path.join(dir, CLAIMS, nonceHash(nonce));
}

/**
 * Whether `nonce` has a claim, without making one: a stat, no change to the filesystem. A
 * first attempt asks under the nonce's lock; every later attempt claims under that lock before it looks, so a
 * first attempt that finds no claim was not overtaken by any retry, and one that finds a claim looks too.
 */
export async function nonceClaimed(dir: string, nonce: string): Promise<boolean> {
  const h = nonceHash(nonce);
  if (await present(path.join(dir, CLAIMS, h))) return true;
  return (await hasLegacyMarks(dir)) && (await present(path.join(dir, LEGACY_MARKS, h)));
}
