/**
 * The power-cut campaign, shared by powercut.test.ts and the `npm run crash-campaign` script
 * (powercut-campaign.ts). Its parts: the disk (LoopImage) and the shutter (Shutter) from @quire/testkit, the payloads (powercut-payloads.ts), the check
 * against the writers' logs (powercut-ledger.ts), the counts and tables (powercut-report.ts); the cut itself here.
 *
 * One cut, on a real kernel filesystem (docs/durability.md, "How we cut the power";
 * the shutdown ioctl is ioctl_xfs_goingdown(2), as xfstests uses it):
 *  1. a 256 MiB image outside any mount, attached to a loop device and formatted afresh (ext4 or xfs), mounted;
 *  2. a durable spool in it, with a few records written up front for the writers to update;
 *  3. writer processes (fixtures/cut-writer.ts) append, append with an idempotency key (and retry it), and
 *     update those records, logging with write(2) to files outside the image, each line stamped with
 *     CLOCK_MONOTONIC: `about to ...` before each operation, and each acknowledgement once its promise resolved;
 *  4. upon a random number of acknowledgements (counted from the writers' notifications, no sleeping) the power
 *     goes: the moment is taken, then an xfs_io started beforehand (`xfs_io -x MNT`) is told `shutdown`, which
 *     stops the filesystem without flushing its log; then the writers are SIGKILLed, the filesystem unmounted
 *     and the loop device detached, as in a reboot;
 *  5. reattached and mounted again (the journal replays), the spool is checked against the logs. Only
 *     acknowledgements stamped before the moment of the cut count: unlike a power cut, a shutdown leaves the
 *     writers running, and the kernel may still report success to them (on xfs, fsync of a directory fd opened
 *     before the shutdown returns 0 although nothing reaches the log any more: measured, see Ledger.read).
 *     Later acknowledgements are operations in flight, which may or may not survive, but never partially.
 *     - lost: an acknowledged append or keyed append missing, or holding other content; an updated record
 *       holding a version older than its last acknowledged one;
 *     - partial: a record name whose content does not verify (every payload is sealed: sha256 then body);
 *     - other: anything else out of place (a record nobody wrote, a duplicate, an update version nobody began,
 *       a writer that failed before the cut, check() unclean after repair, a keyed retry that disagrees);
 *     then check({ repair: true }) runs and must leave check() clean; the directory itself is then searched for
 *     what repair should have removed but check() does not see (`unclean`: dead temps in .keys/, empty key id
 *     files); then every keyed append (acknowledged or in flight at the cut) is retried with its key and data,
 *     which must return the one record holding that data (for an acknowledged key, the acknowledged id,
 *     created: false) and add none beside it.
 *
 * What a shutdown simulates: everything the filesystem had not submitted to the device is gone, as after a
 * power cut with a device that honours flushes. It cannot show a device that lies about flushes.
 */
import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSpool } from '@quire/fs';
import { type CutRunOptions, cannotCutPower, type FsType, LoopImage, Shutter } from '@quire/testkit';
import { onLines, sha256, spawnFixture, waitExit } from './helpers.js';
import { Ledger, repairAndRetry, verify } from './powercut-ledger.js';
import { type CutWriterSpec, payload, pickSize, SUFFIX } from './powercut-payloads.js';
import { addCut, type CutReport, emptyTotals, type Totals } from './powercut-report.js';

export { FS_TYPES, type FsType } from '@quire/testkit';
export {
  addCut,
  type CutReport,
  emptyTotals,
  formatProgress,
  formatTable,
  type Totals,
} from './powercut-report.js';

/** Records created before the writers start, which they update. */
export const TARGETS = 4;
export const DEFAULT_WRITERS = 3;
/** Concurrent operations in each writer process. */
export const DEFAULT_LANES = 2;
/** The cut comes upon the k-th acknowledgement, k drawn from 0..maxAcks (0: as soon as all writers are up). */
export const DEFAULT_MAX_ACKS = 48;

/** Why a campaign cannot run here, or null when it can. */
export const cannotRun = cannotCutPower;

/**
 * Calls `fn` now, after a few turns of the event loop, or after a timer of a few milliseconds, at random. It
 * only spreads the cuts over the writers' steps; no outcome depends on when the cut lands.
 */
