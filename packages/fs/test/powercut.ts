/**
 * The power-cut campaign (issue 4), shared by powercut.test.ts and the `npm run crash-campaign` script
 * (powercut-campaign.ts).
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
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createCipheriv, createHash, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isTempName, openSpool, type Spool } from '@quire/fs';
import { hasCommand, isRoot, onLines, sealed, sha256, spawnFixture, unseal, waitExit } from './helpers.js';

export type FsType = 'ext4' | 'xfs';
export const FS_TYPES: readonly FsType[] = ['ext4', 'xfs'];

export const IMAGE_BYTES = 256 * 1024 * 1024;
/** Record names of the campaign's spool end in this suffix. */
export const SUFFIX = '.rec';
/** Payload sizes, sealed content included, are log-uniform over this range (so most are small, some large). */
export const MIN_SIZE = 100;
export const MAX_SIZE = 64 * 1024;
/** Records created before the writers start, which they update. */
export const TARGETS = 4;

export const DEFAULT_WRITERS = 3;
/** Concurrent operations in each writer process. */
export const DEFAULT_LANES = 2;
/** The cut comes upon the k-th acknowledgement, k drawn from 0..maxAcks (0: as soon as all writers are up). */
export const DEFAULT_MAX_ACKS = 48;

// ---- payloads: deterministic from a header, so the checker can rebuild what a keyed append was writing ----

/** A payload of about `size` bytes (never less than the header needs): sealed(header line + keystream). */
export function payload(header: string, size: number): Buffer {
  const head = Buffer.from(`${header}\n`);
  const fill = Math.max(0, size - 64 - head.length);
  const key = createHash('sha256').update(head).digest();
  const c = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return sealed(Buffer.concat([head, c.update(Buffer.alloc(fill)), c.final()]));
}

export function pickSize(): number {
  return Math.floor(MIN_SIZE * (MAX_SIZE / MIN_SIZE) ** Math.random());
}

export function keyedHeader(writer: number, seq: number): string {
  return `w${writer} s${seq} keyed`;
}

export function keyOf(writer: number, seq: number): string {
  return `powercut-w${writer}-s${seq}`;
}

export function updateHeader(writer: number, seq: number, target: string, version: number): string {
  return `w${writer} s${seq} update ${target} v${version}`;
}

/** The version in the header line of an update target's (unsealed) body; null if it has none. */
export function versionOf(body: Buffer): number | null {
  const nl = body.indexOf(10);
  const m = / v(\d+)$/.exec(body.toString('latin1', 0, nl < 0 ? body.length : nl));
  return m ? Number(m[1]) : null;
}

/** What fixtures/cut-writer.js gets as JSON in argv[2]. */
export interface CutWriterSpec {
  dir: string;
  suffix: string;
  writer: number;
  lanes: number;
  durable: boolean;
  /** Log file outside the image, opened for append. */
  log: string;
  targets: string[];
}

// ---- preconditions ----

const TOOLS = ['losetup', 'mount', 'umount', 'mkfs.ext4', 'mkfs.xfs', 'xfs_io'];

/** Why a campaign cannot run here, or null when it can. */
export function cannotRun(): string | null {
  if (!isRoot) return 'power-cut campaign needs root (losetup, mount and the shutdown ioctl)';
  const missing = TOOLS.filter((c) => !hasCommand(c));
  if (missing.length > 0) {
    return `power-cut campaign needs ${missing.join(', ')} (apt-get install -y xfsprogs e2fsprogs mount)`;
  }
  return null;
}

// ---- results ----

