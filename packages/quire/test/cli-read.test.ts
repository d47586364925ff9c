/** `quire ls`, `cat` and `tail`: reading a spool. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { assertError, quire, records, start, tempDir, text } from './fixtures/cli-helpers.js';

test('ls lists ids oldest first and honours -r, -n, --after, --before and --suffix', async (t) => {
  const dir = tempDir(t);
  // Counters sort as numbers (2 before 10), seconds before counters; other names are not records.
  const ids = ['20261126T101459Z-5', '20261126T101500Z-2', '20261126T101500Z-10', '20261126T101501Z-0.json'];
  records(dir, [ids[2]!, ids[0]!, ids[3]!, ids[1]!, 'README', '.hidden']);
  const ls = async (...args: string[]) => {
    const r = await quire(t, ['ls', dir, ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    return text(r).split('\n').slice(0, -1);
  };
  assert.deepEqual(await ls(), ids);
  assert.deepEqual(await ls('-r'), [...ids].reverse());
  assert.deepEqual(await ls('-n', '2'), ids.slice(0, 2));
  assert.deepEqual(await ls('--reverse', '--limit', '1'), ids.slice(-1));
  assert.deepEqual(await ls('--after', ids[0]!, '--before', ids[3]!), ids.slice(1, 3));
  assert.deepEqual(await ls('--suffix', '.json'), ids.slice(3));
  assert.deepEqual(await ls('-n', '0'), []);
});

test('cat prints several records in the order given', async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0', '20261126T101500Z-1']);
  const r = await quire(t, ['cat', dir, '20261126T101500Z-1', '20261126T101500Z-0']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(text(r), 'content of 20261126T101500Z-1content of 20261126T101500Z-0');
  assert.equal(r.stderr, '');
});

test('cat of a missing id still prints the others, names the missing one on stderr and exits 1', async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0']);
  const r = await quire(t, ['cat', dir, '20261126T101500Z-7', '20261126T101500Z-0']);
  assert.equal(r.code, 1);
  assert.equal(text(r), 'content of 20261126T101500Z-0');
  assert.equal(r.stderr, 'quire cat: 20261126T101500Z-7: no such record\n');
});

test('cat refuses an id that is not a record name with exit 2 before reading anything', async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'spool');
  records(dir, ['20261126T101500Z-0']);
  fs.writeFileSync(path.join(root, 'secret'), 'secret');
  for (const bad of ['../secret', '/etc/passwd', '20261126T101500Z-0/..']) {
    const r = await quire(t, ['cat', dir, '20261126T101500Z-0', bad]);
    assertError(r, 2, 'quire cat', /not a record id/);
  }
});

test('ls, cat, tail and fsck on a missing DIR exit 1 with one line and do not create it', async (t) => {
  const dir = path.join(tempDir(t), 'nope');
  for (const args of [
    ['ls', dir],
    ['cat', dir, '20261126T101500Z-0'],
    ['tail', dir],
    ['fsck', dir],
  ]) {
    const r = await quire(t, args);
    assertError(r, 1, `quire ${args[0]}`, /nope: no such directory$/);
    assert.equal(fs.existsSync(dir), false);
  }
});

test('append and ls on a DIR that is a file exit 1 with one line', async (t) => {
  const file = path.join(tempDir(t), 'file');
  fs.writeFileSync(file, 'not a spool');
  assertError(await quire(t, ['append', file], 'x'), 1, 'quire append', /file: not a directory$/);
  assertError(await quire(t, ['ls', file]), 1, 'quire ls', /file: not a directory$/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'not a spool');
});

test('tail -n prints the newest N ids, oldest first', async (t) => {
  const dir = tempDir(t);
  const ids = Array.from({ length: 12 }, (_, i) => `20261126T101500Z-${i}`);
  records(dir, ids);
  const tail = async (...args: string[]) => text(await quire(t, ['tail', ...args, dir]));
  assert.equal(await tail('-n', '3'), `${ids.slice(-3).join('\n')}\n`);
  assert.equal(await tail(), `${ids.slice(-10).join('\n')}\n`);
  assert.equal(await tail('-n', '0'), '');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`tail -f prints ids that another process appends and exits 0 on ${signal}`, async (t) => {
    const dir = tempDir(t);
    records(dir, ['20261126T101500Z-0', '20261126T101500Z-1']);
    const tail = start(t, ['tail', '-f', '-n', '1', '--poll', '200', dir]);
    assert.deepEqual(await tail.lines(1), ['20261126T101500Z-1']);
    const appended: string[] = [];
    for (const body of ['one', 'two']) {
      const r = await quire(t, ['append', dir], body);
      assert.equal(r.code, 0, r.stderr);
      appended.push(text(r).trimEnd());
    }
    assert.deepEqual(new Set(await tail.lines(3)), new Set(['20261126T101500Z-1', ...appended]));
    tail.child.kill(signal);
    const r = await tail.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(text(r).split('\n').length, 4, 'nothing printed twice');
  });
}
