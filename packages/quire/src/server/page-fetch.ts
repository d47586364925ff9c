import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * `verifyPages`: before a page gets its first thread, the server fetches it from its own site, as Isso does, so
 * that a thread exists only for a page that exists, and takes its title from the page rather than the client.
 * Every cost of that fetch is bounded: one request at a time per call, a deadline, a cap on the bytes read, no
 * redirect to another site, and no private, loopback or link-local address unless configured (the check is made
 * on the address actually connected to, so a DNS answer that changes between check and connect does not help).
 */
export interface PageFetchOptions {
  /** Whole fetch, redirects included. */
  timeoutMs: number;
  /** Bytes of the page read at most; the title must be within them. */
  maxBytes: number;
  /** Redirects followed at most, each to the same scheme-less origin (host and port; http → https allowed). */
  maxRedirects: number;
  /** Connect to private, loopback and link-local addresses too (a site on the same host or network). */
  allowPrivate: boolean;
}

export const DEFAULT_PAGE_FETCH: Readonly<PageFetchOptions> = {
  timeoutMs: 5_000,
  maxBytes: 512 * 1024,
  maxRedirects: 3,
  allowPrivate: false,
};

export type PageFetchErrorCode =
  | 'page-not-found'
  | 'page-unreachable'
  | 'page-address-refused'
  | 'page-redirect-off-site';

/** Why a page could not be verified; `code` is stable. */
export class PageFetchError extends Error {
  override readonly name = 'PageFetchError';
  constructor(
    readonly code: PageFetchErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface FetchedPage {
  /** The page's `<title>`, entities decoded and white space collapsed; null without one. */
  title: string | null;
}

/** Addresses a fetch never connects to unless allowPrivate (RFC 6890's special-purpose ranges that matter). */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 127],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

/** True for an address a fetch must not reach without allowPrivate; IPv4-mapped IPv6 is judged as IPv4. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return PRIVATE.check(mapped[1] as string, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** dns.lookup that refuses private answers: the socket connects only to an address that passed. */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const ok = addresses.filter((a) => allowPrivate || !isPrivateAddress(a.address));
      const first = ok[0];
      if (first === undefined) {
        const refused = new PageFetchError(
          'page-address-refused',
          `${hostname} resolves to a private address`,
        );
        return callback(refused as unknown as NodeJS.ErrnoException, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as AllCallback)(null, ok);
      callback(null, first.address, first.family);
    });
  };
}
type AllCallback = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;

function sameSite(from: URL, to: URL): boolean {
  const port = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');
  if (from.hostname !== to.hostname) return false;
  if (from.protocol === to.protocol) return port(from) === port(to);
  return from.protocol === 'http:' && to.protocol === 'https:';
}

interface Answer {
  status: number;
  location: string | undefined;
  body: string;
}

/** One GET: status, Location, and at most maxBytes of the body (the socket is closed past them). */
/**
 * PageFetchError 'page-address-refused' when `url` names a private address as such: it is connected to without
 * a lookup, so guardedLookup never sees it. (Webhooks use this and guardedLookup too: server/notify/webhook.ts.)
 */
export function checkAddressLiteral(url: URL, allowPrivate: boolean): void {
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) !== 0 && !allowPrivate && isPrivateAddress(literal)) {
    throw new PageFetchError('page-address-refused', `${url.host} is a private address`);
  }
}

function getOnce(url: URL, opts: PageFetchOptions, signal: AbortSignal): Promise<Answer> {
  const mod = url.protocol === 'https:' ? https : http;
  try {
    checkAddressLiteral(url, opts.allowPrivate);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    const req = mod.get(
      url,
      {
        signal,
        lookup: guardedLookup(opts.allowPrivate),
        headers: { accept: 'text/html', 'user-agent': 'quire page check' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        const done = () => {
          res.destroy();
          const body = Buffer.concat(chunks).subarray(0, opts.maxBytes).toString('utf8');
          resolve({ status: res.statusCode ?? 0, location: res.headers.location, body });
        };
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          bytes += c.length;
          if (bytes >= opts.maxBytes) done();
        });
        res.on('end', done);
        res.on('error', reject);
      },
    );
    req.on('error', (err) => {
      // The agent passes a lookup refusal through as the request's error.
      reject(
        err instanceof PageFetchError
          ? err
          : new PageFetchError('page-unreachable', `${url.host}: ${err.message}`),
      );
    });
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The text of the first `<title>` in `html`, or null. */
export function titleOf(html: string): string | null {
  const m = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html);
  if (m === null) return null;
  const text = (m[1] as string)
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
      if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? all;
      const cp =
        e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : all;
    })
    .replace(/\s+/g, ' ')
    .trim();
  return text === '' ? null : text;
}

/**
 * Fetches `uri` and resolves with its title when it answers 2xx. Rejects with PageFetchError otherwise:
 * `page-not-found` for any other answer, `page-unreachable` for no answer in time, `page-address-refused`,
 * `page-redirect-off-site`.
 */
export async function fetchPage(
  uri: string,
  opts: PageFetchOptions = DEFAULT_PAGE_FETCH,
  signal?: AbortSignal,
): Promise<FetchedPage> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const both = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  const start = new URL(uri);
  let url = start;
  try {
    for (let hops = 0; ; hops++) {
      const a = await getOnce(url, opts, both);
      if (a.status >= 200 && a.status < 300) return { title: titleOf(a.body) };
      if (a.status < 300 || a.status >= 400 || a.location === undefined || hops >= opts.maxRedirects) {
        throw new PageFetchError('page-not-found', `${url.href} answered ${a.status}`);
      }
      const next = new URL(a.location, url);
      if (!sameSite(start, next)) {
        throw new PageFetchError('page-redirect-off-site', `${url.href} redirects to another site`);
      }
      url = next;
    }
  } catch (err) {
    if (err instanceof PageFetchError) throw err;
    if (both.aborted) throw new PageFetchError('page-unreachable', `${start.host} did not answer in time`);
    throw new PageFetchError('page-unreachable', `${start.host}: ${(err as Error).message}`);
  }
}
