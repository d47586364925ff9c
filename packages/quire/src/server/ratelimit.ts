import type { RateLimit } from '../config.js';

/**
 * Fixed-window counters per (bucket, client) in this process's memory. Several server instances each count
 * on their own (a client gets up to N times the limit across N instances), and a restart forgets the counts:
 * the limits slow abuse down, they are not an accounting system.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private lastSweep = 0;

  constructor(private readonly clock: () => number) {}

  /**
   * Counts one event; returns 0 if it is within the limit, else the seconds until the window ends (for
   * Retry-After). A limit with max 0 never refuses.
   */
  hit(bucket: string, client: string, limit: RateLimit): number {
    if (limit.max <= 0 || limit.windowSeconds <= 0) return 0;
    const now = this.clock();
    const windowMs = limit.windowSeconds * 1000;
    this.sweep(now);
    const key = `${bucket}\0${client}`;
    let w = this.windows.get(key);
    if (w === undefined || now - w.start >= windowMs || now < w.start) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= limit.max) return 0;
    return Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
  }

  /** Forgets windows older than an hour (the longest sensible window) at most once a minute. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000 && this.windows.size < 100_000) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows) if (now - w.start > 3600_000) this.windows.delete(k);
  }
}
