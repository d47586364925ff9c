/** `quire hash-password`: the admin password's hash, from standard input or typed on a terminal. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { verifyPassword } from '../src/server/password.js';
import { assertError, bin, quire, text } from './fixtures/cli-helpers.js';

const PASSWORD = 'correct horse battery';

test('hash-password prints an scrypt hash of the line on standard input and refuses a short password', async (t) => {
  const r = await quire(t, ['hash-password'], `${PASSWORD}\n`);
  assert.equal(r.code, 0, r.stderr);
  const hash = text(r).trimEnd();
  assert.match(hash, /^scrypt\$/);
  assert.ok(await verifyPassword(PASSWORD, hash), 'the final newline is not part of the password');
  assertError(await quire(t, ['hash-password'], 'short\n'), 2, 'quire hash-password', /at least 8/, false);
});

/**
 * Runs `quire hash-password` on a terminal (script(1) gives it one) and answers each prompt once it shows,
 * with the next of `answers`. Resolves with everything the terminal showed.
 */
async function onTerminal(t: TestContext, answers: string[]): Promise<string> {
  const cmd = `'${process.execPath}' '${bin}' hash-password`;
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let shown = '';
  let prompts = 0;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    shown += d;
    for (; prompts < (shown.match(/(Password \(not shown\)|Again): /g) ?? []).length; prompts++) {
      child.stdin.write(`${answers[prompts] ?? ''}\r`);
    }
  });
  await new Promise((resolve) => child.on('close', resolve));
  return shown.replaceAll('\r', '');
}

// The timeout ends a quire that never prompts (and so is never answered).
test('on a terminal hash-password asks twice without showing the password', {
  timeout: 60_000,
}, async (t) => {
  if (spawnSync('script', ['--version']).status !== 0) return t.skip('no script(1) here');
  const shown = await onTerminal(t, [PASSWORD, PASSWORD]);
  assert.doesNotMatch(shown, /horse/, 'the password is not echoed');
  const hash = /^(scrypt\$\S+)$/m.exec(shown)?.[1];
  assert.ok(hash !== undefined, shown);
  assert.ok(await verifyPassword(PASSWORD, hash));
  const differ = await onTerminal(t, [PASSWORD, 'another password']);
  assert.match(differ, /quire hash-password: the two passwords differ; nothing printed/);
  assert.doesNotMatch(differ, /scrypt\$/);
});
