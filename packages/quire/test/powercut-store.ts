/**
 * Power cuts under the comment store (issue 16: "a crash between a comment and its index update loses nothing").
 * One cut, on a real kernel filesystem (ext4 or xfs, @quire/testkit's LoopImage and Shutter, as @quire/fs's
 * campaign does it; docs/durability.md "How we cut the power"):
 *  1. a fresh image, mounted; the data directory created durably;
 *  2. writer processes (fixtures/powercut-writer.ts) post, reply, judge, delete and like through the store, which
 *     keeps its derived data as it goes (each thread's index and marks, the status index and its writers' marks,
 *     the recent-comments index), logging each step outside the image (StampedLog) before it starts and once
 *     acknowledged;
 *  3. upon a random acknowledgement the power is cut (`xfs_io -x -c shutdown`), the writers SIGKILLed, the disk
 *     unmounted, detached, attached and mounted again (the journal replays);
 *  4. the comment files against the ledger (lost, partial: powercut-check.ts); then a store opened as a
 *     restarted service opens it must show every comment as its file says (thread views, likes, counts, the
 *     pending, spam and deleted lists) by itself; then `quire fsck DATA --repair` (which docs/comment-service.md
 *     tells to run after a crash) must end clean, and after it the site-wide list of approved comments (the
 *     recent-comments index, which a writer fills after answering) must hold them all too.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type CutRunOptions, LoopImage, Shutter, waitExit } from '@quire/testkit';
import { CommentStore } from '../src/index.js';
import { bin } from './fixtures/cli-helpers.js';
import type { PowerCutWriterSpec } from './fixtures/powercut-writer.js';
import { spawnFixture } from './fixtures/srv-helpers.js';
import { checkFiles, checkShown, readTruth, StoreLedger } from './powercut-check.js';

export interface StoreCutOptions extends CutRunOptions {
  broken?: PowerCutWriterSpec['broken'];
  /** SIGKILL only: the writers are killed upon the acknowledgement and the power stays on (no shutdown, reboot). */
  kill?: boolean;
}

/** One cut's outcome. */
export interface StoreCut {
  cut: number;
  acked: number;
  late: number;
  /** Steps under way at the cut (begun, not acknowledged before it). */
  inFlight: number;
  comments: number;
  /** Lines of `quire fsck --repair` that repaired something. */
  repaired: string[];
  findings: string[];
  ms: number;
}

/** One filesystem's cuts; close() (idempotent) kills the writers and unmounts, on every path. */
export class StoreCuts {
  readonly disk: LoopImage;
  private readonly logs: string;
  private readonly opts: Required<Omit<StoreCutOptions, 'broken'>> & Pick<StoreCutOptions, 'broken'>;
  private readonly children = new Set<ChildProcess>();
  private closing: Promise<void> | undefined;

