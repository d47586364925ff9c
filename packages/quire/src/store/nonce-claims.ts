import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const CLAIMS = '.nonces';
/** Where a keyed append of an earlier version of quire marked nonces; no version since makes it. */
const LEGACY_MARKS = '.keys';

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function nonceHash(nonce: string): string {
  return createHash('sha256').update(nonce).digest('hex');
}

/** Per thread directory, whether it has the `.keys` directory of an earlier version (looked up once). */
const legacy = new Map<string, boolean>();

function hasLegacyMarks(dir: string): boolean {
  let has = legacy.get(dir);
  if (has === undefined) {
    has = fs.existsSync(path.join(dir, LEGACY_MARKS));
    legacy.set(dir, has);
  }
  return has;
}

/** Per thread directory, the anchor this process links claims to (moved on at EMLINK). */
const anchors = new Map<string, number>();

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
 * A claim is a hard link to an empty anchor file, `.nonces/.anchor-<k>`: link(2) refuses an existing name just
 * as an exclusive create does, but allocates no inode (measured on ext4 without a journal: 10 µs against
 * 250 µs for an empty file). A filesystem caps the links of one inode (ext4: 65,000; btrfs: far fewer within
 * one directory), so EMLINK moves on to another anchor, 2k+1 after k (any anchor with room will do, so the gaps
 * are harmless, and a process that starts late finds room in a few tries).
 *
 * On the threadpool, while the comment's file is written: a link is a change to the filesystem's metadata, which
 * on a journaled filesystem can wait for the journal, and the event loop must not (measured on ext4 with a
 * journal: 10% of POSTs per second when this link ran on the event loop).
 */
export async function claimNonce(dir: string, nonce: string, durable: boolean): Promise<boolean> {
  const h = nonceHash(nonce);
  if (hasLegacyMarks(dir) && fs.existsSync(path.join(dir, LEGACY_MARKS, h))) return false;
  const claims = path.join(dir, CLAIMS);
  const claim = path.join(claims, h);
  for (let tries = 0; ; tries++) {
    const k = anchors.get(dir) ?? 0;
    const anchor = path.join(claims, `.anchor-${k}`);
    try {
      await fs.promises.link(anchor, claim);
      if (durable) await syncDir(claims);
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EEXIST') {
        if (durable) await syncDir(claims);
        return false;
      }
      if (tries >= 64) throw err;
      if (code === 'EMLINK') anchors.set(dir, 2 * k + 1);
      else if (code === 'ENOENT') {
        // No anchor (or no directory) yet: make them. Several processes may at once; any of them will do.
        await fs.promises.mkdir(claims, { recursive: true });
        await (await fs.promises.open(anchor, 'a')).close();
      } else throw err;
    }
  }
}

/**
 * Whether `nonce` has a claim, without making one: a stat, no change to the filesystem, so on the event loop. A
 * first attempt asks under the nonce's lock; every later attempt claims under that lock before it looks, so a
 * first attempt that finds no claim was not overtaken by any retry, and one that finds a claim looks too.
 */
export function nonceClaimed(dir: string, nonce: string): boolean {
  const h = nonceHash(nonce);
  return (
    fs.existsSync(path.join(dir, CLAIMS, h)) ||
    (hasLegacyMarks(dir) && fs.existsSync(path.join(dir, LEGACY_MARKS, h)))
  );
}
