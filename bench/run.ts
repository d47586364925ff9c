/**
 * `npm run bench`: @quire/fs against the physical limit (a C program doing the same syscalls) and against the
 * anchor libraries, in one run, on the same filesystem, 1 KiB payloads. See bench/README.md.
 *
 * The machine is shared and noisy, so every case runs once per round and the rounds repeat (median of N): cases
 * compared against each other run back to back within a round, and each ratio is the median of the per-round
 * ratios, which cancels drift in the machine's load better than a ratio of two medians.
 */
import { implementation } from '@quire/fs';
import { buildCases, type Case } from './lib/cases.js';
import { parseArgs, usage } from './lib/cli.js';
import { runPairs } from './lib/fs-pairs.js';
import { fsPairs } from './lib/fs-report.js';
import { describeMachine, loadAverage } from './lib/machine.js';
import { drive, isQuireOp, isSyncOp, JIT_WARMUP, OP_NAMES, prepareOp } from './lib/ops.js';
import { compileC } from './lib/procs.js';
import { report, type Sample } from './lib/report.js';
import { Scratch } from './lib/scratch.js';
import { runSpecials, SPECIALS, type SpecialId } from './lib/specials.js';
import { measureStartup } from './lib/startup.js';
import { fmtRate, fmtSeconds } from './lib/stats.js';

/** The last progress line, for the message of a run stopped by a signal. */
let lastProgress = 'the start';

function progress(line: string): void {
  lastProgress = line;
  process.stderr.write(`${line}\n`);
}

function matches(only: readonly string[], id: string, tags: readonly string[] = []): boolean {
  if (only.length === 0) return true;
  const words = [id, ...tags].map((w) => w.toLowerCase());
  return only.some((o) => words.some((w) => w.includes(o.toLowerCase())));
}

/** The scratch directory of this run, removed even when a case fails. */
let live: Scratch | undefined;

/**
 * A run stopped from outside says so, and where (a 5-round run once vanished after round 1 without a word:
 * another session's SIGTERM, meant for its own bench). SIGKILL (the OOM killer's) cannot be caught.
 */
function onStop(cleanup: () => void): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(signal, () => {
      progress(`bench: stopped by ${signal} (pid ${process.pid}) after: ${lastProgress}`);
      cleanup();
      process.exit(code);
    });
  }
}

/** This process runs the in-process cases: their code is compiled before the first round is timed. */
async function warmUp(scratch: Scratch): Promise<void> {
  progress('bench: warming up');
  for (const op of OP_NAMES) {
    const quire = isQuireOp(op);
    const fn = prepareOp({ op, dir: scratch.fresh(`jit-${op}`), durable: !quire, targets: 1, worker: 0 });
    await drive(fn, isSyncOp(op), quire ? JIT_WARMUP : 20, 1);
  }
}

/**
 * Every case once per round, so that slow drifts in the machine's load hit all cases alike; odd rounds run the
 * list backwards, so that neither case of a compared pair always runs right after the other.
 */
async function rounds(
  cases: readonly Case[],
  runs: number,
  scratch: Scratch,
): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>(cases.map((c) => [c.id, []]));
  for (let round = 0; round < runs; round++) {
    for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
      const a = await c.run(scratch.fresh(`${c.id}-${round}`), scratch.fresh(`${c.id}-${round}.warm`), c.ops);
      const s: Sample = { rate: a.ops / a.seconds, cpuPerOp: a.cpuUs / a.ops };
      samples.get(c.id)!.push(s);
      progress(
        `[${round + 1}/${runs}] ${c.id.padEnd(30)} ${fmtRate(s.rate).padStart(7)} ops/s  (${a.ops} ops in ${fmtSeconds(a.seconds)})`,
      );
    }
  }
  return samples;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  const scale = cli.quick ? 0.2 : 1;
  // Untimed calls before each run, in a directory of their own (code paths and caches warm, not the timed dir).
  const warmup = cli.quick ? 4 : 16;
  const compiled = compileC();
  const allCases = buildCases(scale, warmup, compiled.ok);
  if (cli.list) {
    for (const c of allCases)
      process.stdout.write(`${c.id}${c.tags.length ? `  [${c.tags.join(', ')}]` : ''}\n`);
    for (const s of SPECIALS) process.stdout.write(`${s.id}  [${s.tags.join(', ')}]\n`);
    return;
  }
  const cases = allCases.filter((c) => matches(cli.only, c.id, c.tags));
  const selected = (id: SpecialId) => SPECIALS.some((s) => s.id === id && matches(cli.only, s.id, s.tags));
  if (cases.length === 0 && !SPECIALS.some((s) => selected(s.id))) {
    usage(`--only ${cli.only.join(',')} matches no case (see --list)`);
  }

  const scratch = new Scratch();
  live = scratch;
  const unmounts: (() => void)[] = [];
  const cleanup = () => {
    for (const unmount of unmounts.splice(0)) {
      try {
        unmount();
      } catch (err) {
        progress(`bench: unmount failed: ${(err as Error).message}`);
      }
    }
    scratch.remove();
  };
  onStop(cleanup);

  const machine = describeMachine(scratch.root);
  const loadBefore = loadAverage();
  const began = Date.now();
  progress(
    `bench: ${cases.length} cases × ${cli.runs} rounds in ${scratch.root}${cli.quick ? ' (--quick)' : ''}`,
  );
  if (!scratch.spread) progress('bench: chattr +T failed: runs may share block groups (see lib/scratch.ts)');
  if (!compiled.ok) progress(`bench: no C baseline: ${compiled.why}`);
  if (cases.length > 0) await warmUp(scratch);
  const samples = await rounds(cases, cli.runs, scratch);

  // Issue 17's targets, timed again in short paired chunks (lib/fs-pairs.ts says why), then the start-up cost.
  const fsTargets = fsPairs(cases, implementation === 'native', cli.quick ? 20 : 40, 320);
  const pairs = cli.pairs > 0 ? fsTargets : [];
  if (pairs.length > 0)
    progress(`bench: ${pairs.length} pairs × ${cli.pairs} chunks (quire vs C, back to back)`);
  const paired = await runPairs(pairs, cli.pairs, (label) => scratch.fresh(label), progress);
  const startup =
    fsTargets.length > 0
      ? measureStartup(cli.quick ? 7 : 21, scratch.fresh('startup-spool'), scratch.fresh('startup-module'))
      : undefined;

  const specials = await runSpecials(selected, { cli, scratch, machine, unmounts, progress });
  progress(`bench: removing ${scratch.root}`);
  cleanup();
  const spread = scratch.spread;
  process.stdout.write(
    report({ cli, began, machine, compiled, spread, loadBefore, cases, samples, paired, startup, specials }),
  );
}

main().catch((err: unknown) => {
  live?.remove();
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
