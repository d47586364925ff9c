/** Lock holders in other threads and processes, driven line by line, for the lock tests. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { isQuireError, type QuireErrorCode } from '@quire/fs';
import { spawnFixture } from './helpers.js';

/** An assert.rejects/throws validator: a QuireError with this code. */
export function code(expected: QuireErrorCode) {
  return (err: unknown): true => {
    assert.ok(isQuireError(err), `expected a QuireError, got ${String(err)}`);
    assert.equal(err.code, expected, err.message);
    return true;
  };
}

/**
 * Reads a child's stdout line by line; next(line) resolves when that line comes, rejects if the child exits
 * first.
 */
export class Lines {
  private readonly seen: string[] = [];
  private buf = '';
  private stderr = '';
  private exited = false;
  private wake: (() => void) | undefined;

  constructor(child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      const parts = this.buf.split('\n');
      this.buf = parts.pop() ?? '';
      this.seen.push(...parts);
      this.wake?.();
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    child.on('exit', () => {
      this.exited = true;
      this.wake?.();
    });
  }

  async next(line: string): Promise<void> {
    for (;;) {
      const got = this.seen.shift();
      if (got === line) return;
      if (got !== undefined) throw new Error(`expected "${line}", got "${got}"`);
      if (this.exited) throw new Error(`child exited before "${line}": ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}

export interface Holder {
  child: ChildProcess;
  release(): Promise<void>;
}

/** A process holding a lock on `file` (or on its sidecar); killed when the test ends. */
export async function holdInProcess(
  t: TestContext,
  file: string,
  opts: { shared?: boolean; sidecar?: boolean } = {},
): Promise<Holder> {
  const child = spawnFixture('lock-hold', [
    file,
    opts.shared ? 'shared' : 'exclusive',
    opts.sidecar ? 'sidecar' : '',
  ]);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines = new Lines(child);
  await lines.next('locked');
  return {
    child,
    async release() {
      child.kill('SIGUSR2');
      await lines.next('released');
    },
  };
}