function jitter(fn: () => void): void {
  const how = randomInt(3);
  if (how === 0) {
    fn();
  } else if (how === 1) {
    let turns = randomInt(1, 20);
    const step = () => {
      if (--turns <= 0) fn();
      else setImmediate(step);
    };
    setImmediate(step);
  } else {
    setTimeout(fn, randomInt(0, 4));
  }
}

// ---- the campaign ----

/** CutRunOptions (@quire/testkit): minAcks and maxAcks default to 0 and 48 here. */
export interface CampaignOptions extends CutRunOptions {
  cuts: number;
  /** Called after each cut, e.g. to print progress. */
  onCut?: (r: CutReport) => void;
}

/**
 * One filesystem's campaign: an image, a loop device, a mount point. close() (idempotent) kills the writers,
 * unmounts and detaches whatever is still mounted or attached, on every path: call it from finally or t.after.
 */
export class PowerCutCampaign {
  readonly fs: FsType;
  readonly disk: LoopImage;
  readonly logs: string;
  private readonly opts: Required<Omit<CampaignOptions, 'onCut'>> & Pick<CampaignOptions, 'onCut'>;
  private readonly children = new Set<ChildProcess>();
  private closed = false;
  private closing: Promise<void> | undefined;
  /** The cut under way, which close() lets settle (it fails fast once closed) before it unmounts. */
  private current: Promise<CutReport> | undefined;

  constructor(opts: CampaignOptions) {
    this.opts = {
      writers: DEFAULT_WRITERS,
      lanes: DEFAULT_LANES,
      minAcks: 0,
      maxAcks: DEFAULT_MAX_ACKS,
      durable: true,
      ...opts,
    };
    if (this.opts.maxAcks < this.opts.minAcks) throw new Error('maxAcks must be >= minAcks');
    this.fs = opts.fs;
    const base = path.join(path.resolve(opts.workDir), opts.fs);
    this.disk = new LoopImage(opts.fs, base);
    this.logs = path.join(base, 'logs');
  }

  async run(): Promise<Totals> {
    const totals = emptyTotals(this.fs);
    this.disk.create();
    fs.mkdirSync(this.logs, { recursive: true });
    try {
      for (let i = 1; i <= this.opts.cuts; i++) {
        this.current = this.cut(i);
        const r = await this.current;
        addCut(totals, r);
        this.opts.onCut?.(r);
      }
    } finally {
      await this.close();
    }
    return totals;
  }

  /**
   * Kills the writers, lets the cut under way fail, unmounts, detaches every loop device of the image. Safe to
   * call any time, repeatedly: every call returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.shut();
    return this.closing;
  }

  private async shut(): Promise<void> {
    this.closed = true;
    this.disk.stop();
    await this.killWriters();
    await this.disk.settle();
    await this.current?.catch(() => {});
    await this.killWriters();
    await this.disk.release();
  }

  private async killWriters(): Promise<void> {
    const exits = [...this.children].map((c) => {
      const done = new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) resolve();
        else c.once('exit', () => resolve());
      });
      c.kill('SIGKILL');
      return done;
    });
    await Promise.all(exits);
    this.children.clear();
  }

  /** One cut, from a fresh filesystem to a checked and repaired spool, unmounted and detached again. */
  async cut(n: number): Promise<CutReport> {
    if (this.closed) throw new Error('campaign closed');
    const t0 = performance.now();
    const dir = path.join(this.disk.mnt, 'spool');
    for (const f of fs.readdirSync(this.logs)) fs.rmSync(path.join(this.logs, f));

    // A fresh filesystem, a spool in it, and the records the writers will update.
    await this.disk.format();
    const setup = await openSpool(dir, { suffix: SUFFIX });
    const targets = new Map<string, string>();
    for (let t = 0; t < TARGETS; t++) {
      const data = payload(`init target${t} v0`, pickSize());
      targets.set((await setup.append(data)).id, sha256(data));
    }

    // The writers, and the cut upon the k-th acknowledgement.
    const plannedAt = randomInt(this.opts.minAcks, this.opts.maxAcks + 1);
    const { ends, cutAt } = await this.runWriters(dir, [...targets.keys()], plannedAt);

    // Reboot: the filesystem is unmounted and the device detached after the cut; both come back.
    await this.disk.reboot();

    const ledger = new Ledger(targets);
    for (let w = 0; w < this.opts.writers; w++) {
      ledger.read(w, fs.readFileSync(this.logPath(w), 'utf8'), cutAt);
    }
    ledger.findings.push(...ends);

    const spool = await openSpool(dir, { suffix: SUFFIX, create: false });
    const counts = await verify(spool, ledger);
    const repaired = await repairAndRetry(spool, ledger);

    await this.disk.eject();

    const f = ledger.findings;
    if (f.some((l) => !l.startsWith('unclean:') && !l.startsWith('late:'))) {
      // Keep the writers' logs of a cut that went wrong, for whoever looks into it.
      fs.cpSync(this.logs, path.join(path.dirname(this.logs), `failed-cut-${n}`), { recursive: true });
    }
    return {
      fs: this.fs,
      cut: n,
      plannedAt,
      acked: ledger.acked,
      late: ledger.late,
      lost: counts.lost,
      partial: counts.partial,
      repaired,
      other: f.filter((l) => l.startsWith('other:')).length,
      unclean: f.filter((l) => l.startsWith('unclean:')).length,
      findings: f,
      errors: ledger.errors,
      ms: performance.now() - t0,
    };
  }

