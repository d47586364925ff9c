/** Following a spool: ids as records are published, by any process or host, none missed, none twice. */
import fs from 'node:fs';
import { compareNames } from './names.js';
import type { SpoolContext } from './spool-context.js';
import { listIds } from './spool-list.js';

/** Options of Spool.watch. */
export interface WatchOptions {
  /** Yield only ids that sort after this id, then every id published later. Default: only ids published later. */
  after?: string;
  /** Stops the iteration. */
  signal?: AbortSignal;
  /**
   * How often to rescan when no change notification arrives (ms, default 1000). Notifications (inotify) are
   * only a hint: they can be coalesced, dropped, or absent on network filesystems; the rescan is the truth.
   */
  pollMs?: number;
  /** Use change notifications as a hint (default true); false polls only. */
  notify?: boolean;
}

/** Wakes a sleeping rescan early (a change notification, an abort); remembers a wake-up that came while awake. */
class Waker {
  dirty = false;
  private wake: (() => void) | undefined;

  readonly poke = (): void => {
    this.dirty = true;
    this.wake?.();
  };

  /** Sleeps `ms`, or until poked. */
  async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }
}

/** Spool.watch(), stopped by `opts.signal` or by `closed` (the spool's close()). */
export async function* watchIds(
  spool: SpoolContext,
  opts: WatchOptions,
  closed: AbortSignal,
): AsyncGenerator<string> {
  const after = opts.after === undefined ? undefined : spool.checkId(opts.after);
  const pollMs = opts.pollMs ?? 1000;
  const signal = opts.signal;
  const stopped = () => signal?.aborted === true || closed.aborted;
  const seen = new Set<string>();
  let first = true;
  const waker = new Waker();
  let watcher: fs.FSWatcher | undefined;
  if (opts.notify !== false) {
    try {
      watcher = fs.watch(spool.dir, { persistent: false }, waker.poke);
      watcher.on('error', () => {});
    } catch {
      // No notifications here (some network filesystems): polling alone still finds everything.
    }
  }
  signal?.addEventListener('abort', waker.poke);
  closed.addEventListener('abort', waker.poke);
  try {
    while (!stopped()) {
      waker.dirty = false;
      for (const id of await listIds(spool)) {
        if (seen.has(id)) continue;
        seen.add(id);
        // The first scan yields only what sorts after `after`; everything that appears later is new.
        if (first && (after === undefined || compareNames(id, after) <= 0)) continue;
        yield id;
        if (stopped()) return;
      }
      first = false;
      if (!waker.dirty) await waker.sleep(pollMs);
    }
  } finally {
    watcher?.close();
    signal?.removeEventListener('abort', waker.poke);
    closed.removeEventListener('abort', waker.poke);
  }
}
