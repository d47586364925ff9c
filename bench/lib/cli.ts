/** `npm run bench`'s command line: its usage text and parser. */
import os from 'node:os';
import type { LoadTool } from './load.js';

const USAGE = `usage: npm run bench -- [--quick] [--runs N] [--only NAME[,NAME...]] [--list] [--help]

  --quick      about a fifth of the operations per run and 3 runs (a smoke test: numbers are noisier)
  --runs N     rounds per case (default 5; at least 3); the table shows the median
  --only NAME  run only the cases whose id or tag contains NAME (repeatable or comma-separated), e.g.
               --only group, --only replace, --only contention, --only naive, --only c-publish
  --import-size N[:PAGES]
               the import case's Disqus file: N comments on PAGES pages (default 50000:100; 10000:100 with
               --quick), e.g. --only import --import-size 500000:1000 for issue 14's 500,000
  --load TOOL  HTTP load for the service case: wrk, autocannon or both (default: both when wrk is installed,
               apt-get install wrk; the two disagree, see bench/README.md)
  --site-scale F  size of the \`site\` case's data set: 1 (default) is the issue's 1,000,000 comments in 10,000
               threads; 0.01 makes 10,000 in 100 (quick runs). Generated once per size, kept in
               $QUIRE_BENCH_CACHE (default ${os.tmpdir()}/quire-bench-cache)
  --site-steps LIST  only these steps of the \`site\` case (comma-separated; default all): cold, big, counts,
               queue (the feed and the admin queue), every (a GET of every thread: RSS), mixed, whole (fsck, export)
  --pairs N    chunks per pair for issue 17's targets (each quire call back to back with the C program doing
               its syscalls; default 24, 8 with --quick; 0: ratios from the rounds only)
  --list       list the case ids and tags, then exit
  --help       this text

Runs in a fresh directory under ${os.tmpdir()} (set TMPDIR to measure another filesystem), removed afterwards.
Needs a C compiler (cc, or $CC) for the baseline; without one the C rows are skipped.`;

export interface Cli {
  quick: boolean;
  /** The import case's comments and pages; undefined: the default for --quick or not. */
  importSize: { comments: number; pages: number } | undefined;
  load: LoadTool | 'both' | undefined;
  runs: number;
  only: string[];
  list: boolean;
  siteScale: number;
  /** Steps of the site case to run; undefined: all. */
  siteSteps: Set<string> | undefined;
  /** Chunks per pair in the paired phase (-1 until parsed: the default for --quick or not). */
  pairs: number;
}

export function parseArgs(argv: readonly string[]): Cli {
  const cli: Cli = {
    quick: false,
    importSize: undefined,
    load: undefined,
    runs: 0,
    only: [],
    list: false,
    siteScale: 1,
    siteSteps: undefined,
    pairs: -1,
  };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++k];
      if (v === undefined || v === '') usage(`${a} needs a value`);
      return v;
    };
    if (a === '--help' || a === '-h') usage();
    else if (a === '--quick') cli.quick = true;
    else if (a === '--list') cli.list = true;
    else if (a === '--load' || a.startsWith('--load=')) {
      const v = value();
      if (v !== 'wrk' && v !== 'autocannon' && v !== 'both') usage('--load must be wrk, autocannon or both');
      cli.load = v;
    } else if (a === '--import-size' || a.startsWith('--import-size=')) {
      const [comments, pages = 100] = value().split(':').map(Number);
      if (!Number.isInteger(comments) || comments! < 1 || !Number.isInteger(pages) || pages < 1)
        usage('--import-size must be N or N:PAGES, positive integers');
      cli.importSize = { comments: comments!, pages };
    } else if (a === '--runs' || a.startsWith('--runs=')) cli.runs = Number(value());
    else if (a === '--only' || a.startsWith('--only=')) cli.only.push(...value().split(',').filter(Boolean));
    else if (a === '--site-scale' || a.startsWith('--site-scale=')) cli.siteScale = Number(value());
    else if (a === '--site-steps' || a.startsWith('--site-steps='))
      cli.siteSteps = new Set(value().split(',').filter(Boolean));
    else if (a === '--pairs' || a.startsWith('--pairs=')) {
      cli.pairs = Number(value());
      if (!Number.isInteger(cli.pairs) || cli.pairs < 0) usage('--pairs must be an integer >= 0');
    } else usage(`unknown argument ${a}`);
  }
  if (!(cli.siteScale > 0 && cli.siteScale <= 1)) usage('--site-scale must be a number in (0, 1]');
  if (cli.runs === 0) cli.runs = cli.quick ? 3 : 5;
  if (cli.pairs < 0) cli.pairs = cli.quick ? 8 : 24;
  if (!Number.isInteger(cli.runs) || cli.runs < 3)
    usage('--runs must be an integer >= 3 (medians of fewer lie)');
  return cli;
}

export function usage(error?: string): never {
  if (error) {
    process.stderr.write(`bench: ${error}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
