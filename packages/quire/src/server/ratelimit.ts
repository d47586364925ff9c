import type { RateLimit } from '../config.js';
import type { SharedLimits } from '../store/shared-state.js';

/**
 * Fixed-window counters per (bucket, client), shared by every instance on the data directory
 * (store/shared-state.ts): N instances enforce one limit, not N. Windows are aligned to the clock (a window of
 * 60 s is a clock minute), so every instance agrees which window a hit is in. The limits slow abuse down; they
 * are not an accounting system: a power cut may forget the counts.
 */
export class RateLimiter {
  constructor(
    private readonly shared: SharedLimits,
    private readonly clock: () => number,
  ) {}

  /**
   * Counts one event; resolves to 0 if it is within the limit, else the seconds until the window ends (for
   * Retry-After). A limit with max 0 never refuses and costs nothing.
   */
  async hit(bucket: string, client: string, limit: RateLimit): Promise<number> {
    if (limit.max <= 0 || limit.windowSeconds <= 0) return 0;
    const now = this.clock();
    const windowMs = limit.windowSeconds * 1000;
    if (await this.shared.hit(bucket, client, limit.max, windowMs, now)) return 0;
    const end = (Math.floor(now / windowMs) + 1) * windowMs;
    return Math.max(1, Math.ceil((end - now) / 1000));
  }
}
