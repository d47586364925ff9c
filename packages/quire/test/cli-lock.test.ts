/** `quire lock`: running a command under a lock. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { assertError, quire, type Running, start, tempDir, text } from './fixtures/cli-helpers.js';

test('lock runs the command and exits with its exit code', async (t) => {
  const file = path.join(tempDir(t), 'lk');
  const ok = await quire(t, ['lock', file, '--', 'sh', '-c', 'echo "$0 $1"', 'a', 'b']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(text(ok), 'a b\n');
  assert.equal((await quire(t, ['lock', file, '--', 'sh', '-c', 'exit 3'])).code, 3);
  assert.ok(fs.existsSync(file));
  const missing = await quire(t, ['lock', file, '--', 'no-such-command-quire-test']);
  assertError(missing, 127, 'quire lock', /command not found/);
});

/** `quire lock ARGS -- COMMAND` whose command prints "held" and then holds the lock until stdin closes. */
async function holder(t: TestContext, args: string[]): Promise<Running> {
  const h = start(t, ['lock', ...args, '--', 'sh', '-c', 'echo held; cat >/dev/null']);
  assert.deepEqual(await h.lines(1), ['held']);
  return h;
}

test('lock excludes a second lock on the same path, which exits 75 after --timeout', async (t) => {
  const file = path.join(tempDir(t), 'lk');
  const first = await holder(t, [file]);
  const second = await quire(t, ['lock', file, '--timeout', '100', '--', 'echo', 'ran']);
  assertError(second, 75, 'quire lock', /timed out after 100 ms waiting for the lock on /);
  first.child.stdin?.end();
  const r = await first.done;
  assert.equal(r.code, 0, r.stderr);
  const third = await quire(t, ['lock', file, '--timeout', '0', '--', 'echo', 'ran']);
  assert.equal(third.code, 0, third.stderr);
  assert.equal(text(third), 'ran\n');
});

test('shared locks admit each other and exclude an exclusive one', async (t) => {
  const file = path.join(tempDir(t), 'lk');
  const first = await holder(t, [file, '--shared']);
  assert.equal((await quire(t, ['lock', file, '--shared', '--timeout', '0', '--', 'true'])).code, 0);
  assert.equal((await quire(t, ['lock', file, '--timeout', '0', '--', 'true'])).code, 75);
  first.child.stdin?.end();
  assert.equal((await first.done).code, 0);
});

test('a SIGKILLed quire lock frees its lock even while its command still runs', async (t) => {
  const file = path.join(tempDir(t), 'lk');
  const first = await holder(t, [file]);
  first.child.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');
  // The command (sh, still running) inherited no lock: the kernel dropped it with quire.
  const second = await quire(t, ['lock', file, '--timeout', '0', '--', 'echo', 'ran']);
  assert.equal(second.code, 0, second.stderr);
  first.child.stdin?.end();
  await first.done;
});

test('lock passes SIGTERM on to its command and releases the lock once the command has exited', async (t) => {
  const file = path.join(tempDir(t), 'lk');
  // sh runs a trap only between commands, and `wait` is the one a trapped signal interrupts.
  const script = "trap 'kill $!; echo got TERM; exit 7' TERM; sleep 60 & echo held; wait";
  const h = start(t, ['lock', file, '--', 'sh', '-c', script]);
  assert.deepEqual(await h.lines(1), ['held']);
  h.child.kill('SIGTERM');
  assert.deepEqual(await h.exited, { code: 7, signal: null });
  const r = await h.done;
  assert.equal(text(r), 'held\ngot TERM\n');
  assert.equal((await quire(t, ['lock', file, '--timeout', '0', '--', 'true'])).code, 0);
});
