import { type DeliveryState, Outbox, type OutboxEvent } from '../../store/outbox.js';
import { type DeliveryContext, deliver } from './deliver.js';
import { DeliveryError } from './mailer.js';

/** Where the worker's complaints go (the app's logger). */
export interface WorkerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How long a process waits before looking again at an event another process is delivering. */
const CLAIMED_ELSEWHERE_MS = 500;

/** Exponential backoff with jitter: retrySeconds × 2^(n-1), capped, then 50-100% of it. */
export function backoffMs(attempt: number, retrySeconds: number, retryMaxSeconds: number): number {
  const full = Math.min(retryMaxSeconds * 1000, retrySeconds * 1000 * 2 ** Math.min(attempt - 1, 30));
  return Math.round(full * (0.5 + Math.random() / 2));
}

/**
 * The delivery worker inside `quire serve`: follows the outbox (every event there is, then each new one, from
 * any process), and delivers each event under its claim, a byte-range lock that one process holds while it
 * delivers (and the kernel drops if it dies). Under the claim it first checks that the event is not done (another
 * process may have finished it a moment ago), so with any number of processes each event is delivered by one.
 * Each target's end is recorded (state, then an outcome record) right after its send: a process killed between
 * the two sends again after restart, the only duplicates there are (at least once).
 */
export class DeliveryWorker {
  private readonly stop = new AbortController();
  private done = new Set<string>();
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = 0;
  /** Resolves when the watch loop ends (close()). */
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly outbox: Outbox,
    private readonly d: DeliveryContext,
    private readonly log: WorkerLog,
    private readonly pollMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.done = await this.outbox.doneHashes();
    this.loop = (async () => {
      try {
        for await (const id of this.outbox.watch(this.stop.signal, this.pollMs)) this.enqueue(id);
      } catch (err) {
        if (!this.stop.signal.aborted) this.log.error({ err }, 'the outbox watch failed; deliveries stopped');
      }
    })();
  }

  /** Stops taking new work; deliveries under way finish or are cut by the process's exit. */
  async close(): Promise<void> {
    this.stop.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.loop;
  }

  private enqueue(id: string): void {
    if (this.stop.signal.aborted || this.queued.has(id)) return;
    this.queued.add(id);
    this.queue.push(id);
    this.pump();
  }

  private later(id: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.enqueue(id);
    }, ms);
    this.timers.add(t);
  }

  private pump(): void {
    while (this.running < this.d.config.notify.concurrency && this.queue.length > 0) {
      const id = this.queue.shift() as string;
      this.queued.delete(id);
      this.running++;
      this.process(id)
        .catch((err: unknown) => {
          this.log.error({ err, event: id }, 'delivering an event failed; trying again later');
          this.later(
            id,
            backoffMs(1, this.d.config.notify.retrySeconds, this.d.config.notify.retryMaxSeconds),
          );
        })
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  private async process(id: string): Promise<void> {
    const event = await this.outbox.read(id);
    if (event === null) return;
    const h = Outbox.hash(event.key);
    if (this.done.has(h)) return;
    const claim = await this.outbox.tryClaim(h);
    if (claim === null) {
      this.later(id, CLAIMED_ELSEWHERE_MS * (0.5 + Math.random()));
      return;
    }
    try {
      if (await this.outbox.isDone(h)) {
        this.done.add(h);
        return;
      }
      const state = await this.outbox.state(h);
      const wait = state.next - Date.now();
      if (wait > 0) this.later(id, wait);
      else await this.attempt(id, event, h, state);
    } finally {
      await claim.release();
    }
  }

  /** One attempt at every target of the event not yet over. */
  private async attempt(id: string, event: OutboxEvent, h: string, state: DeliveryState): Promise<void> {
    const n = this.d.config.notify;
    let retryIn = 0;
    for (const target of event.targets) {
      if (state.finished[target] !== undefined) continue;
      if (this.stop.signal.aborted) return;
      const attempt = (state.attempts[target] ?? 0) + 1;
      state.attempts[target] = attempt;
      const base = {
        event: id,
        key: event.key,
        target,
        attempt,
        at: new Date(this.d.clock()).toISOString(),
        pid: process.pid,
      };
      try {
        const r = await deliver(this.d, event, h, target);
        state.finished[target] = r.end;
        if (r.reason !== undefined) state.reasons[target] = r.reason;
        // The last target's end is recorded by finish() below: no state write for it.
        if (!event.targets.every((t) => state.finished[t] !== undefined))
          await this.outbox.saveState(h, state);
        await this.outbox.record({
          ...base,
          outcome: r.end === 'skipped' ? 'skipped' : 'delivered',
          ...(r.reason === undefined ? {} : { reason: r.reason }),
        });
      } catch (err) {
        const e = err instanceof DeliveryError ? err : new DeliveryError(String(err), false);
        state.reasons[target] = e.message;
        const giveUp = e.permanent || attempt >= n.maxAttempts;
        if (giveUp) state.finished[target] = 'given-up';
        else retryIn = Math.max(retryIn, backoffMs(attempt, n.retrySeconds, n.retryMaxSeconds));
        await this.outbox.saveState(h, state);
        await this.outbox.record({ ...base, outcome: 'failed', reason: e.message });
        if (giveUp) await this.outbox.record({ ...base, outcome: 'given-up', reason: e.message });
        this.log.warn(
          { event: id, target, attempt, reason: e.message, givenUp: giveUp },
          'a delivery failed',
        );
      }
    }
    if (event.targets.every((t) => state.finished[t] !== undefined)) {
      await this.outbox.finish(
        h,
        id,
        event.targets.some((t) => state.finished[t] === 'given-up'),
      );
      this.done.add(h);
      return;
    }
    // Wall time, not the service's clock: retries are timers.
    state.next = Date.now() + retryIn;
    await this.outbox.saveState(h, state);
    this.later(id, retryIn);
  }
}
