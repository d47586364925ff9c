/** isProcessAlive: the liveness rule of sweepTemps, exported for callers that mark their own work by pid. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { isProcessAlive } from '../src/index.js';

test('a running process is alive, and the same pid once it has exited and been reaped is not', async () => {
  assert.equal(isProcessAlive(process.pid), true);
  const child = spawn(process.execPath, ['-e', 'process.stdin.resume()'], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const pid = child.pid as number;
  await new Promise((resolve) => child.once('spawn', resolve));
  assert.equal(isProcessAlive(pid), true);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  assert.equal(isProcessAlive(pid), false);
});
