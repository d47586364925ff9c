/** `quire append`: publishing standard input as a record. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { assertError, ID, quire, tempDir, text } from './fixtures/cli-helpers.js';

test('append publishes standard input as a record holding exactly its bytes and prints the id', async (t) => {
  const dir = path.join(tempDir(t), 'new', 'spool');
  // Every byte value, over several pipe reads, without a final newline.
  const input = Buffer.concat([randomBytes(200_000), Buffer.from([...Array(256).keys()])]);
  const r = await quire(t, ['append', dir], input);
  assert.equal(r.code, 0, r.stderr);
  const id = text(r).trimEnd();
  assert.match(id, ID);
  assert.equal(text(r), `${id}\n`);
  assert.deepEqual(fs.readFileSync(path.join(dir, id)), input);
});

test('append names the record with --suffix and --no-fsync still publishes it', async (t) => {
  const dir = tempDir(t);
  const r = await quire(t, ['append', dir, '--suffix', '.json', '--no-fsync'], '{"a":1}');
  assert.equal(r.code, 0, r.stderr);
  const id = text(r).trimEnd();
  assert.match(id, /^\d{8}T\d{6}Z-\d+\.json$/);
  assert.equal(fs.readFileSync(path.join(dir, id), 'utf8'), '{"a":1}');
});

test('append with the same --key twice prints the same id and publishes one record', async (t) => {
  const dir = tempDir(t);
  const first = await quire(t, ['append', dir, '--key', 'msg-42'], 'hello');
  const second = await quire(t, ['append', dir, '--key', 'msg-42'], 'hello');
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);
  assert.match(text(first).trimEnd(), ID);
  assert.equal(text(second), text(first));
  assert.equal(text(await quire(t, ['ls', dir])), text(first));
});

test('append refuses empty standard input with exit 1 and creates nothing, unless --allow-empty', async (t) => {
  const dir = path.join(tempDir(t), 'spool');
  const r = await quire(t, ['append', dir], '');
  assertError(r, 1, 'quire append', /standard input is empty: nothing appended/);
  assert.equal(fs.existsSync(dir), false, 'not even the directory');
  const allowed = await quire(t, ['append', dir, '--allow-empty'], '');
  assert.equal(allowed.code, 0, allowed.stderr);
  const id = text(allowed).trimEnd();
  assert.match(id, ID);
  assert.equal(fs.readFileSync(path.join(dir, id)).length, 0);
  assert.match((await quire(t, ['append', '--help'])).stdout.toString(), /--allow-empty/);
});

test('append with a reused --key and other content warns on stderr, writes nothing and prints the first id', async (t) => {
  const dir = tempDir(t);
  const first = await quire(t, ['append', dir, '--key', 'k'], 'first');
  const same = await quire(t, ['append', dir, '--key', 'k'], 'first');
  assert.equal(same.stderr, '', 'a true retry is quiet');
  const other = await quire(t, ['append', dir, '--key', 'k'], 'second');
  assert.equal(other.code, 0, other.stderr);
  assert.equal(text(other), text(first));
  assert.match(
    other.stderr,
    /^quire append: warning: key "k" already names record \S+, whose content differs/,
  );
  assert.equal(text(await quire(t, ['ls', dir])), text(first), 'still one record');
  assert.match((await quire(t, ['help', 'append'])).stdout.toString(), /input\s+differs from that record/);
});

test('append to a DIR that cannot be created says so, not "no such directory"', async (t) => {
  // /proc takes no new directories: mkdir fails with ENOENT although /proc exists.
  if (!fs.existsSync('/proc/self')) return t.skip('no /proc here');
  const r = await quire(t, ['append', '/proc/quire-nope/spool'], 'x');
  assertError(
    r,
    1,
    'quire append',
    /^quire append: cannot create directory \/proc\/quire-nope\/spool: \/proc does not take new directories/,
  );
});
