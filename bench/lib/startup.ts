/**
 * What the native addon costs a `quire` command at start-up (issue 17: "adds no measurable start-up time to quire
 * CLI commands; print it"). Two measures: loading the addon itself (require of the .node file: dlopen and its
 * Node-API init) inside fresh processes, and a whole CLI command that loads @quire/fs (`quire ls` of an empty
 * spool) with the addon and with QUIRE_FS_PURE_JS=1, the runs alternating. Both in CPU time (user + system of the
 * process), which a loaded machine stretches far less than wall time: waiting for a CPU is not counted.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeBinary } from '@quire/fs';
import { loadAverage } from './machine.js';
import { median } from './stats.js';

const quireBin = fileURLToPath(new URL('../../../packages/quire/bin/quire.cjs', import.meta.url));

export interface Startup {
  runs: number;
  /** require() of the addon in a fresh process, CPU ms (median); undefined when no addon loads here. */
  loadMs: number | undefined;
  /** `quire ls`, CPU ms of the whole process (medians): with the addon, and with the pure-JS protocol. */
  nativeMs: number;
  jsMs: number;
  /** Median of the per-pair differences (native - pure JS), ms, and their middle half. */
  diffMs: number;
  diffQ1: number;
  diffQ3: number;
  load: string;
}

/** CPU ms of `f` in this process: user + system. */
const CPU_OF = 'const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };';

/**
 * The addon's require() alone: an empty module is required first, so that the loader's own first use is not
 * counted, and the time is taken before process.stdout is touched (its getter builds the stream: 2 ms).
 */
function timeLoad(file: string, empty: string): number {
  const script = `${CPU_OF} require(process.argv[2]); const t = cpuMs(); require(process.argv[1]); const ms = cpuMs() - t; process.stdout.write(String(ms));`;
  const r = spawnSync(process.execPath, ['-e', script, file, empty], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`loading ${file} failed: ${r.stderr}`);
  return Number(r.stdout);
}

// Loaded before the CLI: reports the process's CPU time as it exits, however the command ends.
const REPORT_CPU = `data:text/javascript,${encodeURIComponent(
  `${CPU_OF} process.on('exit', () => process.stderr.write('\\ncpu-ms ' + cpuMs() + '\\n'));`,
)}`;

function timeCli(dir: string, pureJs: boolean): number {
  const env = { ...process.env, QUIRE_FS_PURE_JS: pureJs ? '1' : '0' };
  const r = spawnSync(process.execPath, ['--import', REPORT_CPU, quireBin, 'ls', dir], {
    env,
    encoding: 'utf8',
  });
  const ms = /\ncpu-ms ([\d.]+)\n/.exec(r.stderr)?.[1];
  if (r.status !== 0 || ms === undefined) throw new Error(`quire ls ${dir} exited ${r.status}: ${r.stderr}`);
  return Number(ms);
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** `runs` of each measure; `dir` an empty directory (the spool `quire ls` lists). */
export function measureStartup(runs: number, dir: string, scratch: string): Startup {
  const empty = path.join(scratch, 'empty.cjs');
  fs.writeFileSync(empty, '');
  const before = loadAverage();
  const loads: number[] = [];
  const native: number[] = [];
  const js: number[] = [];
  const diffs: number[] = [];
  timeCli(dir, false); // the first run pays for cold caches
  for (let k = 0; k < runs; k++) {
    if (nativeBinary !== undefined) loads.push(timeLoad(nativeBinary, empty));
    const nativeFirst = k % 2 === 0;
    const a = timeCli(dir, !nativeFirst);
    const b = timeCli(dir, nativeFirst);
    const [n, j] = nativeFirst ? [a, b] : [b, a];
    native.push(n);
    js.push(j);
    diffs.push(n - j);
  }
  const d = sorted(diffs);
  return {
    runs,
    loadMs: loads.length > 0 ? median(loads) : undefined,
    nativeMs: median(native),
    jsMs: median(js),
    diffMs: median(diffs),
    diffQ1: d[Math.floor((d.length - 1) / 4)]!,
    diffQ3: d[Math.ceil(((d.length - 1) * 3) / 4)]!,
    load: `${before} before, ${loadAverage()} after`,
  };
}
