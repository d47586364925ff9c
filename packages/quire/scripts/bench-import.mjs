#!/usr/bin/env node
// The import benchmark (issue 14): generates a Disqus export of N comments (default 500,000) on P pages (every
// third comment a reply), imports it with `quire import disqus` into a fresh data directory (durable, as always),
// and prints comments/s and the importer's peak RSS. Usage: node packages/quire/scripts/bench-import.mjs [N] [P]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const n = Number(process.argv[2] ?? 500_000);
const pages = Number(process.argv[3] ?? 1000);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-bench-import-'));
const file = path.join(root, 'disqus.xml');
const out = fs.openSync(file, 'w');
fs.writeSync(
  out,
  '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns:dsq="http://disqus.com/disqus-internals">\n',
);
for (let p = 0; p < pages; p++) {
  fs.writeSync(
    out,
    `<thread dsq:id="t${p}"><link>https://big.example/p${p}</link><title>P${p}</title></thread>\n`,
  );
}
let buf = '';
const filler = 'lorem ipsum dolor sit amet '.repeat(10);
for (let i = 0; i < n; i++) {
  const parent = i % 3 === 2 ? `<parent dsq:id="c${i - 1}"/>` : '';
  const at = new Date(Date.UTC(2012, 0, 1) + Math.floor(i / 2) * 1000).toISOString().replace(/\.\d+Z/, 'Z');
  buf += `<post dsq:id="c${i}"><message><![CDATA[<p>comment ${i}, ${filler}</p>]]></message><createdAt>${at}</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>n${i}</name><email>u${i}@example.org</email></author><ipAddress>192.0.2.${i % 250}</ipAddress><thread dsq:id="t${(parent === '' ? i : i - 1) % pages}"/>${parent}</post>\n`;
  if (buf.length > 1 << 20) {
    fs.writeSync(out, buf);
    buf = '';
  }
}
fs.writeSync(out, `${buf}</disqus>\n`);
fs.closeSync(out);
const bytes = fs.statSync(file).size;
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'quire.cjs');
const started = process.hrtime.bigint();
const summary = JSON.parse(
  execFileSync(
    process.execPath,
    [bin, 'import', 'disqus', file, '--data', path.join(root, 'data'), '--json'],
    {
      maxBuffer: 1 << 26,
    },
  ).toString('utf8'),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  `import: ${summary.comments} comments (${(bytes / 1e6).toFixed(0)} MB of Disqus XML, ${pages} pages) in ` +
    `${seconds.toFixed(1)} s: ${Math.round(summary.comments / seconds)} comments/s, peak RSS ` +
    `${(summary.maxRssKiB / 1024).toFixed(0)} MiB`,
);
fs.rmSync(root, { recursive: true, force: true });
