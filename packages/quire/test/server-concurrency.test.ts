import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { threadIdOf } from '../src/index.js';
import { PAGE, spawnFixture, startTestServer, waitExit } from './fixtures/srv-helpers.js';

const CLIENTS = 4;
const PER_CLIENT = 50;

test('200 concurrent POSTs from several client processes into one thread make 200 distinct, listed comments', async (t) => {
  const s = await startTestServer(t, { logLevel: 'warn' }, { clock: Date.now });
  const children = Array.from({ length: CLIENTS }, (_, c) =>
    spawnFixture('srv-client', [s.url, PAGE, String(PER_CLIENT), `client${c}`, '10']),
  );
  const exits = await Promise.all(children.map(waitExit));
  const answers: { i: number; status: number; id: string | null }[] = [];
  for (const e of exits) {
    assert.equal(e.code, 0, e.stderr);
    for (const line of e.stdout.trim().split('\n')) answers.push(JSON.parse(line));
  }
  assert.equal(answers.length, CLIENTS * PER_CLIENT);
  assert.ok(
    answers.every((a) => a.status === 201),
    JSON.stringify(answers.filter((a) => a.status !== 201).slice(0, 3)),
  );
  const ids = new Set(answers.map((a) => a.id));
  assert.equal(ids.size, CLIENTS * PER_CLIENT, 'every POST got its own comment');

  const listed = await s.request('GET', `/api/comments?uri=${encodeURIComponent(PAGE)}&limit=200`);
  assert.equal(listed.status, 200);
  assert.equal(listed.body.total, CLIENTS * PER_CLIENT);
  assert.equal(listed.body.next, null);
  const texts = listed.body.comments.map((c: { text: string }) => c.text).sort();
  const want = [];
  for (let c = 0; c < CLIENTS; c++) for (let i = 0; i < PER_CLIENT; i++) want.push(`client${c}-${i}`);
  assert.deepEqual(texts, want.sort());
  assert.deepEqual(new Set(listed.body.comments.map((c: { id: string }) => c.id)), ids);

  const dir = path.join(s.dataDir, 'threads', threadIdOf(PAGE));
  const files = fs.readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  assert.equal(files.length, CLIENTS * PER_CLIENT, 'one file per comment, nothing else');
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.startsWith('.quire-')),
    [],
    'no temps left behind',
  );
});
