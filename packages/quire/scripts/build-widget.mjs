#!/usr/bin/env node
/**
 * Builds the browser code: src/widget/embed.ts -> dist/widget/embed.js (the embeddable comments) and
 * src/widget/admin.ts -> dist/widget/admin.js (the admin page), each one minified file. Type-checks them first
 * with src/widget/tsconfig.json (the DOM config; the package's own tsconfig is Node-only and excludes them).
 * Prints each file's gzipped size and fails if embed.js is over its budget of 15 KB gzipped.
 *
 *   node packages/quire/scripts/build-widget.mjs [--no-check]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(pkg, 'src/widget');
const out = path.join(pkg, 'dist/widget');
const BUDGET = 15 * 1024;

if (!process.argv.includes('--no-check')) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(src, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('build-widget: type errors in src/widget');
    process.exit(1);
  }
}

const result = await build({
  entryPoints: { embed: path.join(src, 'embed.ts'), admin: path.join(src, 'admin.ts') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
  platform: 'browser',
  legalComments: 'none',
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
});

let failed = false;
for (const file of Object.keys(result.metafile.outputs).sort()) {
  const abs = path.resolve(file);
  const bytes = fs.readFileSync(abs);
  const gz = gzipSync(bytes, { level: 9 }).length;
  const name = path.relative(process.cwd(), abs);
  const over = path.basename(abs) === 'embed.js' && gz > BUDGET;
  console.log(
    `${name}: ${(bytes.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped` +
      (path.basename(abs) === 'embed.js' ? ` (budget ${BUDGET / 1024} KB)` : ''),
  );
  if (over) {
    console.error(`build-widget: ${name} is ${gz} bytes gzipped, over the budget of ${BUDGET}`);
    failed = true;
  }
}
if (failed) process.exit(1);
