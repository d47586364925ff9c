/**
 * Loaded with `node --import` into one `quire serve` of the hosts bench: measures the event-loop delay of that
 * instance and answers it on a port of its own (QUIRE_BENCH_ELD_PORT, default 9100, on the address the instance's
 * host has), so the bench can reset it before the POST run and read it after. GET / → {p50, p99, max} in ms;
 * GET /reset starts over.
 */
import http from 'node:http';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
const address =
  Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address ?? '127.0.0.1';
const ms = (ns: number) => ns / 1e6;
http
  .createServer((req, res) => {
    const body = JSON.stringify({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) });
    if (req.url === '/reset') h.reset();
    res.end(body);
  })
  .listen(Number(process.env.QUIRE_BENCH_ELD_PORT ?? 9100), address)
  .unref();
