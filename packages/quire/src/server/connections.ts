import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { Socket } from 'node:net';
import { clientKey } from '../store/address.js';

/**
 * Connection limits: what keeps a flood of slow or idle connections (one header line every 10 s, from one
 * address or ten thousand) from using up the process's descriptors and starving real readers.
 */
export interface ConnectionLimits {
  /** Open connections per client (an IPv4 address or IPv6 /64, as rate limits count); one more is closed at once. */
  perClient: number;
  /** Open connections in all; past it, the connection idle longest without a request is closed to make room. */
  total: number;
  /** Peers exempt from perClient: the reverse proxies every request arrives through (trustProxy). */
  exempt: (address: string) => boolean;
}

interface Tracked {
  socket: Socket;
  key: string;
  /** Requests in progress on the connection. */
  active: number;
  /** When the connection last had nothing to do: opened, or finished its last response. */
  idleSince: number;
}

export interface ConnectionGuard {
  /** Open connections now, and by client. */
  open(): number;
  /** Connections closed by the limits since start: per client, and to make room. */
  closed(): { perClient: number; shed: number };
}

/**
 * Enforces `limits` on `server`. A slow client that never completes its headers never has a request in
 * progress, so it is the first to go when room is needed; a connection serving a request is never closed for
 * room. The per-client cap closes the newest connection, so a client's established ones keep working.
 */
export function limitConnections(server: http.Server, limits: ConnectionLimits): ConnectionGuard {
  const open = new Map<Socket, Tracked>();
  const perKey = new Map<string, number>();
  const stats = { perClient: 0, shed: 0 };
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const key = limits.exempt(address) ? '' : clientKey(address);
    const n = (perKey.get(key) ?? 0) + 1;
    if (key !== '' && n > limits.perClient) {
      stats.perClient++;
      socket.destroy();
      return;
    }
    if (open.size >= limits.total && !shedOne(open, stats)) {
      socket.destroy();
      return;
    }
    perKey.set(key, n);
    const t: Tracked = { socket, key, active: 0, idleSince: performance.now() };
    open.set(socket, t);
    socket.once('close', () => {
      open.delete(socket);
      const left = (perKey.get(key) ?? 1) - 1;
      if (left === 0) perKey.delete(key);
      else perKey.set(key, left);
    });
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const t = open.get(req.socket);
    if (t === undefined) return;
    t.active++;
    res.once('close', () => {
      t.active--;
      if (t.active === 0) t.idleSince = performance.now();
    });
  });
  return { open: () => open.size, closed: () => ({ ...stats }) };
}

/** Closes the connection idle longest; false if every connection is serving a request. */
function shedOne(open: Map<Socket, Tracked>, stats: { shed: number }): boolean {
  let oldest: Tracked | undefined;
  for (const t of open.values()) {
    if (t.active === 0 && (oldest === undefined || t.idleSince < oldest.idleSince)) oldest = t;
  }
  if (oldest === undefined) return false;
  stats.shed++;
  open.delete(oldest.socket);
  oldest.socket.destroy();
  return true;
}

/** The soft and hard limits on open descriptors (Linux: /proc/self/limits), or undefined elsewhere. */
export function openFileLimits(): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line?.match(/(\d+|unlimited)/g) ?? []).map((v) =>
      v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v),
    );
    return soft !== undefined && hard !== undefined ? { soft, hard } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Raises the soft limit on open descriptors to `want` (at most the hard limit), as any process may. Node has no
 * setrlimit, so util-linux's prlimit(1) does it for this process; without prlimit the limit stays. Resolves to
 * the soft limit in force afterwards.
 */
export function raiseOpenFileLimit(want: number): number | undefined {
  const before = openFileLimits();
  if (before === undefined || before.soft >= want) return before?.soft;
  const target = Math.min(want, before.hard);
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${before.hard}`], {
      stdio: 'ignore',
    });
  } catch {
    // No prlimit, or not allowed: the caller sizes its caps to the limit as it is.
  }
  return openFileLimits()?.soft;
}

/**
 * The total connection cap for a descriptor limit: room kept for the store's files, locks, workers and logs
 * (RESERVED_FDS), and no more than MAX_CONNECTIONS however high the limit.
 */
export function connectionCapFor(softLimit: number | undefined): number {
  const fds = softLimit === undefined || !Number.isFinite(softLimit) ? 1024 : softLimit;
  return Math.max(16, Math.min(MAX_CONNECTIONS, fds - RESERVED_FDS));
}

export const RESERVED_FDS = 256;
export const MAX_CONNECTIONS = 16_384;
