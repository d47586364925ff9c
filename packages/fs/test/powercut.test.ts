/**
 * Power cuts on real filesystems (ext4 and xfs, loop-mounted images): writers append, append with keys and
 * update records until `xfs_io -x -c shutdown` cuts the power upon a random acknowledgement; after the journal
 * replays, every operation acknowledged before the cut is there and whole, no record name holds partial data,
 * and check({ repair: true }) leaves a clean spool. A control run without fsync shows that the campaign does
 * see losses. The engine is powercut.ts; `npm run crash-campaign` runs as many cuts as asked.
 * Root only (losetup, mount, the shutdown ioctl): elsewhere each test says why and skips.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { createUniqueSync } from '@quire/fs';
import { hasCommand, isRoot, LoopImage, requireOrSkip } from '@quire/testkit';
import {
  type CampaignOptions,
  type CutReport,
  cannotRun,
  FS_TYPES,
  formatTable,
  PowerCutCampaign,
  type Totals,
} from './powercut.js';

const CUTS = 20;
const CONTROL_CUTS = 3;

/** Runs a campaign in a fresh directory; unmounts, detaches and removes everything when the test ends. */
async function campaign(
  t: TestContext,
  opts: Omit<CampaignOptions, 'workDir' | 'onCut'>,
): Promise<{ totals: Totals; reports: CutReport[] }> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `quire-powercut-${opts.fs}-`));
  const reports: CutReport[] = [];
  const c = new PowerCutCampaign({ ...opts, workDir: work, onCut: (r) => reports.push(r) });
  t.after(async () => {
    // close() throws when it cannot unmount: then the directory holding the mount point is left alone.
    await c.close();
    fs.rmSync(work, { recursive: true, force: true });
  });
  const totals = await c.run();
  for (const line of formatTable([totals]).split('\n')) t.diagnostic(line);
  return { totals, reports };
}

function findings(reports: CutReport[], category: string): string[] {
  return reports.flatMap((r) =>
    r.findings.filter((f) => f.startsWith(`${category}:`)).map((f) => `cut ${r.cut}: ${f}`),
  );
}

for (const fsType of FS_TYPES) {
  test(`${CUTS} power cuts on ${fsType} lose no acknowledged operation and leave no partial record`, {
    timeout: 240_000,
  }, async (t) => {
    const reason = cannotRun();
    if (!requireOrSkip(t, reason === null, reason ?? '')) return;
    const { totals, reports } = await campaign(t, { fs: fsType, cuts: CUTS });
    assert.equal(totals.cuts, CUTS);

    await t.test('every acknowledged append, keyed append and update is there, whole', () => {
      assert.deepEqual(findings(reports, 'lost'), []);
      assert.equal(totals.lost, 0);
    });
    await t.test('no record name holds partial data', () => {
      assert.deepEqual(findings(reports, 'partial'), []);
      assert.equal(totals.partial, 0);
    });
    await t.test('check({ repair: true }) leaves check() clean, and nothing else is out of place', () => {
      assert.deepEqual(findings(reports, 'other'), []);
      assert.equal(totals.other, 0);
    });
    await t.test('the cuts landed while the writers were at work', () => {
      assert.ok(totals.acked > CUTS, `${totals.acked} operations acknowledged before the cuts`);
      const interrupted = reports.filter((r) => Object.keys(r.errors).length > 0 || r.late > 0).length;
      assert.ok(interrupted > 0, 'in some cut a writer failed or completed an operation after the shutdown');
    });
    await t.test('check({ repair: true }) leaves no dead temp in .keys/ and no empty key id file', () => {
      const unclean = findings(reports, 'unclean');
      assert.equal(
        unclean.length,
        0,
        `${unclean.length} leftovers, such as:\n${unclean.slice(0, 3).join('\n')}`,
      );
    });
  });
}

test(`the same cuts on a spool written without fsync lose acknowledged operations: the campaign sees losses`, {
  timeout: 120_000,
}, async (t) => {
  const reason = cannotRun();
  if (!requireOrSkip(t, reason === null, reason ?? '')) return;
  for (const fsType of FS_TYPES) {
    const { totals } = await campaign(t, {
      fs: fsType,
      cuts: CONTROL_CUTS,
      durable: false,
      minAcks: 12,
      maxAcks: 24,
    });
    assert.ok(
      totals.lost + totals.partial > 0,
      `on ${fsType}, ${totals.acked} operations acknowledged without fsync all survived ${CONTROL_CUTS} cuts`,
    );
  }
});

test('the rig mounts a cut xfs filesystem again while another mount namespace still holds its first mount', async (t) => {
  const tools = ['losetup', 'mount', 'umount', 'mkfs.xfs', 'unshare'];
  if (!requireOrSkip(t, isRoot && tools.every(hasCommand), `needs root and ${tools.join(', ')}`)) return;
  // What two overlapping runs did: a process of one run made a mount namespace while the other run's
  // filesystem was mounted, so after that run's reboot its filesystem was still mounted there, and xfs refused
  // to mount it again ("Filesystem has duplicate UUID ... can't mount") unless told nouuid.
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-uuid-'));
  const disk = new LoopImage('xfs', base);
  let holder: ChildProcess | undefined;
  t.after(async () => {
    if (holder !== undefined && holder.exitCode === null && holder.signalCode === null) {
      const exited = once(holder, 'exit');
      holder.kill('SIGKILL');
      await exited;
    }
    await disk.release();
    fs.rmSync(base, { recursive: true, force: true });
  });
  disk.create();
  await disk.format();
  // Durable, so on the device: what the filesystem mounted again must show, as after a cut.
  const before = createUniqueSync(disk.mnt, 'written before the reboot').path;
  holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', '600'], { stdio: 'ignore' });
  // The namespace exists once unshare has exec'd sleep: its mounts are then a copy of ours.
  await waitForExec(holder.pid as number, 'sleep');
  await disk.reboot();
  assert.equal(fs.readFileSync(before, 'utf8'), 'written before the reboot');
  await disk.eject();
});

/** Resolves once process `pid` runs `name` (its /proc comm), polling /proc with setImmediate turns. */
async function waitForExec(pid: number, name: string): Promise<void> {
  for (;;) {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (comm === name) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
