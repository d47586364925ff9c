import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { threadIdOf } from '../src/index.js';
import { PAGE, pool, request, spawnServer, tempDir, waitForLine } from './fixtures/srv-helpers.js';

const N = 300;
const KILL_AFTER = 60;

interface Outcome {
  i: number;
  status: number | 'error';
  id: string | null;
}

function text(i: number): string {
  return `storm comment ${i} ${'x'.repeat(1 + ((i * 37) % 500))}`;
}

async function allComments(url: string): Promise<{ id: string; text: string }[]> {
  const out: { id: string; text: string }[] = [];
  let after = '';
  for (;;) {
    const r = await request(url, 'GET', `/api/comments?uri=${encodeURIComponent(PAGE)}&limit=200${after}`);
    assert.equal(r.status, 200, r.text);
    out.push(...r.body.comments);
    if (r.body.next === null) return out;
    after = `&after=${encodeURIComponent(r.body.next)}`;
  }
}

test('every comment acknowledged before the server is SIGKILLed in a POST storm is there, whole, after a restart', async (t) => {
  const dataDir = tempDir(t);
  const first = await spawnServer(t, dataDir);
  const token = (await request(first.url, 'GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`)).body
    .formToken as string;
  const post = (url: string, i: number) =>
    request(url, 'POST', '/api/comments', {
      uri: PAGE,
      text: text(i),
      nonce: `storm-nonce-${i}`,
      formToken: token,
    });

  let acked = 0;
  const outcomes = await pool(
    Array.from({ length: N }, (_, i) => i),
    16,
    async (i): Promise<Outcome> => {
      try {
        const r = await post(first.url, i);
        if (r.status === 201 && ++acked === KILL_AFTER) first.child.kill('SIGKILL');
        return { i, status: r.status, id: r.body?.comment?.id ?? null };
      } catch {
        return { i, status: 'error', id: null };
      }
    },
  );
  const exit = await first.exit;
  assert.equal(exit.signal, 'SIGKILL');
  const ok = outcomes.filter((o) => o.status === 201);
  assert.ok(ok.length >= KILL_AFTER, `${ok.length} acknowledged`);
  assert.ok(
    outcomes.every((o) => o.status === 201 || o.status === 'error'),
    'a request either succeeded or lost its connection',
  );
  assert.ok(
    outcomes.some((o) => o.status === 'error'),
    'the kill interrupted the storm',
  );

  const second = await spawnServer(t, dataDir);
  const listed = new Map((await allComments(second.url)).map((c) => [c.id, c.text]));
  for (const o of ok)
    assert.equal(listed.get(o.id as string), text(o.i), `acknowledged comment ${o.i} survived whole`);

  // On disk every record is complete JSON, and the restarted server swept the dead writer's temps.
  const dir = path.join(dataDir, 'threads', threadIdOf(PAGE));
  for (const name of fs.readdirSync(dir).filter((n) => /^\d{8}T\d{6}Z-\d+\.json$/.test(n))) {
    const r = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    assert.match(r.text, /^storm comment \d+ x+$/);
    assert.equal(r.text, text(Number(r.text.split(' ')[2])));
  }
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.startsWith('.quire-')),
    [],
  );

  // Retrying everything that was not acknowledged, with the same nonces, makes exactly one comment per nonce:
  // the ones published just before the kill are found again, not duplicated.
  const retried = await pool(
    outcomes.filter((o) => o.status !== 201),
    16,
    async (o) => (await post(second.url, o.i)).status,
  );
  assert.ok(
    retried.every((s) => s === 201),
    JSON.stringify(retried.filter((s) => s !== 201)),
  );
  const again = await allComments(second.url);
  assert.equal(again.length, N);
  assert.deepEqual(new Set(again.map((c) => c.text)), new Set(Array.from({ length: N }, (_, i) => text(i))));
  second.child.kill('SIGTERM');
  assert.equal((await second.exit).code, 0);
});

test('SIGTERM lets a request in flight finish, then the server exits 0', async (t) => {
  const dataDir = tempDir(t);
  const s = await spawnServer(t, dataDir, {}, { QUIRE_TEST_HOLD: '1' });
  const token = (await request(s.url, 'GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`)).body
    .formToken as string;
  const held = request(
    s.url,
    'POST',
    '/api/comments',
    { uri: PAGE, text: 'in flight at shutdown', formToken: token },
    { 'x-test-hold': '1' },
  );
  await waitForLine(s.child, /^HELD$/);
  s.child.kill('SIGTERM');
  const answer = await held;
  assert.equal(answer.status, 201, answer.text);
  const exit = await s.exit;
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stdout, /CLOSED/);
  const again = await spawnServer(t, dataDir);
  const listed = await allComments(again.url);
  assert.deepEqual(
    listed.map((c) => c.text),
    ['in flight at shutdown'],
  );
  again.child.kill('SIGTERM');
  assert.equal((await again.exit).code, 0);
});