export interface CutReport {
  fs: FsType;
  cut: number;
  /** Acknowledgements the cut was planned upon. */
  plannedAt: number;
  /** Acknowledged operations (appends, keyed appends and their retries, updates) of this cut, before the cut. */
  acked: number;
  /** Acknowledgements stamped after the cut began: treated as operations in flight, not counted in `acked`. */
  late: number;
  lost: number;
  partial: number;
  /** Issues check({ repair: true }) fixed. */
  repaired: number;
  other: number;
  /**
   * What check({ repair: true }) left behind although check() then says clean: dead writers' temps anywhere in
   * the spool (.keys/ included), empty key id files.
   */
  unclean: number;
  /** One line per lost, partial, other or unclean finding, each starting with its category. */
  findings: string[];
  /** How the writers' operations failed after the cut, by error code. */
  errors: Record<string, number>;
  ms: number;
}

/** A filesystem's sums over its cuts: the counters of CutReport, added up. */
export type Totals = Pick<
  CutReport,
  'fs' | 'acked' | 'late' | 'lost' | 'partial' | 'repaired' | 'other' | 'unclean' | 'ms'
> & {
  cuts: number;
};

export function emptyTotals(fsType: FsType): Totals {
  return {
    fs: fsType,
    cuts: 0,
    acked: 0,
    late: 0,
    lost: 0,
    partial: 0,
    repaired: 0,
    other: 0,
    unclean: 0,
    ms: 0,
  };
}

export function addCut(t: Totals, r: CutReport): void {
  t.cuts++;
  t.acked += r.acked;
  t.late += r.late;
  t.lost += r.lost;
  t.partial += r.partial;
  t.repaired += r.repaired;
  t.other += r.other;
  t.unclean += r.unclean;
  t.ms += r.ms;
}

export function formatProgress(r: CutReport, of: number): string {
  const errors = Object.entries(r.errors)
    .map(([code, n]) => `${code} x${n}`)
    .join(', ');
  return (
    `[${r.fs}] cut ${r.cut}/${of}: cut upon ack ${r.plannedAt}, ${r.acked} acknowledged (+${r.late} after the cut), ${r.lost} lost, ` +
    `${r.partial} partial, ${r.repaired} repaired, ${r.other} other, ${r.unclean} unclean; ` +
    `writers failed after the cut with ${errors || 'nothing'} (${(r.ms / 1000).toFixed(2)} s)`
  );
}

