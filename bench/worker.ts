/**
 * A benchmark child: `node worker.js '<job json>'`. It sets up, prints `ready`, waits for `go` on stdin (so that
 * all workers of a case start together, after Node's startup), runs its job and prints one JSON result line.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  type DriveResult,
  distinctPayload,
  drive,
  isQuireOp,
  isSyncOp,
  JIT_WARMUP,
  prepareOp,
} from './lib/ops.js';
import type { Job, NaiveJob, WireResult } from './lib/procs.js';

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    let buf = '';
    process.stdin.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      if (buf.includes('go\n')) resolve();
    });
  });
}

/**
 * The naive loop of the blog post quire started from (README, "Where it comes from"), in Node: check whether the
 * name exists, and if not, write it. Between the check and the open(O_CREAT|O_TRUNC) another process can create
 * the same name, and then this write silently replaces that comment. Each comment starts its search at counter 0,
 * as the post's does.
 */
function naive(job: NaiveJob, i: number): number {
  const content = distinctPayload(job.worker, i);
  for (let n = 0; ; n++) {
    const fn = path.join(job.dir, `${job.stamp}-${n}`);
    if (fs.existsSync(fn)) continue;
    fs.writeFileSync(fn, content);
    return n + 1;
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as Job;
  let run: () => Promise<WireResult>;
  const wire = (r: DriveResult): WireResult => ({
    ...r,
    start: r.start.toString(),
    end: r.end.toString(),
  });
  if (job.kind === 'naive') {
    run = async () => {
      const r = await drive((i) => naive(job, i), true, job.count, 1);
      return wire(r);
    };
  } else {
    const sync = isSyncOp(job.op);
    if (job.warmup && job.warmDir) {
      // A fresh process runs its first few hundred calls in V8's interpreter: without this, a worker's timed calls
      // would measure the JIT's warm-up rather than the library. quire's ops warm up cheaply without fsync first.
      // Nothing is deleted until the bench ends (see lib/scratch.ts).
      const warm = (phase: string) => {
        const dir = path.join(job.warmDir!, `${job.worker}-${phase}`);
        fs.mkdirSync(dir, { recursive: true });
        return { ...job, dir, time: undefined };
      };
      if (isQuireOp(job.op)) {
        await drive(prepareOp({ ...warm('jit'), durable: false }), sync, JIT_WARMUP, job.concurrency);
      }
      await drive(prepareOp(warm('io')), sync, job.warmup, job.concurrency);
    }
    const fn = prepareOp(job);
    run = async () => wire(await drive(fn, sync, job.count, job.concurrency));
  }
  process.stdout.write('ready\n');
  await waitForGo();
  process.stdout.write(`${JSON.stringify(await run())}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
