// The bare baselines of the `site` bench case: what a small script doing only the file work costs, timed inside
// the script (no process start). Prints milliseconds.
//   page DIR STEM...   readdir(DIR), then read each STEM.json: a page of a thread
//   counts DIR...      readdir of each directory, counting its .json names: comment counts
//   read LISTFILE      read every file named in LISTFILE (one path a line)
//   all DATA           readdir of every thread of DATA and a read of every comment: fsck's and export's floor
import fs from 'node:fs/promises';
import path from 'node:path';

const [mode, ...args] = process.argv.slice(2);

async function readAll(files: readonly string[], inFlight = 32): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < files.length; i = next++) await fs.readFile(files[i] as string);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

const started = performance.now();
if (mode === 'page') {
  const [dir, ...stems] = args as [string, ...string[]];
  await fs.readdir(dir);
  await readAll(stems.map((s) => path.join(dir, `${s}.json`)));
} else if (mode === 'counts') {
  await Promise.all(args.map(async (d) => (await fs.readdir(d)).filter((n) => n.endsWith('.json')).length));
} else if (mode === 'read') {
  const list = (await fs.readFile(args[0] as string, 'utf8')).split('\n').filter(Boolean);
  await readAll(list);
} else if (mode === 'all') {
  const threads = path.join(args[0] as string, 'threads');
  for (const t of await fs.readdir(threads)) {
    const dir = path.join(threads, t);
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    await readAll(names.map((n) => path.join(dir, n)));
  }
} else throw new Error('usage: site-bare page|counts|read|all ...');
process.stdout.write(`${(performance.now() - started).toFixed(2)}\n`);
