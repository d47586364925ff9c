import http from 'node:http';

/** The site the abuse benchmark's server serves (its only origin). */
export const ORIGIN = 'https://blog.example';
/** The page the victim reads. */
export const VICTIM_PAGE = `${ORIGIN}/posts/victim`;
/** A victim request that takes longer than this failed. */
export const TIMEOUT_MS = 5000;

/** One HTTP exchange's outcome: its status (0 when it failed to complete) and its time. */
export interface Sent {
  status: number;
  ms: number;
  body: string;
}

/** A request on a connection of its own (no keep-alive), from `localAddress` (any address of 127.0.0.0/8). */
export function send(
  url: string,
  opts: {
    method?: string;
    path: string;
    body?: unknown;
    localAddress?: string;
    headers?: Record<string, string>;
    timeoutMs?: number;
  },
): Promise<Sent> {
  const u = new URL(opts.path, url);
  if (!u.hostname.startsWith('127.'))
    throw new Error(`the abuse benchmark talks to 127.0.0.0/8 only, not ${u.hostname}`);
  const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const began = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (status: number, text = '') => {
      if (done) return;
      done = true;
      resolve({ status, ms: performance.now() - began, body: text });
    };
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: opts.method ?? 'GET',
        agent: false,
        ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
        headers: {
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': body.length }),
          ...opts.headers,
        },
        timeout: opts.timeoutMs ?? TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        res.on('error', () => finish(0));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      finish(0, 'timeout');
    });
    req.on('error', (err) => finish(0, err.message));
    req.end(body);
  });
}

/** `127.1.<group>.<n>`: attacker addresses, a /24 of their own per attack, never the victim's 127.0.0.1. */
export function attackerAddress(group: number, n: number): string {
  return `127.1.${group}.${(n % 254) + 1}`;
}
