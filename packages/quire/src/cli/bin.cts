#!/usr/bin/env node
// CommonJS on purpose: libuv sizes its threadpool once, on first use, and Node's ES module loader uses the pool
// to read the entry module, so only a CommonJS entry runs before that and can still size it.
//
// `quire serve` holds a pool thread for every fsync in flight, and with libuv's default of 4 a journaled
// filesystem commits at most 4 posts' fsyncs at once. With 16, more of them share each journal commit:
// +20-42% durable POSTs/s on a journaled ext4 (bench/README.md, "Threadpool"). A size the user set wins.
import { setFlagsFromString } from 'node:v8';

/** How much `quire import`'s V8 heap may grow past what is live before it collects, in percent. */
const IMPORT_HEAP_GROWING_PERCENT = 50;

if (process.argv[2] === 'serve') process.env.UV_THREADPOOL_SIZE ??= '16';
// `quire import` fsyncs each thread's directories once per batch of up to 2,048 comments: hundreds of directory
// fsyncs at once, each holding a pool thread (store/imports.ts).
if (process.argv[2] === 'import') process.env.UV_THREADPOOL_SIZE ??= '32';
// `quire import` keeps about 40 MB live (the appends in flight) and makes garbage fast. Collecting is cheap next
// to its fsyncs, so V8 lets the heap grow to about 4x what is live before it collects: 300 MB of RSS at 100,000
// comments. Growing by at most half keeps it near what is live, for more collections (bench/README.md, "Import").
// V8 reads the flag at each collection: set before any import work, it is in time. One given to node wins.
if (process.argv[2] === 'import' && !process.execArgv.some((a) => a.startsWith('--heap-growing-percent')))
  setFlagsFromString(`--heap-growing-percent=${IMPORT_HEAP_GROWING_PERCENT}`);

import('./main.js').then(
  async ({ main }) => {
    process.exitCode = await main(process.argv.slice(2));
  },
  (err: unknown) => {
    process.stderr.write(`quire: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
