/** `quire fsck DATA` on a data directory the real service wrote: what it reports, what --repair does. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { deadTemp, quire, text } from './fixtures/cli-helpers.js';
import { startTestServer } from './fixtures/srv-helpers.js';

interface Made {
  dataDir: string;
  thread: string;
  /** Stems of the comments posted: a top-level one and a reply to it. */
  stems: [string, string];
}

/** A data directory made by the service over HTTP: two comments (one a reply, sent with a nonce) and a like. */
async function madeByService(t: TestContext): Promise<Made> {
  const srv = await startTestServer(t);
  const first = await srv.post({ text: 'First!' });
  assert.equal(first.status, 201, first.text);
  const id = first.body.comment.id as string;
  const reply = await srv.post({ text: 'A reply', parent: id, nonce: 'n-0123456789abcdef' });
  assert.equal(reply.status, 201, reply.text);
  const like = await srv.request('POST', `/api/comments/${id}/like`);
  assert.ok(like.status < 300, like.text);
  await srv.server.close();
  const [thread, stem] = id.split('_') as [string, string];
  return {
    dataDir: srv.dataDir,
    thread,
    stems: [stem, (reply.body.comment.id as string).split('_')[1] as string],
  };
}

/** The report's lines (without the summary) as [state, problem, path]. */
function lines(out: string): string[][] {
  return out
    .trimEnd()
    .split('\n')
    .slice(0, -1)
    .map((l) => l.split('\t').slice(0, 3));
}

test('fsck on a data directory the service made exits 0: nothing is stray', async (t) => {
  const { dataDir } = await madeByService(t);
  const r = await quire(t, ['fsck', dataDir]);
  assert.equal(r.code, 0, text(r) + r.stderr);
  assert.equal(text(r), '1 threads, 2 comments, 1 votes, 0 issues, clean\n');
  const json = await quire(t, ['fsck', dataDir, '--json']);
  const report = JSON.parse(text(json)) as { clean: boolean; threads: number; issues: unknown[] };
  assert.deepEqual([report.clean, report.threads, report.issues], [true, 1, []]);
});

test('fsck reports every kind of damage to a data directory, with its path', async (t) => {
  const { dataDir, thread, stems } = await madeByService(t);
  const tdir = path.join(dataDir, 'threads', thread);
  const rel = `threads/${thread}`;
  fs.writeFileSync(path.join(tdir, '20260101T000000Z-0.json'), '');
  fs.writeFileSync(path.join(tdir, '20260101T000001Z-0.json'), '{"text": "cut');
  fs.writeFileSync(path.join(tdir, '20260101T000002Z-0.json'), '{"text": "hand-made"}');
  fs.rmSync(path.join(tdir, `${stems[0]}.json`));
  fs.mkdirSync(path.join(tdir, '.votes', '20260101T000009Z-0'));
  fs.writeFileSync(path.join(tdir, '.votes', '20260101T000009Z-0', 'ab'.repeat(16)), '{}\n');
  fs.writeFileSync(path.join(tdir, '.thread.json'), '');
  fs.chmodSync(path.join(dataDir, 'secret'), 0o644);
  fs.writeFileSync(path.join(dataDir, 'settings.json'), '{"moderation": "al');
  const temp = await deadTemp(tdir);
  const empty = `threads/empty-page-${'0'.repeat(32)}`;
  fs.mkdirSync(path.join(dataDir, empty));
  fs.writeFileSync(path.join(dataDir, 'threads', 'notes.txt'), 'mine');

  const r = await quire(t, ['fsck', dataDir]);
  assert.equal(r.code, 1, r.stderr);
  const found = lines(text(r));
  const expect = [
    ['found', 'secret-mode', 'secret'],
    ['found', 'unparsable', 'settings.json'],
    ['found', 'dead-temp', `${rel}/${temp}`],
    ['found', 'unparsable', `${rel}/.thread.json`],
    ['found', 'unparsable', `${rel}/20260101T000000Z-0.json`],
    ['found', 'unparsable', `${rel}/20260101T000001Z-0.json`],
    ['found', 'incomplete', `${rel}/20260101T000002Z-0.json`],
    ['found', 'missing-parent', `${rel}/${stems[1]}.json`],
    ['found', 'orphan-vote', `${rel}/.votes/${stems[0]}`],
    ['found', 'orphan-vote', `${rel}/.votes/20260101T000009Z-0`],
    ['found', 'empty-thread', empty],
    ['found', 'stray', 'threads/notes.txt'],
  ];
  assert.deepEqual([...found].sort(), [...expect].sort(), text(r));
  assert.match(text(r), /20260101T000000Z-0\.json\tempty \(0 bytes\)/);
  assert.ok(fs.existsSync(path.join(tdir, temp)), 'without --repair nothing changes');
  assert.equal(fs.readFileSync(path.join(tdir, '20260101T000000Z-0.json')).length, 0);
});