  private logPath(w: number): string {
    return path.join(this.logs, `writer-${w}.log`);
  }

  /**
   * Starts the writers; upon all of them being up and `plannedAt` acknowledgements, cuts the power, then
   * SIGKILLs them. Resolves, once all have exited, to findings about writers that ended before the cut, and
   * the moment of the cut (CLOCK_MONOTONIC ns, taken just before the shutdown was asked for).
   */
  private async runWriters(
    dir: string,
    targets: string[],
    plannedAt: number,
  ): Promise<{ ends: string[]; cutAt: bigint }> {
    let ready = 0;
    let acks = 0;
    let fired = false;
    let cutting: Promise<void> | undefined;
    let cutAt: bigint | undefined;
    const children: ChildProcess[] = [];

    const cut = this.armShutter(children, (at) => {
      cutAt = at;
    });
    let cutFailed: unknown;
    const fire = () => {
      if (fired) return;
      fired = true;
      cutting = new Promise<void>((resolve) =>
        jitter(() => {
          cut().then(resolve, (err: unknown) => {
            cutFailed = err;
            resolve();
          });
        }),
      );
    };
    const consider = () => {
      if (ready === this.opts.writers && acks >= plannedAt) fire();
    };

    const waits: Promise<string | undefined>[] = [];
    for (let w = 0; w < this.opts.writers; w++) {
      const spec: CutWriterSpec = {
        dir,
        suffix: SUFFIX,
        writer: w,
        lanes: this.opts.lanes,
        durable: this.opts.durable,
        log: this.logPath(w),
        targets,
      };
      if (this.closed) throw new Error('power-cut campaign closed; not starting writers');
      const child = spawnFixture('cut-writer', [JSON.stringify(spec)]);
      children.push(child);
      this.children.add(child);
      onLines(child.stdout!, (line) => {
        if (line === 'ready') ready++;
        else if (line === 'ack') acks++;
        consider();
      });
      waits.push(
        waitExit(child).then((exit) => {
          this.children.delete(child);
          if (fired) return undefined;
          // A writer that ends before the cut has failed on its own: note it, and cut now.
          fire();
          return `other: writer ${w} ended before the cut (${exit.code ?? exit.signal}): ${exit.stderr.trim().slice(0, 500)}`;
        }),
      );
    }
    const ends = await Promise.all(waits);
    await cutting;
    if (cutFailed !== undefined) throw cutFailed;
    if (cutAt === undefined) throw new Error('internal: the writers ended without a cut');
    return { ends: ends.filter((e) => e !== undefined), cutAt };
  }

  /**
   * Starts xfs_io now (Shutter), so that the cut follows its moment within a pipe write. The function returned
   * takes that moment (passed to `onMoment`), shuts the filesystem down, and SIGKILLs `children` however the
   * shutdown went.
   */
  private armShutter(children: ChildProcess[], onMoment: (at: bigint) => void): () => Promise<void> {
    if (this.closed) throw new Error('power-cut campaign closed; not starting xfs_io');
    const shutter = new Shutter(this.disk.mnt);
    this.children.add(shutter.process);
    shutter.done().finally(() => this.children.delete(shutter.process));
    return async () => {
      try {
        await shutter.cut(onMoment);
      } finally {
        // The writers' operations fail with EIO from now on; kill them wherever they are.
        for (const c of children) c.kill('SIGKILL');
      }
    };
  }
}
