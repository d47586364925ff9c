// One attack of the abuse benchmark, in a process of its own (so that its work never delays the victim's
// clock): `node abuse-attacker.js KIND URL [SOCKETS]`. Attacks until SIGTERM (or MAX_SECONDS), then prints one
// JSON line: how many requests it sent and the statuses it got. Every address is in 127.1.0.0/16.
import net from 'node:net';
import { attackerAddress, ORIGIN, type Sent, send } from './lib/abuse-http.js';

/** A bound on every attack, whatever happens to the benchmark that started it. */
const MAX_SECONDS = 120;
/** The default minComposeSeconds (3) from a token issued to the second, rounded up: at most 4 s. */
const COMPOSE_MS = 4100;
/** A bound on requests per attack. */
const MAX_REQUESTS = 200_000;

const [kind, url, socketsArg] = process.argv.slice(2);
if (kind === undefined || url === undefined) throw new Error('usage: abuse-attacker KIND URL [SOCKETS]');
if (!new URL(url).hostname.startsWith('127.')) throw new Error('loopback only');

let stopping = false;
const stopped = new Promise<void>((resolve) => {
  process.once('SIGTERM', () => resolve());
  setTimeout(resolve, MAX_SECONDS * 1000).unref();
}).then(() => {
  stopping = true;
});
const statuses = new Map<string, number>();
let sent = 0;
/** Counts an answer by status, and for a problem by its code: what the service refused, and how. */
const tally = (status: number, body = '') => {
  let k = status === 0 ? 'failed' : String(status);
  if (status >= 400) {
    try {
      k += ` ${(JSON.parse(body) as { code?: string }).code ?? ''}`.trimEnd();
    } catch {}
  }
  statuses.set(k, (statuses.get(k) ?? 0) + 1);
};

/** `n` loops of `one(loop, i)`, each paced to at most `perSecond`, until stopped or MAX_REQUESTS. */
async function loops(
  n: number,
  perSecond: number,
  one: (loop: number, i: number) => Promise<Sent>,
): Promise<void> {
  const gap = 1000 / perSecond;
  await Promise.all(
    Array.from({ length: n }, async (_, loop) => {
      for (let i = 0; !stopping && sent < MAX_REQUESTS; i++) {
        const began = performance.now();
        sent++;
        const r = await one(loop, i);
        // A request abandoned because the attack is over is not an answer.
        if (!(stopping && r.status === 0)) tally(r.status, r.body);
        const wait = gap - (performance.now() - began);
        if (wait > 0 && !stopping) await Promise.race([new Promise((r) => setTimeout(r, wait)), stopped]);
      }
    }),
  );
}

/**
 * Markdown at the worst the issue found: emphasis openers that never close, unique so no cache helps, as long
 * as the default textChars (10,000) lets through.
 */
const worstMarkdown = (i: string) => `${'*_'.repeat(4980)}${i}`.slice(0, 10_000);
const unique = () => `${process.pid}-${sent}-${Math.random().toString(36).slice(2)}`;
const writeHeaders = { origin: ORIGIN };

/** A form token for `page`, as the embed gets one: tokens are bound to the page and the client's network. */
async function formToken(localAddress: string, page: string): Promise<string | undefined> {
  const r = await send(url as string, {
    path: `/api/form-token?uri=${encodeURIComponent(page)}`,
    localAddress,
  });
  tally(r.status, r.body);
  try {
    return (JSON.parse(r.body) as { formToken?: string }).formToken;
  } catch {
    return undefined;
  }
}

