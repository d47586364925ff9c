import path from 'node:path';
import type { DataReport } from '../store/check.js';
import { EXIT, type Invocation } from './command.js';

/** `quire fsck DATA` on a service data directory (store/check.ts): the report on stdout, the exit code. */
export async function fsckDataDir(dir: string, inv: Invocation): Promise<number> {
  const { checkDataDir } = await import('../store/check.js');
  const progress = inv.values.progress === true || process.stderr.isTTY;
  if (progress) process.stderr.write(`quire fsck: checking the data directory ${dir}\n`);
  const report = await checkDataDir(dir, {
    repair: inv.values.repair === true,
    ...(progress
      ? { onProgress: (n: number) => process.stderr.write(`quire fsck: ${n} threads checked\n`) }
      : {}),
  });
  if (inv.values.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else printReport(report);
  return report.clean ? EXIT.ok : EXIT.failure;
}

function printReport(report: DataReport): void {
  const out: string[] = [];
  for (const i of report.issues) {
    out.push(`${i.repaired ? 'repaired' : 'found'}\t${i.problem}\t${i.path}\t${i.detail}\n`);
  }
  out.push(
    `${report.threads} threads, ${report.comments} comments, ${report.votes} votes, ` +
      `${report.issues.length} issues, ${report.clean ? 'clean' : 'NOT clean'}\n`,
  );
  process.stdout.write(out.join(''));
}

/** Whether DIR is a service data directory (quire.json and threads/), by a stat: loads nothing of the store. */
export async function isDataDir(dir: string): Promise<boolean> {
  const { pathExists, stampOf } = await import('@quire/fs');
  return (
    (await pathExists(path.join(dir, 'quire.json'))) &&
    stampOf(path.join(dir, 'threads')).st?.isDirectory() === true
  );
}
