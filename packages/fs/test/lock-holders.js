/** Lock holders in other threads and processes, driven line by line, for the lock tests. */
import assert from 'node:assert/strict';
import { isQuireError } from '@quire/fs';
import { spawnFixture } from './helpers.js';
/** An assert.rejects/throws validator: a QuireError with this code. */
export function code(expected) {
    return (err) => {
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
    seen = [];
    buf = '';
    stderr = '';
    exited = false;
    wake;
    constructor(child) {
        child.stdout?.setEncoding('utf8').on('data', (d) => {
            this.buf += d;
            const parts = this.buf.split('\n');
            this.buf = parts.pop() ?? '';
            this.seen.push(...parts);
            this.wake?.();
        });
        child.stderr?.setEncoding('utf8').on('data', (d) => {
            this.stderr += d;
        });
        child.on('exit', () => {
            this.exited = true;
            this.wake?.();
        });
    }
    async next(line) {
        for (;;) {
            const got = this.seen.shift();
            if (got === line)
                return;
            if (got !== undefined)
                throw new Error(`expected "${line}", got "${got}"`);
            if (this.exited)
                throw new Error(`child exited before "${line}": ${this.stderr}`);
            await new Promise((resolve) => {
                this.wake = resolve;
            });
            this.wake = undefined;
        }
    }
}
/** A process holding a lock on `file` (or on its sidecar); killed when the test ends. */
export async function holdInProcess(t, file, opts = {}) {
    const child = spawnFixture('lock-hold', [
        file,
        opts.shared ? 'shared' : 'exclusive',
        opts.sidecar ? 'sidecar' : '',
    ]);
    t.after(() => {
        if (child.exitCode === null && child.signalCode === null)
            child.kill('SIGKILL');
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
//# sourceMappingURL=lock-holders.js.map