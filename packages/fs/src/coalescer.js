/**
 * Single flight that never hands a caller a run begun before its call. next() joins the run queued to start
 * next, or queues one behind the run in progress; it never joins the run in progress, which may have read the
 * world before the caller changed it. So whatever the caller did before calling next() is seen by the run it
 * gets, while any number of concurrent callers share about two runs: the one in progress and the queued one.
 *
 * The library's directory group commit is built on it (concurrent publishes in one directory share an fsync
 * that began after their own link or rename), and so is a cache that reloads for many readers at once.
 */
export class Coalescer {
    run;
    onIdle;
    running;
    queued;
    /**
     * @param run does the work; called again for each new run, never while one is running.
     * @param onIdle called when a run ends and none is queued (to drop the Coalescer from a map, say).
     */
    constructor(run, onIdle = () => { }) {
        this.run = run;
        this.onIdle = onIdle;
    }
    /** The result of a run that begins at or after this call; concurrent callers share it. */
    next() {
        if (this.queued)
            return this.queued;
        if (!this.running)
            return this.start();
        // A failed run only fails its own callers; the queued run starts after it either way.
        const queued = this.running
            .catch(() => undefined)
            .then(() => {
            this.queued = undefined;
            return this.start();
        });
        this.queued = queued;
        return queued;
    }
    start() {
        let run;
        try {
            run = this.run();
        }
        catch (err) {
            run = Promise.reject(err);
        }
        const tracked = run.finally(() => {
            if (this.running !== tracked)
                return;
            this.running = undefined;
            if (!this.queued)
                this.onIdle();
        });
        this.running = tracked;
        return tracked;
    }
}
//# sourceMappingURL=coalescer.js.map