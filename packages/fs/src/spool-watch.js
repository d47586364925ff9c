/** Following a spool: ids as records are published, by any process or host, none missed, none twice. */
import fs from 'node:fs';
import { compareNames } from './names.js';
import { listIds } from './spool-list.js';
/** Wakes a sleeping rescan early (a change notification, an abort); remembers a wake-up that came while awake. */
class Waker {
    dirty = false;
    wake;
    poke = () => {
        this.dirty = true;
        this.wake?.();
    };
    /** Sleeps `ms`, or until poked. */
    async sleep(ms) {
        await new Promise((resolve) => {
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
export async function* watchIds(spool, opts, closed) {
    const after = opts.after === undefined ? undefined : spool.checkId(opts.after);
    const pollMs = opts.pollMs ?? 1000;
    const signal = opts.signal;
    const stopped = () => signal?.aborted === true || closed.aborted;
    const seen = new Set();
    let first = true;
    const waker = new Waker();
    let watcher;
    if (opts.notify !== false) {
        try {
            watcher = fs.watch(spool.dir, { persistent: false }, waker.poke);
            watcher.on('error', () => { });
        }
        catch {
            // No notifications here (some network filesystems): polling alone still finds everything.
        }
    }
    signal?.addEventListener('abort', waker.poke);
    closed.addEventListener('abort', waker.poke);
    try {
        while (!stopped()) {
            waker.dirty = false;
            for (const id of await listIds(spool)) {
                if (seen.has(id))
                    continue;
                seen.add(id);
                // The first scan yields only what sorts after `after`; everything that appears later is new.
                if (first && (after === undefined || compareNames(id, after) <= 0))
                    continue;
                yield id;
                if (stopped())
                    return;
            }
            first = false;
            if (!waker.dirty)
                await waker.sleep(pollMs);
        }
    }
    finally {
        watcher?.close();
        signal?.removeEventListener('abort', waker.poke);
        closed.removeEventListener('abort', waker.poke);
    }
}
//# sourceMappingURL=spool-watch.js.map