/** A Markdown table, one row per filesystem. */
export function formatTable(rows: Totals[]): string {
  const head = [
    'fs',
    'cuts',
    'acknowledged ops',
    'acked after cut',
    'lost',
    'partial',
    'repaired',
    'other',
    'unclean',
    'time',
  ];
  const body = rows.map((t) => [
    t.fs,
    String(t.cuts),
    String(t.acked),
    String(t.late),
    String(t.lost),
    String(t.partial),
    String(t.repaired),
    String(t.other),
    String(t.unclean),
    `${(t.ms / 1000).toFixed(1)} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

// ---- system commands ----

function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

function isMounted(mnt: string): boolean {
  const target = mnt.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === target);
}

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

// ---- the writers' logs ----

interface Ack {
  id: string;
  sha: string;
  what: string;
}

interface KeyedOp {
  writer: number;
  seq: number;
  size: number;
  sha: string;
  acked?: string;
}

class Ledger {
  acked = 0;
  /** Acknowledgements stamped after the cut began, not counted (see read()). */
  late = 0;
  /** Acknowledged appends and keyed appends. */
  readonly acks: Ack[] = [];
  /** sha256 of every payload a writer was about to append (plain or keyed). */
  readonly begun = new Set<string>();
  readonly keyed = new Map<string, KeyedOp>();
  /** Per update target: the last acknowledged version, and every version begun after it (version -> shas). */
  readonly lastAcked = new Map<string, { v: number; sha: string }>();
  readonly updBegun = new Map<string, Map<number, Set<string>>>();
  readonly errors: Record<string, number> = {};
  readonly findings: string[] = [];

  constructor(targets: Map<string, string>) {
    for (const [id, sha] of targets) {
      this.lastAcked.set(id, { v: 0, sha });
      this.updBegun.set(id, new Map());
    }
  }

  /**
   * Reads one writer's log. Only acknowledgements stamped before `cutAt` (the moment just before the shutdown
   * was asked for) count: a process outlives a shutdown, unlike a power cut, and the kernel can still report
   * success for a while (on xfs, fsync of a directory fd opened before the shutdown returns 0 although nothing
   * more reaches the log). Later acknowledgements are treated as operations in flight at the cut.
   */
  read(writer: number, text: string, cutAt: bigint): void {
    // A line without its newline was cut short by the SIGKILL: ignore it, as its write(2) never completed.
    const lines = text.split('\n').slice(0, -1);
    for (const line of lines) {
      const [stamp = '', ...f] = line.split(' ');
      const [op, a = '', b = '', c = ''] = f;
      const before = /^\d+$/.test(stamp) && BigInt(stamp) < cutAt;
      if (!before && (op === 'A' || op === 'K' || op === 'R' || op === 'U')) {
        this.late++;
        continue;
      }
      switch (op) {
        case 'a':
          this.begun.add(b);
          break;
        case 'A':
          this.acked++;
          this.acks.push({ id: a, sha: b, what: `append by writer ${writer}` });
          break;
        case 'k':
          this.begun.add(c);
          this.keyed.set(`${writer}:${a}`, { writer, seq: Number(a), size: Number(b), sha: c });
          break;
        case 'K': {
          this.acked++;
          this.acks.push({ id: b, sha: c, what: `keyed append ${keyOf(writer, Number(a))}` });
          const k = this.keyed.get(`${writer}:${a}`);
          if (k) k.acked = b;
          else this.findings.push(`other: writer ${writer} acknowledged keyed seq ${a} it never began`);
          break;
        }
        case 'R':
          this.acked++;
          break;
        case 'u': {
          const versions = this.updBegun.get(a);
          if (!versions) {
            this.findings.push(`other: writer ${writer} updated ${a}, not a target`);
            break;
          }
          const v = Number(b);
          const shas = versions.get(v) ?? new Set();
          if (shas.size > 0 && before) {
            this.findings.push(
              `other: two updates of ${a} both began version ${v}: the record lock let both in`,
            );
          }
          versions.set(v, shas.add(c));
          break;
        }
        case 'U': {
          this.acked++;
          const v = Number(b);
          const last = this.lastAcked.get(a);
          if (last && v > last.v) this.lastAcked.set(a, { v, sha: c });
          break;
        }
        case 'E':
          this.errors[b] = (this.errors[b] ?? 0) + 1;
          if (before)
            this.findings.push(`other: writer ${writer} failed before the cut: ${f.slice(1).join(' ')}`);
          break;
        case 'X':
          // A live reader cannot exist after a real power cut: what a writer saw after the shutdown is noted only.
          this.findings.push(
            `${before ? 'other' : 'late'}: writer ${writer} saw${before ? '' : ' after the cut'}: ${f.slice(1).join(' ')}`,
          );
          break;
        default:
          this.findings.push(`other: writer ${writer} logged ${JSON.stringify(line)}`);
      }
    }
  }
}

// ---- the campaign ----

export interface CampaignOptions {
  fs: FsType;
  cuts: number;
  /** Where the image, mount point and logs go; must not be inside a mount of this campaign. */
  workDir: string;
  writers?: number;
  lanes?: number;
  /** The cut comes upon the k-th acknowledgement, k drawn from minAcks..maxAcks (defaults 0 and 48). */
  minAcks?: number;
  maxAcks?: number;
  /**
   * Default true. false makes the writers' spool non-durable (no fsync at all): a control, under which the
   * campaign must report losses, showing that it can.
   */
  durable?: boolean;
  /** Called after each cut, e.g. to print progress. */
  onCut?: (r: CutReport) => void;
}

/**
 * One filesystem's campaign: an image, a loop device, a mount point. close() (idempotent) kills the writers,
 * unmounts and detaches whatever is still mounted or attached, on every path: call it from finally or t.after.
 */
export class PowerCutCampaign {
  readonly fs: FsType;
  readonly image: string;
  readonly mnt: string;
  readonly logs: string;
  private readonly opts: Required<Omit<CampaignOptions, 'onCut'>> & Pick<CampaignOptions, 'onCut'>;
  private dev: string | undefined;
  private readonly children = new Set<ChildProcess>();
  /** System commands under way: close() lets them finish before it unmounts and detaches. */
  private readonly pending = new Set<Promise<unknown>>();
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
    this.image = path.join(base, 'fs.img');
    this.mnt = path.join(base, 'mnt');
    this.logs = path.join(base, 'logs');
  }

  async run(): Promise<Totals> {
    const totals = emptyTotals(this.fs);
    fs.mkdirSync(this.mnt, { recursive: true });
    fs.mkdirSync(this.logs, { recursive: true });
    fs.writeFileSync(this.image, '');
    fs.truncateSync(this.image, IMAGE_BYTES);
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
    const errors: string[] = [];
    await this.killWriters();
    await Promise.allSettled(this.pending);
    await this.current?.catch(() => {});
    await this.killWriters();
    if (isMounted(this.mnt)) {
      await sh('umount', [this.mnt]).catch(async (err: Error) => {
        errors.push(err.message);
        await sh('umount', ['-l', this.mnt]).catch((e: Error) => errors.push(e.message));
      });
    }
    const devs = new Set<string>(this.dev ? [this.dev] : []);
    this.dev = undefined;
    if (fs.existsSync(this.image)) {
      const out = await sh('losetup', ['-j', this.image]).catch(() => '');
      for (const l of out.split('\n')) {
        const d = /^(\/dev\/loop\d+):/.exec(l)?.[1];
        if (d) devs.add(d);
      }
    }
    for (const d of devs) {
      await sh('losetup', ['-d', d]).catch((e: Error) => {
        if (!/No such device/.test(e.message)) errors.push(e.message);
      });
    }
    if (errors.length > 0) throw new Error(`power-cut cleanup: ${errors.join('; ')}`);
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

  /** Runs a system command, unless closed: after close() nothing is attached, mounted or cut any more. */
  private async sys(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
    if (this.closed) throw new Error(`power-cut campaign closed; not running ${cmd}`);
    const p = sh(cmd, args, env);
    this.pending.add(p);
    try {
      return await p;
    } finally {
      this.pending.delete(p);
    }
  }

  private async attach(): Promise<string> {
    this.dev = (await this.sys('losetup', ['--find', '--show', this.image])).trim();
    return this.dev;
  }

  private async detach(): Promise<void> {
    const d = this.dev;
    if (d === undefined) return;
    await this.sys('losetup', ['-d', d]);
    this.dev = undefined;
  }

  private async mkfs(dev: string): Promise<void> {
    if (this.fs === 'ext4') {
      await this.sys('mkfs.ext4', ['-q', '-F', dev]);
    } else {
      // xfsprogs 5.19+ refuses filesystems under 300 MB unless fstests is running it, which it recognises by
      // these three variables: the campaign's 256 MiB image is such a test filesystem.
      await this.sys('mkfs.xfs', ['-q', '-f', dev], { TEST_DIR: '1', TEST_DEV: '1', QA_CHECK_FS: '1' });
    }
  }

  private async mount(dev: string): Promise<void> {
    await this.sys('mount', ['-t', this.fs, dev, this.mnt]);
  }

  private async unmount(): Promise<void> {
    await this.sys('umount', [this.mnt]);
  }

  /** One cut, from a fresh filesystem to a checked and repaired spool, unmounted and detached again. */
  async cut(n: number): Promise<CutReport> {
    if (this.closed) throw new Error('campaign closed');
    const t0 = performance.now();
    const dir = path.join(this.mnt, 'spool');
    for (const f of fs.readdirSync(this.logs)) fs.rmSync(path.join(this.logs, f));

    // A fresh filesystem, a spool in it, and the records the writers will update.
    await this.mkfs(await this.attach());
    await this.mount(this.dev as string);
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
    await this.unmount();
    await this.detach();
    await this.mount(await this.attach());

    const ledger = new Ledger(targets);
    for (let w = 0; w < this.opts.writers; w++) {
      ledger.read(w, fs.readFileSync(this.logPath(w), 'utf8'), cutAt);
    }
    ledger.findings.push(...ends);

    const spool = await openSpool(dir, { suffix: SUFFIX, create: false });
    const counts = await verify(spool, ledger);
    const repaired = await repairAndRetry(spool, ledger);

    await this.unmount();
    await this.detach();

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

    // xfs_io is started now and waits for its command on stdin, so that the shutdown follows the moment taken
    // as the cut within a pipe write, not a process start.
    if (this.closed) throw new Error('power-cut campaign closed; not starting xfs_io');
    const shutter = spawn('xfs_io', ['-x', this.mnt], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(shutter);
    shutter.stdin!.on('error', () => {}); // EPIPE if it died early; its exit status tells
    const shutterExit = waitExit(shutter).finally(() => this.children.delete(shutter));
    const cut = async () => {
      try {
        cutAt = process.hrtime.bigint();
        shutter.stdin!.write('shutdown\n');
        shutter.stdin!.end('quit\n');
        const x = await shutterExit;
        if (x.code !== 0 || x.stdout.trim() !== '' || x.stderr.trim() !== '') {
          throw new Error(
            `xfs_io -x -c shutdown ${this.mnt} failed (${x.code ?? x.signal}): ${x.stdout}${x.stderr}`,
          );
        }
      } finally {
        // The writers' operations fail with EIO from now on; kill them wherever they are.
        for (const c of children) c.kill('SIGKILL');
      }
    };
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
}

/** Checks the replayed spool against the ledger, before any repair. */
async function verify(spool: Spool, ledger: Ledger): Promise<{ lost: number; partial: number }> {
  let lost = 0;
  let partial = 0;
  const f = ledger.findings;
  const content = new Map<string, { sha: string; whole: boolean; bytes: number }>();
  const holders = new Map<string, string[]>();
  for (const id of await spool.ids()) {
    const buf = await spool.get(id);
    if (buf === null) {
      f.push(`other: ${id} is listed but cannot be read`);
      continue;
    }
    const whole = unseal(buf) !== null;
    const sha = sha256(buf);
    content.set(id, { sha, whole, bytes: buf.length });
    holders.set(sha, [...(holders.get(sha) ?? []), id]);
    if (!whole) {
      partial++;
      f.push(`partial: ${id} holds ${buf.length} bytes that do not verify`);
    }
  }

  for (const a of ledger.acks) {
    const c = content.get(a.id);
    if (c === undefined) {
      lost++;
      f.push(`lost: ${a.id} (${a.what}, acknowledged) is missing`);
    } else if (c.sha !== a.sha && c.whole) {
      lost++;
      f.push(`lost: ${a.id} (${a.what}, acknowledged) holds other content`);
    }
  }

  for (const [id, last] of ledger.lastAcked) {
    const c = content.get(id);
    if (c === undefined) {
      lost++;
      f.push(`lost: update target ${id} (last acknowledged v${last.v}) is missing`);
      continue;
    }
    if (!c.whole) continue; // counted as partial above
    const body = unseal((await spool.get(id)) as Buffer) as Buffer;
    const v = versionOf(body);
    if (v === null) {
      f.push(`other: update target ${id} holds a record without a version`);
    } else if (v < last.v) {
      lost++;
      f.push(`lost: update target ${id} holds v${v}, but v${last.v} was acknowledged`);
    } else if (v === last.v ? c.sha !== last.sha : !ledger.updBegun.get(id)?.get(v)?.has(c.sha)) {
      f.push(`other: update target ${id} holds a v${v} that no writer was writing`);
    }
  }

  for (const [sha, ids] of holders) {
    if (ids.length > 1) f.push(`other: ${ids.join(', ')} hold the same content: a duplicate`);
    for (const id of ids) {
      if (!ledger.lastAcked.has(id) && !ledger.begun.has(sha) && content.get(id)?.whole) {
        f.push(`other: ${id} holds a record that no writer was appending`);
      }
    }
  }
  return { lost, partial };
}

/**
 * check({ repair: true }), which must leave check() clean; then every keyed append is retried and must return
 * the one record that holds its data. Returns how many issues the repair fixed.
 */
async function repairAndRetry(spool: Spool, ledger: Ledger): Promise<number> {
  const f = ledger.findings;
  const report = await spool.check({ repair: true });
  for (const i of report.issues) {
    if (!i.repaired && i.problem !== 'live-temp') {
      f.push(`other: check({ repair: true }) left ${i.problem} ${i.name}: ${i.detail}`);
    }
  }
  const after = await spool.check();
  if (!after.clean || after.issues.length > 0) {
    f.push(`other: check() after repair: ${JSON.stringify(after.issues)}`);
  }
  f.push(...leftovers(spool.dir));

  const before = new Set(await spool.ids());
  for (const k of ledger.keyed.values()) {
    const data = payload(keyedHeader(k.writer, k.seq), k.size);
    if (sha256(data) !== k.sha) {
      f.push(`other: keyed ${keyOf(k.writer, k.seq)}: the payload does not rebuild`);
      continue;
    }
    const r = await spool.append(data, { key: keyOf(k.writer, k.seq) });
    const what = `retry of keyed ${keyOf(k.writer, k.seq)} after the cut`;
    if (k.acked !== undefined && (r.id !== k.acked || r.created)) {
      f.push(`other: ${what} returned ${JSON.stringify(r)}, not the acknowledged ${k.acked}`);
    } else if (!r.created && !before.has(r.id)) {
      f.push(`other: ${what} returned created: false and ${r.id}, which did not exist`);
    }
  }
  if (ledger.keyed.size > 0) {
    const holders = new Map<string, string[]>();
    for (const id of await spool.ids()) {
      const sha = sha256((await spool.get(id)) ?? Buffer.alloc(0));
      holders.set(sha, [...(holders.get(sha) ?? []), id]);
    }
    for (const k of ledger.keyed.values()) {
      const ids = holders.get(k.sha) ?? [];
      if (ids.length !== 1) {
        f.push(`other: after retrying keyed ${keyOf(k.writer, k.seq)}, ${ids.length} records hold its data`);
      }
    }
    const last = await spool.check();
    if (!last.clean) f.push(`other: check() after the keyed retries: ${JSON.stringify(last.issues)}`);
  }
  return report.issues.filter((i) => i.repaired).length;
}

/**
 * What a clean spool must not hold, looked for in the directory itself rather than taken from check(): temps
 * (every writer is dead by now) in the spool or in .keys/, and key id files left empty by the cut (the id
 * file is written without fsync, so a cut can keep its name and lose its content).
 */
function leftovers(dir: string): string[] {
  const out: string[] = [];
  for (const sub of ['', '.keys']) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(dir, sub));
    } catch {
      continue;
    }
    for (const name of names) {
      const rel = path.join(sub, name);
      if (isTempName(name)) {
        out.push(`unclean: temp: check({ repair: true }) left the dead writer's temp ${rel}, unreported`);
      } else if (sub === '.keys' && name.endsWith('.id') && fs.statSync(path.join(dir, rel)).size === 0) {
        out.push(`unclean: empty id: ${rel} is empty after check({ repair: true }), unreported`);
      }
    }
  }
  return out;
}
