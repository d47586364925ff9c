/** `quire fsck`: checking and repairing a spool. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { deadTemp, quire, records, tempDir, text } from './fixtures/cli-helpers.js';

test('fsck exits 0 on a clean spool', async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0', '20261126T101500Z-1']);
  const r = await quire(t, ['fsck', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(text(r), '2 records, 0 issues, clean\n');
  assert.equal(r.stderr, '', 'no progress when stderr is not a terminal');
});

test("fsck exits 1 on a dead writer's temp and --repair removes it and exits 0", async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0']);
  const temp = await deadTemp(dir);
  const found = await quire(t, ['fsck', dir]);
  assert.equal(found.code, 1, found.stderr);
  assert.match(text(found), new RegExp(`^found\tdead-temp\t${temp.replace(/[.+]/g, '\\$&')}\t`, 'm'));
  assert.ok(fs.existsSync(path.join(dir, temp)), 'fsck without --repair changes nothing');
  const repaired = await quire(t, ['fsck', dir, '--repair']);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.match(text(repaired), /^repaired\tdead-temp\t/m);
  assert.equal(fs.existsSync(path.join(dir, temp)), false);
  assert.equal((await quire(t, ['fsck', dir])).code, 0);
});

test('fsck --json prints a parseable report and --progress speaks on stderr only', async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0']);
  const temp = await deadTemp(dir);
  const r = await quire(t, ['fsck', dir, '--json', '--progress']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(text(r)) as { records: number; clean: boolean; issues: { name: string }[] };
  assert.equal(report.records, 1);
  assert.equal(report.clean, false);
  assert.deepEqual(
    report.issues.map((i) => i.name),
    [temp],
  );
  assert.match(r.stderr, /^quire fsck: checking /);
});

test("after fsck --repair no temp it says repair removes is left: other hosts' and unknown temps are told apart", async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0']);
  const old = '.quire-4242-0123456789ab-other-host';
  const young = '.quire-4243-0123456789ab-other-host';
  const odd = '.quire-not-a-temp-of-ours';
  for (const name of [old, young, odd]) fs.writeFileSync(path.join(dir, name), 'x');
  const twoHoursAgo = new Date(Date.now() - 7_200_000);
  fs.utimesSync(path.join(dir, old), twoHoursAgo, twoHoursAgo);
  const r = await quire(t, ['fsck', dir, '--repair']);
  const rows = text(r)
    .trimEnd()
    .split('\n')
    .slice(0, -1)
    .map((l) => l.split('\t'));
  for (const [state, problem, name, detail] of rows) {
    if (state === 'found') {
      assert.notEqual(problem, 'dead-temp', `${name}: ${detail}`);
      assert.doesNotMatch(detail ?? '', /repair removes it$/, name);
      assert.ok(fs.existsSync(path.join(dir, name ?? '')), name);
    }
  }
  assert.deepEqual(
    rows.map((row) => row.slice(0, 3)),
    [
      ['repaired', 'dead-temp', old],
      ['found', 'live-temp', young],
      ['found', 'stray', odd],
    ],
  );
  assert.equal(fs.existsSync(path.join(dir, old)), false);
  assert.equal(r.code, 1, 'a name fsck does not understand stays, and is reported');
});
