/**
 * HTTP load for the service benchmark: wrk when it is installed, autocannon otherwise.
 *
 * Why wrk first: the load generator shares this machine's CPUs with the server, and autocannon (JavaScript) spends
 * about 250 µs of CPU per POST it sends (measured: user 0.90 s + sys 0.16 s for 4000 POSTs), as much as the
 * server's own work on a 2-vCPU machine. The ratios would then measure the client: with autocannon a bare
 * node:http server doing one createUnique per POST reached 0.42-0.49× of createUnique, with wrk (C, about 20 µs
 * per request) 0.67-0.82×. wrk is one Debian package (`apt-get install wrk`).
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';

export type LoadTool = 'wrk' | 'autocannon';

export interface LoadResult {
  /** Answers with a 2xx status. */
  ok: number;
  /** Answers with any other status. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** From the first request to the end of the run. */
  seconds: number;
  /** Median latency of the answers, ms. */
  p50Ms: number;
}

export interface LoadSpec {
  /** For postComments, the URL posted to (e.g. `http://127.0.0.1:PORT/api/comments`). */
  url: string;
  connections: number;
  seconds: number;
  /** POST a new comment (and a new nonce) in every request, to this page URI. */
  postComments?: string;
}

export function haveWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version prints its banner and exits 1; only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/**
 * Every request a new comment, sent as the embed sends one (a nonce, numbered attempt 1): a counter per wrk
 * thread and a random part make text and nonce unique, so no POST is a retry or a duplicate. `done` prints the
 * totals as one JSON line for the parent to read.
 */
function wrkScript(page: string | undefined): string {
  const post =
    page === undefined
      ? ''
      : `
local counter = 0
math.randomseed(os.time())
request = function()
  counter = counter + 1
  local nonce = string.format("%08x%08x%06x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), counter % 0xffffff)
  local body = '{"uri":${JSON.stringify(page)},"author":"bench","text":"comment ' .. counter .. ' ' .. nonce ..
    ' ' .. string.rep("lorem ipsum ", 20) .. '","nonce":"' .. nonce .. '","attempt":1}'
  return wrk.format("POST", nil, { ["content-type"] = "application/json" }, body)
end
`;
  return `${post}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"us":%d,"status":%d,"errors":%d,"p50us":%d}\\n', summary.requests,
    summary.duration, e.status, e.connect + e.read + e.write + e.timeout, latency:percentile(50)))
end
`;
}

async function runWrk(spec: LoadSpec, scratch: string): Promise<LoadResult> {
  const script = path.join(scratch, `load-${process.pid}-${Date.now()}.lua`);
  fs.writeFileSync(script, wrkScript(spec.postComments));
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      'wrk',
      ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '-s', script, spec.url],
      { encoding: 'utf8' },
      (err, stdout, stderr) =>
        err ? reject(new Error(`wrk failed: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
  if (line === undefined) throw new Error(`wrk printed no totals:\n${out}`);
  const t = JSON.parse(line) as {
    requests: number;
    us: number;
    status: number;
    errors: number;
    p50us: number;
  };
  return {
    ok: t.requests - t.status,
    non2xx: t.status,
    errors: t.errors,
    seconds: t.us / 1e6,
    p50Ms: t.p50us / 1000,
  };
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  let i = 0;
  const opts: autocannon.Options = {
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
  };
  if (spec.postComments !== undefined) {
    const page = spec.postComments;
    opts.method = 'POST';
    opts.headers = { 'content-type': 'application/json' };
    opts.requests = [
      {
        setupRequest: (req) => {
          const nonce = `${process.pid.toString(16)}${(i++).toString(16).padStart(10, '0')}`;
          return {
            ...req,
            body: JSON.stringify({
              uri: page,
              author: 'bench',
              text: `comment ${i} ${nonce} ${'lorem ipsum '.repeat(20)}`,
              nonce,
              attempt: 1,
            }),
          };
        },
      },
    ];
  }
  // A fixed duration ends on autocannon's own timer and counts every answer until its report.
  const r = await new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result))),
  );
  return {
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    seconds: r.duration,
    p50Ms: r.latency.p50,
  };
}

export function runLoad(tool: LoadTool, spec: LoadSpec, scratch: string): Promise<LoadResult> {
  return tool === 'wrk' ? runWrk(spec, scratch) : runAutocannon(spec);
}
