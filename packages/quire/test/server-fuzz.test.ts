import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { hashPassword, threadIdOf } from '../src/index.js';
import { type Fuzz, fuzzValues, generators, json, type Req, sendAll } from './fixtures/srv-fuzz.js';
import { PAGE, prng, startTestServer, tempDir } from './fixtures/srv-helpers.js';

const TOTAL = 10_200;
const SEED = 20261126;

test('over 10,000 malformed requests each get a 4xx problem+json, never a 5xx or a crash', async (t) => {
  const parent = tempDir(t);
  const sentinel = path.join(parent, 'outside.txt');
  fs.writeFileSync(sentinel, 'untouched');
  const dataDir = path.join(parent, 'data');
  const s = await startTestServer(
    t,
    {
      adminPasswordHash: await hashPassword('fuzzing password'),
      limits: { textChars: 2000 },
      spam: { maxLinks: 3, duplicateWindowSeconds: 600 },
      // The 40 real password checks run one at a time on purpose; on a loaded machine the last of them may wait
      // past the default request deadline, whose 503 is overload, not a misanswered malformed request.
      deadlines: { requestMs: 0 },
    },
    { dataDir },
  );
  const seeded = await s.post({ text: 'the one real comment', author: 'Seed' });
  assert.equal(seeded.status, 201);
  const realId: string = seeded.body.comment.id;
  const realToken: string = seeded.body.editToken;
  const formToken = await s.formToken();
  const tid = threadIdOf(PAGE);
  const rnd = prng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const JSON_H = { 'content-type': 'application/json' };
  const base = () => ({ uri: PAGE, text: `fuzz ${int(0, 1e9)}`, formToken });

  const fuzz: Fuzz = { rnd, pick, int, formToken, realId, realToken, tid, base, JSON_H, ...fuzzValues(tid) };
  const all = generators(fuzz);

  // A few real password checks (scrypt is slow on purpose); the rest of the login attempts are malformed.
  const requests: Req[] = Array.from({ length: 40 }, (_, i) => ({
    kind: 'wrong-password',
    method: 'POST',
    path: '/api/admin/login',
    headers: JSON_H,
    body: json({ password: `wrong password ${i}` }),
  }));
  while (requests.length < TOTAL) {
    const [, gen] = pick(all);
    requests.push(gen());
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  t.after(() => agent.destroy());
  const { byKind, failures } = await sendAll(s.server.port, agent, requests);
  for (const [kind, counts] of [...byKind].sort()) {
    t.diagnostic(`${kind}: ${[...counts].map(([st, n]) => `${st}x${n}`).join(' ')}`);
  }
  assert.deepEqual(
    failures.filter((f, i) => i < 5 || !f.includes(' 201 ')).slice(0, 20),
    [],
    `${failures.length} of ${requests.length} requests misanswered`,
  );
  assert.ok(requests.length >= 10_000);

  // Still alive and well, nothing written by any of it, nothing outside the data directory touched.
  assert.equal((await s.request('GET', '/healthz')).status, 200);
  const list = await s.request('GET', `/api/comments?uri=${encodeURIComponent(PAGE)}`);
  assert.deepEqual(
    list.body.comments.map((c: { text: string }) => c.text),
    ['the one real comment'],
  );
  assert.deepEqual(fs.readdirSync(path.join(dataDir, 'threads')), [tid]);
  assert.equal(fs.readFileSync(sentinel, 'utf8'), 'untouched');
  const errors = s.logs.filter((l) => JSON.parse(l).level >= 50);
  assert.deepEqual(errors.slice(0, 3), [], 'no request made the server log an error');
});