test('fsck --repair removes dead temps, moves unparsable comments aside, removes no record, and says so', async (t) => {
  const { dataDir, thread } = await madeByService(t);
  const tdir = path.join(dataDir, 'threads', thread);
  const rel = `threads/${thread}`;
  const before = fs.readdirSync(tdir).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  fs.writeFileSync(path.join(tdir, '20260101T000000Z-0.json'), '');
  fs.writeFileSync(path.join(tdir, '20260101T000001Z-0.json'), 'not json');
  const [voted] = fs.readdirSync(path.join(tdir, '.votes'));
  assert.ok(voted);
  const temps = [
    `${rel}/${await deadTemp(tdir)}`,
    `${rel}/.votes/${voted}/${await deadTemp(path.join(tdir, '.votes', voted))}`,
    await deadTemp(dataDir),
  ];

  const r = await quire(t, ['fsck', dataDir, '--repair']);
  assert.equal(r.code, 0, text(r) + r.stderr);
  const out = lines(text(r));
  for (const temp of temps)
    assert.deepEqual(out.find((l) => l[2] === temp)?.slice(0, 2), ['repaired', 'dead-temp']);
  for (const temp of temps) assert.equal(fs.existsSync(path.join(dataDir, temp)), false, temp);
  for (const name of ['20260101T000000Z-0.json', '20260101T000001Z-0.json']) {
    assert.deepEqual(out.find((l) => l[2] === `${rel}/${name}`)?.slice(0, 2), ['repaired', 'unparsable']);
    assert.equal(fs.existsSync(path.join(tdir, name)), false);
    assert.deepEqual(out.find((l) => l[2] === `${rel}/.quarantine/${name}`)?.slice(0, 2), [
      'found',
      'quarantined',
    ]);
  }
  assert.equal(
    fs.readFileSync(path.join(tdir, '.quarantine', '20260101T000001Z-0.json'), 'utf8'),
    'not json',
  );
  assert.deepEqual(
    fs.readdirSync(tdir).filter((n) => n.endsWith('.json') && !n.startsWith('.')),
    before,
    'every record is still there',
  );
  assert.match(text(r), /, clean\n$/);

  const again = await quire(t, ['fsck', dataDir]);
  assert.equal(again.code, 0, text(again));
  assert.doesNotMatch(text(again), /\t(?:dead-temp|unparsable)\t/);
});

test('fsck reports a missing secret and one that is too short; --help documents the exit codes', async (t) => {
  const { dataDir } = await madeByService(t);
  fs.rmSync(path.join(dataDir, 'secret'));
  const missing = await quire(t, ['fsck', dataDir, '--repair']);
  assert.equal(missing.code, 1);
  assert.deepEqual(lines(text(missing)), [['found', 'missing', 'secret']]);
  assert.equal(fs.existsSync(path.join(dataDir, 'secret')), false, 'fsck never makes a secret');
  fs.writeFileSync(path.join(dataDir, 'secret'), 'short', { mode: 0o600 });
  assert.deepEqual(lines(text(await quire(t, ['fsck', dataDir]))), [['found', 'secret-size', 'secret']]);
  const help = text(await quire(t, ['fsck', '--help']));
  assert.match(
    help,
    /Exit codes:\n {2}0 {2}clean[^\n]*\n {2}1 {2}problems remain[^\n]*\n {2}2 {2}bad arguments/,
  );
});
