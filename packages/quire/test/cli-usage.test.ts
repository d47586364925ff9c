/** The `quire` command line itself: usage errors, help and exit codes. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { assertError, quire, records, tempDir, text } from './fixtures/cli-helpers.js';

const COMMANDS = ['serve', 'hash-password', 'append', 'ls', 'cat', 'tail', 'fsck', 'lock'];

test('usage errors exit 2 with an error line and the usage line', async (t) => {
  const dir = tempDir(t);
  const cases: [string[], RegExp][] = [
    [['ls'], /^quire ls: missing DIR$/],
    [['ls', dir, 'extra'], /^quire ls: unexpected argument 'extra'$/],
    [['ls', dir, '--bogus'], /^quire ls: unknown option '--bogus'$/],
    [['ls', dir, '-n', 'many'], /^quire ls: -n takes a whole number/],
    [['ls', dir, '--after', '../x'], /^quire ls: not a record id/],
    [['cat', dir], /^quire cat: missing ID$/],
    [['tail', '--poll', '0', dir], /^quire tail: --poll takes a whole number 1 or more/],
    [['append', dir, '--suffix', 'json'], /^quire append: suffix must be/],
    [['lock', path.join(dir, 'lk')], /^quire lock: missing COMMAND/],
    [['lock', path.join(dir, 'lk'), '--timeout', '-1', '--', 'true'], /^quire lock: /],
  ];
  // Input, so that append does not stop at empty input first.
  const results = await Promise.all(cases.map(([args]) => quire(t, args, 'x')));
  for (const [i, [args, pattern]] of cases.entries()) {
    const r = results[i]!;
    assertError(r, 2, `quire ${args[0]}`, pattern);
    assert.match(r.stderr.split('\n')[1]!, new RegExp(`^Usage: quire ${args[0]} `));
  }
  const unknown = await quire(t, ['frobnicate']);
  assertError(unknown, 2, 'quire', /unknown command 'frobnicate'/, false);
  const none = await quire(t, []);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Usage: quire COMMAND/m);
});

test('every command has --help and quire help COMMAND, which exit 0 and print usage and examples', async (t) => {
  const top = await quire(t, ['--help']);
  assert.equal(top.code, 0);
  for (const name of COMMANDS) assert.match(text(top), new RegExp(`^  ${name} `, 'm'));
  await Promise.all(
    COMMANDS.map(async (name) => {
      const r = await quire(t, [name, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(text(r), new RegExp(`^Usage: quire ${name} `));
      assert.match(text(r).split('\nExamples:\n')[1] ?? '', new RegExp(`^  .*quire ${name} `));
      assert.equal(text(await quire(t, ['help', name])), text(r));
    }),
  );
  assertError(await quire(t, ['help', 'frobnicate']), 2, 'quire help', /unknown command/, false);
});

test('a number option given a negative or non-number value says what it takes, naming the flag as typed', async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0']);
  const cases: [string[], RegExp][] = [
    [['ls', dir, '-n', '-5'], /^quire ls: -n takes a whole number \(0 or more\), got "-5"$/],
    [['ls', dir, '--limit', '-5'], /^quire ls: --limit takes a whole number \(0 or more\), got "-5"$/],
    [['ls', dir, '--limit=-1'], /^quire ls: --limit takes a whole number/],
    [['tail', '-n', 'abc', dir], /^quire tail: -n takes a whole number \(0 or more\), got "abc"$/],
    [['tail', '--lines', 'abc', dir], /^quire tail: --lines takes a whole number/],
    [['tail', '-n-2', dir], /^quire tail: -n takes a whole number/],
    [
      ['lock', path.join(dir, 'lk'), '--timeout', '-1', '--', 'true'],
      /^quire lock: --timeout takes a whole number \(0 or more\), got "-1"$/,
    ],
    [['serve', '--port', '-1'], /^quire serve: --port takes a whole number/],
    [['ls', dir, '-n'], /^quire ls: option '-n, --limit' needs a value$/],
  ];
  const results = await Promise.all(cases.map(([args]) => quire(t, args)));
  for (const [i, [args, pattern]] of cases.entries()) {
    assertError(results[i]!, 2, `quire ${args[0]}`, pattern);
    assert.doesNotMatch(results[i]!.stderr, /ambiguous/);
  }
});
