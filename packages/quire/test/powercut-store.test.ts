/**
 * Power cuts under the comment store, on loop-mounted ext4 and xfs (powercut-store.ts): every acknowledged
 * comment, verdict, delete and like survives, whole, and is shown by the thread views, the counts and the admin
 * lists, also when the writers are only SIGKILLed: by the store itself on restart (each thread's index and the
 * status index find what a cut left stale), and the site-wide approved list after `quire fsck --repair`.
 * Controls show the test sees a loss: the same cuts with the store not fsyncing lose acknowledged comments, and
 * a writer whose status-index update is broken leaves the admin lists wrong. Root only (losetup, mount, the
 * shutdown ioctl): elsewhere it says why and skips, in CI it fails instead.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { cannotCutPower, FS_TYPES, type FsType, requireOrSkip } from '@quire/testkit';
import { type StoreCut, type StoreCutOptions, StoreCuts } from './powercut-store.js';

const CUTS = 10;

/** Runs `cuts` cuts in a fresh directory (unique mount point and images); everything undone when the test ends. */
async function campaign(
  t: TestContext,
  cuts: number,
  opts: Omit<StoreCutOptions, 'workDir'>,
): Promise<StoreCut[]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `quire-store-cut-${opts.fs}-`));
  const c = new StoreCuts({ ...opts, workDir: work });
  t.after(async () => {
    // close() throws when it cannot unmount: then the directory holding the mount point is left alone.
    await c.close();
    fs.rmSync(work, { recursive: true, force: true });
  });
  const out: StoreCut[] = [];
  try {
    for (let i = 1; i <= cuts; i++) {
      const r = await c.cut(i);
      out.push(r);
      for (const f of r.findings.slice(0, 3)) t.diagnostic(`  ${f.slice(0, 300)}`);
      for (const l of r.repaired) t.diagnostic(`  fsck: ${l}`);
      t.diagnostic(
        `${opts.fs} cut ${i}: ${r.acked} acknowledged (${r.late} after the cut, ${r.inFlight} under way), ${r.comments} comments, ` +
          `${r.findings.length} findings, fsck repaired ${r.repaired.length}, ${Math.round(r.ms)} ms`,
      );
    }
  } finally {
    await c.close();
  }
  return out;
}

function findings(cuts: StoreCut[], category: string): string[] {
  return cuts.flatMap((r) =>
    r.findings.filter((f) => f.startsWith(`${category}:`)).map((f) => `cut ${r.cut}: ${f}`),
  );
}

for (const fsType of FS_TYPES) {
  test(`${CUTS} power cuts on ${fsType} under the store: every acknowledged comment is there and shown`, {
    timeout: 180_000,
  }, async (t) => {
    const reason = cannotCutPower();
    if (!requireOrSkip(t, reason === null, reason ?? '')) return;
    const cuts = await campaign(t, CUTS, { fs: fsType });
    assert.deepEqual(findings(cuts, 'lost'), [], 'acknowledged and missing');
    assert.deepEqual(findings(cuts, 'partial'), [], 'comment files cut short');
    assert.deepEqual(findings(cuts, 'stale'), [], 'shown otherwise than the files say');
    assert.deepEqual(findings(cuts, 'other'), []);
    const acked = cuts.reduce((n, r) => n + r.acked, 0);
    assert.ok(acked > CUTS * 5, `${acked} steps acknowledged before the cuts`);
    // Each of the 4 lanes has a step under way but for the moment between an acknowledgement and the next note.
    const under = cuts.reduce((n, r) => n + r.inFlight, 0);
    assert.ok(
      under >= CUTS,
      `${under} steps under way at ${CUTS} cuts: the cuts landed while the writers worked`,
    );
  });
}

test('SIGKILL of the writers upon a random acknowledgement, 4 times: every acknowledged comment is there and shown', {
  timeout: 120_000,
}, async (t) => {
  const reason = cannotCutPower();
  if (!requireOrSkip(t, reason === null, reason ?? '')) return;
  const cuts = await campaign(t, 4, { fs: 'ext4', kill: true });
  for (const category of ['lost', 'partial', 'stale', 'other'])
    assert.deepEqual(findings(cuts, category), [], category);
});

test('the controls: without fsync acknowledged comments are lost; a broken status-index update shows stale lists', {
  timeout: 120_000,
}, async (t: TestContext) => {
  const reason = cannotCutPower();
  if (!requireOrSkip(t, reason === null, reason ?? '')) return;
  const fsType: FsType = 'ext4';
  const loose = await campaign(t, 2, { fs: fsType, durable: false, minAcks: 20, maxAcks: 40 });
  const lost = findings(loose, 'lost');
  assert.ok(lost.length > 0, 'acknowledged without fsync, all survived 2 cuts');
  const broken = await campaign(t, 1, { fs: fsType, broken: 'status', minAcks: 20, maxAcks: 40 });
  const stale = findings(broken, 'stale');
  assert.ok(
    stale.some((f) => /pending list|spam list|deleted list/.test(f)),
    `no stale admin list with the status index never told: ${stale.join('\n')}`,
  );
});
