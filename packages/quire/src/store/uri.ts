import { createHash } from 'node:crypto';
import { DEFAULT_CONFIG, type UriConfig } from '../config.js';

/**
 * One page is one thread: the URI a browser reports is normalised before it names a thread, so that
 * `https://Example.org:443/post/?utm_source=x#comments` and `https://example.org/post` land in the same thread
 * (the split threads of isso #37 and remark42 #411 are exactly this).
 */
export class UriError extends Error {
  override readonly name = 'UriError';
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const INDEX = /\/index\.(html?|php)$/i;

/** Decodes percent-escapes of unreserved characters and upper-cases the others (RFC 3986, 6.2.2). */
function normalisePercent(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

function dropper(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    const l = p.toLowerCase();
    if (l.endsWith('*')) prefixes.push(l.slice(0, -1));
    else exact.add(l);
  }
  return (name) => {
    const l = name.toLowerCase();
    return exact.has(l) || prefixes.some((p) => l.startsWith(p));
  };
}

/**
 * Whether a query parameter selects content (keepParams): only those are part of a thread key, so that
 * `?lang=de` or `?x=<random>` cannot start a thread of their own. `*` keeps every one.
 */
function keeper(names: readonly string[]): (name: string) => boolean {
  if (names.includes('*')) return () => true;
  const keep = new Set(names.map((n) => n.toLowerCase()));
  return (name) => keep.has(name.toLowerCase());
}

/**
 * The canonical form of a page URI: http(s) only, no credentials, no fragment, lower-case scheme and host
 * (IDNs in punycode), no default port, unreserved percent-escapes decoded, only the parameters of keepParams
 * kept and of those the tracking parameters dropped, the rest sorted by name (stable, so repeated names keep their order), and `/post/` equal to `/post` (default).
 * Throws UriError for anything that is not an absolute http(s) URL without control characters.
 */
export function normaliseUri(input: string, opts: UriConfig = DEFAULT_CONFIG.uri, maxChars = 2048): string {
  if (typeof input !== 'string' || input.length === 0) throw new UriError('uri must be a non-empty string');
  if (input.length > maxChars) throw new UriError(`uri is longer than ${maxChars} characters`);
  // Control characters (NUL included) and whitespace never belong in a page address.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  if (/[\u0000-\u0020\u007f-\u009f]/.test(input)) throw new UriError('uri contains control characters');
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new UriError('uri is not an absolute URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UriError('uri must be http or https');
  if (u.hostname === '') throw new UriError('uri has no host');
  if (opts.upgradeHttp && u.protocol === 'http:') {
    u.protocol = 'https:';
    if (u.port === '443') u.port = '';
  }
  u.username = '';
  u.password = '';
  u.hash = '';
  const alias = opts.hostAliases[u.hostname];
  if (alias !== undefined) u.hostname = alias;

  let pathname = normalisePercent(u.pathname);
  if (opts.stripIndex) pathname = pathname.replace(INDEX, '/');
  if (opts.trailingSlash === 'strip' && pathname.length > 1) pathname = pathname.replace(/\/+$/, '') || '/';

  let query = '';
  if (!opts.dropQuery) {
    const drop = dropper(opts.dropParams);
    const keep = keeper(opts.keepParams);
    const kept = [...u.searchParams].filter(([name]) => keep(name) && !drop(name));
    kept.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (kept.length > 0) query = `?${new URLSearchParams(kept).toString()}`;
  }
  const out = `${u.protocol}//${u.host}${pathname}${query}`;
  if (out.length > maxChars) throw new UriError(`uri is longer than ${maxChars} characters`);
  return out;
}

/** A thread id: `^[a-z0-9][a-z0-9-]{0,47}-[0-9a-f]{32}$`. */
export const THREAD_ID = /^[a-z0-9](?:[a-z0-9-]{0,47})-[0-9a-f]{32}$/;

/**
 * The directory name of a normalised URI's thread: a readable slug of host and path (at most 48 characters,
 * `[a-z0-9-]`) for people browsing the data directory, then `-` and 32 hex digits of the URI's SHA-256, which
 * alone makes the name unique (128 bits: no collision in any realistic number of pages). Deterministic, so any
 * process on any host finds the same thread for the same page without a shared index.
 */
export function threadIdOf(normalisedUri: string): string {
  const hash = createHash('sha256').update(normalisedUri).digest('hex').slice(0, 32);
  let readable = normalisedUri.replace(/^https?:\/\//, '').replace(/[?].*$/, '');
  try {
    readable = decodeURIComponent(readable);
  } catch {
    // Keep the escapes: they only feed the slug.
  }
  const slug =
    readable
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+/, '')
      .slice(0, 48)
      .replace(/-+$/, '') || 'page';
  return `${slug}-${hash}`;
}
