import fs from 'node:fs';
import v8 from 'node:v8';

const { startServer } = await import('quire');
const s = await startServer({
  dataDir: process.argv[2],
  port: 0,
  host: '127.0.0.1',
  env: {},
  logger: false,
  config: {},
});
for (let i = 0; i < 20; i++) await fetch(s.url + '/api/comments?uri=' + encodeURIComponent('https://x/' + i));
const m = process.memoryUsage();
console.log(
  'rss',
  (m.rss / 1048576).toFixed(0),
  'heapTotal',
  (m.heapTotal / 1048576).toFixed(0),
  'used',
  (m.heapUsed / 1048576).toFixed(0),
);
for (const sp of v8.getHeapSpaceStatistics())
  console.log(sp.space_name, (sp.space_size / 1048576).toFixed(1), (sp.space_used_size / 1048576).toFixed(1));
const st = fs.readFileSync('/proc/self/status', 'utf8');
console.log(/Threads:\s+(\d+)/.exec(st)[0]);
await s.close();
process.exit(0);