const attacks: Record<string, () => Promise<void>> = {
  // 16 addresses, each at 8 previews a second (the issue's rate).
  preview: () =>
    loops(16, 8, async (loop) => {
      const r = await send(url, {
        method: 'POST',
        path: '/api/preview',
        body: { text: worstMarkdown(unique()) },
        headers: writeHeaders,
        localAddress: attackerAddress(1, loop),
      });
      return r;
    }),
  // 48 addresses posting the worst Markdown to new pages (random paths and query strings) and to parents that
  // do not exist, each with a fresh form token for its page, posted once the default compose time is over.
  post: () =>
    loops(48, 1, async (loop, i) => {
      const localAddress = attackerAddress(2, loop);
      const page = `${ORIGIN}/p/${unique()}?x=${unique()}&lang=de`;
      const token = await formToken(localAddress, page);
      await Promise.race([new Promise((r) => setTimeout(r, COMPOSE_MS)), stopped]);
      if (stopping) return { status: 0, ms: 0, body: '' };
      const r = await send(url, {
        method: 'POST',
        path: '/api/comments',
        body: {
          uri: page,
          title: 'Attacker title',
          text: worstMarkdown(unique()),
          ...(token === undefined ? {} : { formToken: token }),
          ...(i % 2 === 1 ? { parent: '20260101T000000Z-0' } : {}),
        },
        headers: writeHeaders,
        localAddress,
      });
      return r;
    }),
  // 16 addresses reading the site feed (the data directory holds thousands of threads) and page feeds.
  feed: () =>
    loops(16, 8, async (loop, i) => {
      const path =
        i % 4 === 3 ? `/feed.atom?uri=${encodeURIComponent(`${ORIGIN}/seed/${i % 1000}`)}` : '/feed.atom';
      return send(url, { path, localAddress: attackerAddress(3, loop) });
    }),
  // Wrong passwords, 10 per address (the per-address limit), from ever new addresses, 40 at a time (the
  // issue's 40 addresses), each at 4 a second.
  login: () =>
    loops(40, 4, async (loop, i) => {
      const n = loop + 40 * Math.floor(i / 10);
      const r = await send(url, {
        method: 'POST',
        path: '/api/admin/login',
        body: { password: `wrong-${unique()}` },
        headers: writeHeaders,
        localAddress: attackerAddress(40 + Math.floor(n / 254), n),
      });
      return r;
    }),
  slow: slowConnections,
};

/**
 * SOCKETS connections from 100 addresses (within the default 64 per address), each sending a request line, then one header line every 5 s, never
 * the end of its headers. Opened 500 a second; one that the server closes is opened again.
 */
async function slowConnections(): Promise<void> {
  const want = Number(socketsArg ?? 3000);
  const open = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let opened = 0;
  const target = new URL(url as string);
  const connect = (n: number) => {
    if (stopping) return;
    const sock = net.connect({
      host: target.hostname,
      port: Number(target.port),
      localAddress: attackerAddress(5, n % 100),
    });
    opened++;
    sent++;
    open.add(sock);
    sock.setNoDelay(true);
    sock.on('connect', () => {
      sock.write('GET /api/comments?uri=x HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const t = setInterval(() => sock.write(`X-Slow-${Date.now()}: 1\r\n`), 5000);
      timers.add(t);
      sock.once('close', () => {
        clearInterval(t);
        timers.delete(t);
      });
    });
    sock.on('data', () => {});
    sock.on('error', () => {});
    sock.once('close', () => {
      open.delete(sock);
      statuses.set('closed-by-server', (statuses.get('closed-by-server') ?? 0) + (stopping ? 0 : 1));
      // Reopen what the server shed, at most once a second per slot.
      if (!stopping && opened < MAX_REQUESTS) setTimeout(() => connect(n), 1000).unref();
    });
  };
  for (let n = 0; n < want && !stopping; n++) {
    connect(n);
    if (n % 50 === 49) await Promise.race([new Promise((r) => setTimeout(r, 100)), stopped]);
  }
  await stopped;
  statuses.set('open-at-end', open.size);
  for (const t of timers) clearInterval(t);
  for (const s of open) s.destroy();
}

const attack = attacks[kind];
if (attack === undefined) throw new Error(`unknown attack ${kind}`);
process.stdout.write('started\n');
await Promise.race([attack(), stopped]);
// Requests in flight when told to stop are abandoned: the summary counts what completed.
process.stdout.write(`${JSON.stringify({ kind, sent, statuses: Object.fromEntries(statuses) })}\n`);
process.exit(0);