  constructor(opts: StoreCutOptions) {
    this.opts = { writers: 2, lanes: 2, minAcks: 0, maxAcks: 40, durable: true, kill: false, ...opts };
    this.disk = new LoopImage(opts.fs, opts.workDir);
    this.logs = path.join(opts.workDir, 'logs');
    this.disk.create();
    fs.mkdirSync(this.logs, { recursive: true });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.disk.stop();
      await this.kill();
      await this.disk.settle();
      await this.disk.release();
    })();
    return this.closing;
  }

  private async kill(): Promise<void> {
    await Promise.all(
      [...this.children].map((c) => {
        const exited = waitExit(c).catch(() => {});
        c.kill('SIGKILL');
        return exited;
      }),
    );
    this.children.clear();
  }

  /** One cut, from a fresh filesystem to the checks, unmounted and detached again. */
  async cut(n: number): Promise<StoreCut> {
    const t0 = performance.now();
    for (const f of fs.readdirSync(this.logs)) fs.rmSync(path.join(this.logs, f));
    await this.disk.format();
    const dataDir = path.join(this.disk.mnt, 'data');
    await CommentStore.open(dataDir);
    const cutAt = await this.runWriters(dataDir, randomInt(this.opts.minAcks, this.opts.maxAcks + 1));
    if (!this.opts.kill) await this.disk.reboot();

    const ledger = new StoreLedger();
    for (let w = 0; w < this.opts.writers; w++) {
      ledger.read(w, fs.readFileSync(this.logPath(w), 'utf8'), cutAt);
    }
    const truth = readTruth(dataDir);
    const findings = [...ledger.findings, ...checkFiles(ledger, truth)];
    // As the service finds the directory after a restart: its own stale detection, no repair. The feed's index
    // catches up after the dead writers in the background (store/recent.ts): settled() waits for it.
    const restarted = await CommentStore.open(dataDir);
    await restarted.recent.newestApproved(1);
    await restarted.settled();
    findings.push(...(await checkShown(restarted, truth, true)));
    const fsck = await waitExit(spawn(process.execPath, [bin, 'fsck', dataDir, '--repair']));
    // A thread directory made by a first post the cut interrupted is reported for the admin to remove.
    const left = fsck.stdout.split('\n').filter((l) => l.startsWith('found\t'));
    const inFlight = (l: string) => l.startsWith('found\tempty-thread\t') && ledger.inFlightPosts > 0;
    if (fsck.code !== 0 && !left.every(inFlight))
      findings.push(`other: quire fsck --repair exited ${fsck.code}: ${fsck.stdout}${fsck.stderr}`);
    const after = readTruth(dataDir);
    const reopened = await CommentStore.open(dataDir);
    findings.push(...(await checkShown(reopened, after, true)).map((l) => `${l} (after fsck --repair)`));
    // Its feed index's look for dead writers runs in the background: done before the unmount (else: busy).
    await reopened.settled();
    await this.disk.eject();
    return {
      cut: n,
      acked: ledger.acked,
      late: ledger.late,
      inFlight: ledger.inFlight,
      comments: truth.status.size,
      repaired: fsck.stdout.split('\n').filter((l) => l.startsWith('repaired')),
      findings,
      ms: performance.now() - t0,
    };
  }

  private logPath(w: number): string {
    return path.join(this.logs, `writer-${w}.log`);
  }

  /**
   * Starts the writers; once all are up and `plannedAt` acknowledgements came, cuts the power and SIGKILLs
   * them. Resolves to the moment of the cut once all have exited. A writer that ends before the cut fails it.
   */
  private async runWriters(dataDir: string, plannedAt: number): Promise<bigint> {
    const shutter = this.opts.kill ? null : new Shutter(this.disk.mnt);
    if (shutter) this.children.add(shutter.process);
    const writers: ChildProcess[] = [];
    let ready = 0;
    let acks = 0;
    let cutting: Promise<void> | undefined;
    let cutAt: bigint | undefined;
    const moment = (at: bigint) => {
      cutAt = at;
    };
    const fire = () => {
      cutting ??= (shutter?.cut(moment) ?? Promise.resolve(moment(process.hrtime.bigint()))).finally(() => {
        for (const c of writers) c.kill('SIGKILL');
      });
    };
    const ended: string[] = [];
    const exits = Array.from({ length: this.opts.writers }, (_, w) => {
      const spec: PowerCutWriterSpec = {
        dataDir,
        log: this.logPath(w),
        writer: w,
        lanes: this.opts.lanes,
        durable: this.opts.durable,
        ...(this.opts.broken ? { broken: this.opts.broken } : {}),
      };
      const child = spawnFixture('powercut-writer', [JSON.stringify(spec)]);
      writers.push(child);
      this.children.add(child);
      let buf = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          if (buf.slice(0, nl) === 'ready') ready++;
          else acks++;
          buf = buf.slice(nl + 1);
        }
        if (ready === this.opts.writers && acks >= plannedAt) fire();
      });
      return waitExit(child).then((x) => {
        this.children.delete(child);
        if (cutting === undefined)
          ended.push(`writer ${w} ended before the cut (${x.code ?? x.signal}): ${x.stderr}`);
        fire();
      });
    });
    await Promise.all(exits);
    await cutting;
    if (shutter) this.children.delete(shutter.process);
    if (ended.length > 0) throw new Error(ended.join('\n'));
    if (cutAt === undefined) throw new Error('internal: the writers ended without a cut');
    return cutAt;
  }
}
