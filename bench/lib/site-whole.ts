/**
 * The `site` case's whole-site rows (issue 16): `quire fsck DATA` and `quire export` against the bare floor of
 * both, a script that lists every thread and reads every comment file (site-bare.ts `all`), in the same run,
 * page cache warm (a cold read of a million files takes longer than a run has). Besides the time, each process's
 * CPU (user + system) and peak RSS from /usr/bin/time when it is installed: CPU is less at the mercy of the
 * machine's load than the time is.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Site } from './site.js';
import { fmtMs, type Row } from './site-report.js';

/** What one process cost: wall time, and with /usr/bin/time its CPU and peak RSS. */
interface Cost {
  ms: number;
  cpuMs: number | null;
  rssMb: number | null;
  code: number | null;
  stdout: string;
}

const TIME = '/usr/bin/time';
const bareScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'site-bare.js');

/** Runs `args` (node and a script) to its end, stdout kept only when `keep` (else /dev/null). */
function measure(args: string[], keep: boolean): Cost {
  const withTime = fs.existsSync(TIME);
  const cmd = withTime ? TIME : (args[0] as string);
  const argv = withTime ? ['-f', 'QUIRE-TIME %U %S %M', ...args] : args.slice(1);
  const started = performance.now();
  const r = spawnSync(cmd, argv, {
    stdio: ['ignore', keep ? 'pipe' : 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const ms = performance.now() - started;
  const m = /QUIRE-TIME (\S+) (\S+) (\d+)/.exec(r.stderr ?? '');
  return {
    ms,
    cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : null,
    rssMb: m ? Number(m[3]) / 1024 : null,
    code: r.status,
    stdout: r.stdout ?? '',
  };
}

function costNote(c: Cost, bare: Cost): string {
  if (c.cpuMs === null || bare.cpuMs === null) return '';
  return `CPU ${fmtMs(c.cpuMs)} vs bare ${fmtMs(bare.cpuMs)} (${(c.cpuMs / bare.cpuMs).toFixed(2)}×); peak RSS ${c.rssMb?.toFixed(0)} MB`;
}

/** `quire fsck DATA` and `quire export`, each against one listing and read of every comment file, warm. */
export function wholeSiteRows(site: Site, quireBin: string): Row[] {
  const node = process.execPath;
  // Once to warm the page cache, once measured.
  measure([node, bareScript, 'all', site.dir], true);
  const bare = measure([node, bareScript, 'all', site.dir], true);
  const bareMs = Number(bare.stdout.trim());
  // fsck exits 1 when it finds something to report: the time is what counts here, the exit is noted.
  const fsck = measure([node, quireBin, 'fsck', site.dir], false);
  const exp = measure([node, quireBin, 'export', '--data', site.dir], false);
  const what = 'readdir of every thread + read of every comment (warm)';
  const bareNote = `bare script: ${fmtMs(bareMs)} inside, ${fmtMs(bare.ms)} with its start`;
  return [
    {
      what: 'quire fsck DATA (warm)',
      quire: fsck.ms,
      baseline: bareMs,
      baselineWhat: what,
      note: `${costNote(fsck, bare)}; exit ${fsck.code}; ${bareNote}`,
    },
    {
      what: 'quire export (warm)',
      quire: exp.ms,
      baseline: bareMs,
      baselineWhat: what,
      note: `${costNote(exp, bare)}; exit ${exp.code}`,
    },
  ];
}
