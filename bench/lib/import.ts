import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUnique } from '@quire/fs';

/** The quire command, from bench/dist/lib. */
const bin = fileURLToPath(new URL('../../../packages/quire/bin/quire.cjs', import.meta.url));

/** Calls in flight in the bare floor: 64, as the table says. */
const IN_FLIGHT = 64;

export interface ImportResult {
  comments: number;
  pages: number;
  xmlBytes: number;
  /** `quire import disqus`, durable: the whole command (start, parse, appends). */
  importSeconds: number;
  importRssKiB: number;
  /** The import's RSS sampled every 250 ms: the highest in each fifth of its run (flat memory: about equal). */
  rssFifthsKiB: number[];
  /** The floor: createUnique (durable) of the same number of comment-sized files, 64 in flight, no parsing. */
  bareSeconds: number;
}

/**
 * How far back the far replies reach: farther than the importer's appends in flight, so their parent's name is
 * no longer in its memory (a real export's replies come hours or days after their parent).
 */
const FAR = 30_000;

/** The post comment `i` replies to (same page), or -1. */
function parentOf(i: number): number {
  if (i % 6 === 2) return i - 1;
  return i % 6 === 5 && i > FAR ? i - FAR - 1 : -1;
}

/**
 * A Disqus export of `n` comments on `pages` pages, two a second; every sixth a reply to the one before, every
 * sixth (past the first FAR) a reply to one FAR comments earlier.
 */
function writeDisqus(file: string, n: number, pages: number): void {
  const out = fs.openSync(file, 'w');
  fs.writeSync(
    out,
    '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns:dsq="http://disqus.com/disqus-internals">\n',
  );
  for (let p = 0; p < pages; p++)
    fs.writeSync(
      out,
      `<thread dsq:id="t${p}"><link>https://big.example/p${p}</link><title>P${p}</title></thread>\n`,
    );
  const filler = 'lorem ipsum dolor sit amet '.repeat(10);
  let buf = '';
  for (let i = 0; i < n; i++) {
    const p = parentOf(i);
    const parent = p < 0 ? '' : `<parent dsq:id="c${p}"/>`;
    const at = new Date(Date.UTC(2012, 0, 1) + Math.floor(i / 2) * 1000).toISOString().replace(/\.\d+Z/, 'Z');
    buf += `<post dsq:id="c${i}"><message><![CDATA[<p>comment ${i}, ${filler}</p>]]></message><createdAt>${at}</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>n${i}</name><email>u${i}@example.org</email></author><ipAddress>192.0.2.${i % 250}</ipAddress><thread dsq:id="t${(p < 0 ? i : p) % pages}"/>${parent}</post>\n`;
    if (buf.length > 1 << 20) {
      fs.writeSync(out, buf);
      buf = '';
    }
  }
  fs.writeSync(out, `${buf}</disqus>\n`);
  fs.closeSync(out);
}

/** `n` durable createUnique calls spread over `pages` directories, IN_FLIGHT at once: seconds taken. */
async function bare(root: string, n: number, pages: number): Promise<number> {
  const dirs = Array.from({ length: pages }, (_, p) => path.join(root, `p${p}`));
  for (const d of dirs) fs.mkdirSync(d, { recursive: true });
  const body = `{"text":"comment, ${'lorem ipsum dolor sit amet '.repeat(10)}"}\n`;
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    for (let i = next++; i < n; i = next++)
      await createUnique(dirs[i % pages] as string, body, { durable: true, suffix: '.json' });
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return (performance.now() - started) / 1000;
}

interface ImportRun {
  seconds: number;
  comments: number;
  orphans: number;
  rss: number;
  samples: number[];
}

/** The resident set of process `pid` now, KiB (0 once it is gone). */
function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The highest of each fifth of `samples`. */
function fifths(samples: readonly number[]): number[] {
  return Array.from({ length: 5 }, (_, k) => {
    const part = samples.slice(
      Math.floor((k * samples.length) / 5),
      Math.floor(((k + 1) * samples.length) / 5),
    );
    return Math.max(0, ...part);
  });
}

/** Runs `quire import disqus` on a generated file into a fresh data directory: seconds, summary, RSS samples. */
function runImport(file: string, data: string): Promise<ImportRun> {
  const started = performance.now();
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [bin, 'import', 'disqus', file, '--data', data, '--json'],
      { maxBuffer: 1 << 26 },
      (err, stdout) => {
        clearInterval(sampler);
        if (err !== null) return reject(err);
        const s = JSON.parse(stdout) as { comments: number; orphans: number; maxRssKiB: number };
        const seconds = (performance.now() - started) / 1000;
        resolve({ seconds, comments: s.comments, orphans: s.orphans, rss: s.maxRssKiB, samples });
      },
    );
    const sampler = setInterval(() => {
      const kib = child.pid === undefined ? 0 : rssOf(child.pid);
      if (kib > 0) samples.push(kib);
    }, 250);
  });
}

/** Issue 14's import rate and memory next to the bare cost of as many durable files, same run, same disk. */
export async function importBench(root: string, n: number, pages: number): Promise<ImportResult> {
  const file = path.join(root, 'disqus.xml');
  writeDisqus(file, n, pages);
  const bareSeconds = await bare(path.join(root, 'bare'), n, pages);
  const r = await runImport(file, path.join(root, 'data'));
  if (r.comments !== n) throw new Error(`import: ${r.comments} comments of ${n}`);
  // Every parent is in the file, on the reply's page: a reply put at top level was not found.
  if (r.orphans !== 0) throw new Error(`import: ${r.orphans} replies lost their parent`);
  return {
    comments: n,
    pages,
    xmlBytes: fs.statSync(file).size,
    importSeconds: r.seconds,
    importRssKiB: r.rss,
    rssFifthsKiB: fifths(r.samples),
    bareSeconds,
  };
}

/** The markdown table of an ImportResult. */
export function importTable(r: ImportResult): string {
  const rate = (s: number) => Math.round(r.comments / s).toLocaleString('en-US');
  return [
    '| what | seconds | comments/s | vs bare | peak RSS |',
    '|---|--:|--:|--:|--:|',
    `| createUnique, durable, ${IN_FLIGHT} in flight (bare floor: no parsing, no key) | ${r.bareSeconds.toFixed(1)} | ${rate(r.bareSeconds)} | 1.00× | |`,
    `| quire import disqus (${(r.xmlBytes / 1e6).toFixed(0)} MB XML, durable, keyed) | ${r.importSeconds.toFixed(1)} | ${rate(r.importSeconds)} | ${(r.importSeconds / r.bareSeconds).toFixed(2)}× | ${(r.importRssKiB / 1024).toFixed(0)} MiB |`,
    '',
    `RSS of the import over its run (sampled every 250 ms, the highest in each fifth): ${r.rssFifthsKiB.map((k) => (k / 1024).toFixed(0)).join(' / ')} MiB`,
  ].join('\n');
}
