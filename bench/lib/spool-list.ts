import fs from 'node:fs';
import { createUniqueSync, openSpool } from '@quire/fs';
import { median } from './stats.js';

export interface SpoolListResult {
  records: number;
  readdirMs: number;
  newest50Ms: number;
  allMs: number;
}

/**
 * Issue 4's scale question: a spool of `records` records answering list({ reverse: true, limit: 50 }) without
 * reading any record, next to a bare readdir of the same directory (the floor: list must read every name).
 */
export async function spoolList(dir: string, records: number, rounds = 7): Promise<SpoolListResult> {
  const t0 = Date.UTC(2026, 0, 1);
  // Three records a second, as a busy site would see them over a day or so; no fsync, the timing is of reads.
  for (let i = 0; i < records; i++) {
    createUniqueSync(dir, `{"n":${i}}`, {
      durable: false,
      suffix: '.json',
      time: t0 + Math.floor(i / 3) * 1000,
    });
  }
  const spool = await openSpool(dir, { suffix: '.json' });
  const time = async (f: () => Promise<unknown>) => {
    const ms: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const a = performance.now();
      await f();
      ms.push(performance.now() - a);
    }
    return median(ms);
  };
  const readdirMs = await time(() => fs.promises.readdir(dir));
  const newest50Ms = await time(() => spool.ids({ reverse: true, limit: 50 }));
  const allMs = await time(() => spool.ids());
  return { records, readdirMs, newest50Ms, allMs };
}
