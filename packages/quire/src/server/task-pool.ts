import { parentPort, Worker } from 'node:worker_threads';

export type TaskPoolErrorCode = 'task-timeout' | 'task-busy' | 'task-aborted' | 'task-closed' | 'task-failed';

/** Why a task did not return a value. `code` is stable; the message is for people. */
export class TaskPoolError extends Error {
  override readonly name = 'TaskPoolError';
  constructor(
    readonly code: TaskPoolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * How long the service's pools keep an idle worker: long enough that a burst of long comments or logins starts
 * one worker (~50-100 ms of a core), short enough that a site where none come back gets the memory back.
 */
export const WORKER_IDLE_MS = 30_000;

export interface TaskPoolOptions {
  /** The worker's module: it answers each `{ id, input }` message with `{ id, value }` or `{ id, error }`. */
  file: URL;
  /** Worker threads at most, started on first use. */
  size: number;
  /** Tasks waiting for a worker at most; one more is refused at once with 'task-busy'. */
  maxQueue: number;
  /** A running task older than this is killed with its worker ('task-timeout'). */
  timeoutMs: number;
  /**
   * A worker idle this long is ended (the next task starts another): each worker is a V8 isolate of its own,
   * ~18 MB of RSS while it lives (measured: 9 MB of it comes back when it ends). Undefined: workers stay.
   */
  idleMs?: number;
}

interface Task<In, Out> {
  input: In;
  resolve: (v: Out) => void;
  reject: (e: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

interface Slot<In, Out> {
  worker: Worker;
  /**
   * Whether the worker has loaded its module (its first message says so). Tasks wait until then, so that a task's
   * deadline never includes a worker's start, which under load takes longer than many deadlines.
   */
  ready: boolean;
  task: Task<In, Out> | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Ends the worker once it has been idle for `idleMs`. */
  idleTimer: NodeJS.Timeout | undefined;
  id: number;
}

type Reply<Out> = { id: number; value: Out } | { id: number; error: string } | { ready: true };

/**
 * CPU work with a hard bound, off the event loop and off libuv's threadpool: each task runs on a worker thread
 * of its own pool, and one that runs past `timeoutMs` or whose caller aborts is stopped by terminating its
 * worker (the only way to stop a synchronous computation in JavaScript), which the next task replaces. So no
 * input can hold the event loop, and the threadpool stays free for file I/O. The queue is bounded too: a flood
 * is refused at once instead of waiting behind itself.
 */
export class TaskPool<In, Out> {
  private readonly slots: Slot<In, Out>[] = [];
  private readonly queue: Task<In, Out>[] = [];
  private closed = false;
  private nextId = 0;

  constructor(private readonly opts: TaskPoolOptions) {}

  /** Runs one task. Rejects with a TaskPoolError when refused, timed out, aborted or failed in the worker. */
  run(input: In, signal?: AbortSignal): Promise<Out> {
    if (this.closed) return Promise.reject(new TaskPoolError('task-closed', 'the pool is closed'));
    if (signal?.aborted) return Promise.reject(new TaskPoolError('task-aborted', 'the caller went away'));
    if (this.queue.length >= this.opts.maxQueue + this.freeSlots()) {
      return Promise.reject(new TaskPoolError('task-busy', 'too many tasks are waiting'));
    }
    return new Promise<Out>((resolve, reject) => {
      const task: Task<In, Out> = { input, resolve, reject, signal, onAbort: () => this.abort(task) };
      signal?.addEventListener('abort', task.onAbort, { once: true });
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Workers alive now (started or starting). */
  get workers(): number {
    return this.slots.length;
  }

  /** Stops every worker; queued and running tasks reject with 'task-closed'. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0))
      this.settle(t, new TaskPoolError('task-closed', 'the pool is closed'));
    await Promise.all(
      this.slots.splice(0).map((s) => this.stop(s, new TaskPoolError('task-closed', 'closed'))),
    );
  }

  /** Tasks that need not wait for another to finish: idle workers (started or starting), and room for more. */
  private freeSlots(): number {
    return this.slots.filter((s) => s.task === undefined).length + this.opts.size - this.slots.length;
  }

  /** An idle slot, ready ones first; a new one (not ready yet) if there is none and the pool has room. */
  private idleSlot(): Slot<In, Out> | undefined {
    const idle =
      this.slots.find((s) => s.task === undefined && s.ready) ?? this.slots.find((s) => s.task === undefined);
    if (idle !== undefined || this.slots.length >= this.opts.size) return idle;
    const slot: Slot<In, Out> = {
      worker: new Worker(this.opts.file),
      ready: false,
      task: undefined,
      timer: undefined,
      idleTimer: undefined,
      id: 0,
    };
    // A starting worker keeps the process alive (a task waits for it); an idle one never does (see onReply).
    slot.worker.on('message', (m: Reply<Out>) => this.onReply(slot, m));
    slot.worker.on('error', (err) => this.onCrash(slot, err));
    slot.worker.on('exit', () => this.onCrash(slot, new Error('the worker exited')));
    this.slots.push(slot);
    return slot;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.idleSlot();
      // A starting worker takes the queue's first task when it says it is ready.
      if (slot === undefined || !slot.ready) return;
      const task = this.queue.shift() as Task<In, Out>;
      clearTimeout(slot.idleTimer);
      slot.task = task;
      slot.id = ++this.nextId;
      slot.timer = setTimeout(() => {
        void this.replace(
          slot,
          new TaskPoolError('task-timeout', `took longer than ${this.opts.timeoutMs} ms`),
        );
      }, this.opts.timeoutMs);
      slot.worker.ref();
      slot.worker.postMessage({ id: slot.id, input: task.input });
    }
  }

  private onReply(slot: Slot<In, Out>, m: Reply<Out>): void {
    if ('ready' in m) {
      slot.ready = true;
      this.dispatch();
      if (slot.task === undefined) this.idle(slot);
      return;
    }
    const task = slot.task;
    if (task === undefined || m.id !== slot.id) return;
    this.release(slot);
    if ('error' in m) this.settle(task, new TaskPoolError('task-failed', m.error));
    else this.settle(task, undefined, m.value);
    this.dispatch();
    if (slot.task === undefined) this.idle(slot);
  }

  /** The slot waits for a task: it does not keep the process alive, and ends after `idleMs`. */
  private idle(slot: Slot<In, Out>): void {
    slot.worker.unref();
    const ms = this.opts.idleMs;
    if (ms === undefined) return;
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (slot.task === undefined) void this.replace(slot, new TaskPoolError('task-closed', 'idle'));
    }, ms);
    slot.idleTimer.unref();
  }

  private onCrash(slot: Slot<In, Out>, err: Error): void {
    if (!this.slots.includes(slot)) return;
    void this.replace(slot, new TaskPoolError('task-failed', err.message));
  }

  private abort(task: Task<In, Out>): void {
    const queued = this.queue.indexOf(task);
    const err = new TaskPoolError('task-aborted', 'the caller went away');
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(task, err);
      return;
    }
    const slot = this.slots.find((s) => s.task === task);
    if (slot !== undefined) void this.replace(slot, err);
  }

  /** Ends the slot's worker and task; a new worker is started when a task needs one. */
  private async replace(slot: Slot<In, Out>, err: TaskPoolError): Promise<void> {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    await this.stop(slot, err);
    this.dispatch();
  }

  private async stop(slot: Slot<In, Out>, err: TaskPoolError): Promise<void> {
    const task = slot.task;
    this.release(slot);
    if (task !== undefined) this.settle(task, err);
    slot.worker.removeAllListeners('exit');
    await slot.worker.terminate();
  }

  private release(slot: Slot<In, Out>): void {
    clearTimeout(slot.timer);
    clearTimeout(slot.idleTimer);
    slot.timer = undefined;
    slot.task = undefined;
    slot.worker.unref();
  }

  private settle(task: Task<In, Out>, err: Error | undefined, value?: Out): void {
    task.signal?.removeEventListener('abort', task.onAbort);
    if (err !== undefined) task.reject(err);
    else task.resolve(value as Out);
  }
}

/** The worker side: answers each task with `fn(input)`, or with the message of what it threw. */
export function serveTasks<In, Out>(fn: (input: In) => Out): void {
  const port = parentPort;
  if (port === null) throw new Error('serveTasks runs in a worker thread');
  port.on('message', (m: { id: number; input: In }) => {
    try {
      port.postMessage({ id: m.id, value: fn(m.input) });
    } catch (err) {
      port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
  // The worker's module and its imports are loaded: deadlines may start.
  port.postMessage({ ready: true });
}
