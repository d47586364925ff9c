/**
 * The parts of a power-cut campaign that do not depend on what is written: the shutter that cuts the power of a
 * mounted filesystem, and the ledger format in which writer processes record what they began and what was
 * acknowledged. Used by @quire/fs's campaign (packages/fs/test/powercut.ts) and quire's store-level one
 * (packages/quire/test/powercut-*.test.ts); each checks its own records against the ledger.
 *
 * The ledger: one file per writer, outside the image, one line per event written with a single write(2) and
 * stamped with CLOCK_MONOTONIC in ns (process.hrtime, the same clock in every process): `STAMP FIELD...`. After
 * an acknowledgement the writer also prints `ack` on stdout, which is how the parent picks its moment to cut.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { waitExit } from './child.js';
import { hasCommand, isRoot } from './env.js';
import type { FsType } from './loop-image.js';

const TOOLS = ['losetup', 'mount', 'umount', 'mkfs.ext4', 'mkfs.xfs', 'xfs_io'];

/** What a power-cut run takes in both campaigns (@quire/fs's spools, quire's store). */
export interface CutRunOptions {
  fs: FsType;
  /** Where the image, mount point and logs go: a fresh directory of the caller's, not inside a mount of the run. */
  workDir: string;
  writers?: number;
  lanes?: number;
  /** The cut comes upon the k-th acknowledgement, k drawn from minAcks..maxAcks. */
  minAcks?: number;
  maxAcks?: number;
  /** Default true. false: the writers do not fsync (a control, which must show losses: the run can see them). */
  durable?: boolean;
}

/** Why a power-cut campaign cannot run here (root, system tools), or null when it can. */
export function cannotCutPower(): string | null {
  if (!isRoot) return 'power-cut campaign needs root (losetup, mount and the shutdown ioctl)';
  const missing = TOOLS.filter((c) => !hasCommand(c));
  if (missing.length > 0) {
    return `power-cut campaign needs ${missing.join(', ')} (apt-get install -y xfsprogs e2fsprogs mount)`;
  }
  return null;
}

/** A writer's side of the ledger: stamped lines appended to its log file. */
export class StampedLog {
  private readonly fd: number;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'a');
  }

  /** One line, stamped, with one write(2): on disk outside the image before anything else happens. */
  note(line: string): void {
    fs.writeSync(this.fd, `${process.hrtime.bigint()} ${line}\n`);
  }

  /** An acknowledgement: noted, then `ack` on stdout (with write(2), so fd 1 stays blocking) for the parent. */
  ack(line: string): void {
    this.note(line);
    fs.writeSync(1, 'ack\n');
  }
}

/** One ledger line: its fields, and whether it was stamped before the cut. */
export interface StampedLine {
  before: boolean;
  fields: string[];
  line: string;
}

/**
 * The lines of a writer's log. A last line without its newline was cut short by the SIGKILL and is dropped (its
 * write(2) never completed). `before` tells a line stamped before `cutAt`: only acknowledgements stamped before
 * the cut count, because a process outlives a shutdown (unlike a power cut) and the kernel can still report
 * success to it for a while (on xfs, fsync of a directory fd opened before the shutdown returns 0 although
 * nothing more reaches the log); later ones are operations in flight at the cut.
 */
export function readStamped(text: string, cutAt: bigint): StampedLine[] {
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => {
      const [stamp = '', ...fields] = line.split(' ');
      return { before: /^\d+$/.test(stamp) && BigInt(stamp) < cutAt, fields, line };
    });
}

/**
 * The power switch of a mounted filesystem: `xfs_io -x MNT` started beforehand and waiting for its command on
 * stdin, so that the shutdown follows the moment taken as the cut within a pipe write, not a process start.
 * `xfs_io -x -c shutdown` (ioctl_xfs_goingdown(2), without a log flush, as xfstests uses it; ext4 takes the same
 * ioctl) stops the filesystem: everything it had not submitted to the device is gone, as after a power cut with
 * a device that honours flushes.
 */
export class Shutter {
  readonly process: ChildProcess;
  private readonly exited: ReturnType<typeof waitExit>;

  constructor(readonly mnt: string) {
    this.process = spawn('xfs_io', ['-x', mnt], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stdin?.on('error', () => {}); // EPIPE if it died early; its exit status tells
    this.exited = waitExit(this.process);
  }

  /** Resolves once xfs_io has exited, however (also after cut()). */
  async done(): Promise<void> {
    await this.exited.catch(() => {});
  }

  /**
   * Cuts the power: calls `onMoment` with the moment (CLOCK_MONOTONIC ns, taken just before the shutdown is
   * asked for), then shuts the filesystem down. Rejects if xfs_io failed.
   */
  async cut(onMoment: (at: bigint) => void): Promise<void> {
    onMoment(process.hrtime.bigint());
    this.process.stdin?.write('shutdown\n');
    this.process.stdin?.end('quit\n');
    const x = await this.exited;
    if (x.code !== 0 || x.stdout.trim() !== '' || x.stderr.trim() !== '') {
      throw new Error(
        `xfs_io -x -c shutdown ${this.mnt} failed (${x.code ?? x.signal}): ${x.stdout}${x.stderr}`,
      );
    }
  }
}
