/**
 * At most `width` tasks at a time, the others waiting in order. A thread's index load holds a few hundred bytes
 * per comment until it is kept or dropped: 64 requests for 64 different big threads must not hold them all at
 * once (at a million comments that ran V8 out of its heap cap), whatever the budgets say.
 */
export class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly width: number) {}

  /** Runs `task` once fewer than `width` others run. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.width) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, if any.
      const next = this.waiting.shift();
      if (next === undefined) this.running--;
      else next();
    }
  }
}
