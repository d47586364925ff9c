/**
 * Issue 15: the outbox group-commits events. Posts that arrive together share outbox records (a JSON line per
 * event), and each event is still delivered once, given up and retried on its own, and its record goes only when
 * every event in it is over.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { startHooks } from './fixtures/notify-sinks.js';
import { adminLogin, adminPasswordHash, startTestServer, type TestServer } from './fixtures/srv-helpers.js';

const POSTS = 48;

async function server(
  t: TestContext,
  hookUrl: string,
  deliver: boolean,
  dataDir?: string,
): Promise<TestServer> {
  const config = {
    adminPasswordHash: await adminPasswordHash(),
    notify: {
      deliver,
      retrySeconds: 0.02,
      retryMaxSeconds: 0.1,
      maxAttempts: 50,
      webhooksAllowPrivate: true,
      webhooks: [
        {
          url: hookUrl,
          events: ['posted'],
          secret: 'a webhook secret of some length',
          moderatorFields: false,
        },
      ],
    },
  };
  return startTestServer(t, config, dataDir === undefined ? {} : { dataDir });
}

/** The outbox's records (dot entries aside) and the events they hold. */
function outboxOf(dataDir: string): { records: number; events: number } {
  const dir = path.join(dataDir, 'outbox');
  const names = fs.readdirSync(dir).filter((n) => !n.startsWith('.'));
  const events = names
    .map((n) => fs.readFileSync(path.join(dir, n), 'utf8').split('\n').filter(Boolean).length)
    .reduce((a, b) => a + b, 0);
  return { records: names.length, events };
}

test('concurrent posts share outbox records, and every event is delivered once', async (t) => {
  const hooks = await startHooks(t);
  // Nothing delivered yet: the outbox as the posts left it.
  const writer = await server(t, hooks.url, false);
  const posted = await Promise.all(
    Array.from({ length: POSTS }, (_, i) => writer.post({ text: `comment ${i} of a burst` })),
  );
  for (const r of posted) assert.equal(r.status, 201, r.text);
  const before = outboxOf(writer.dataDir);
  assert.equal(before.events, POSTS, 'one event per post');
  assert.ok(before.records < POSTS, `${before.records} records for ${POSTS} events: nothing was batched`);
  await writer.server.close();
  const deliverer = await server(t, hooks.url, true, writer.dataDir);
  await hooks.until((s) => s.hooks.length >= POSTS, `${POSTS} webhooks`);
  const ids = hooks.hooks.map((h) => h.json.comment.id as string).sort();
  const expected = posted.map((r) => r.body.comment.id as string).sort();
  assert.deepEqual(ids, expected, 'each comment told once');
  // Once every event of a record is over, the record goes.
  const deadline = Date.now() + 30_000;
  while (outboxOf(deliverer.dataDir).records > 0) {
    assert.ok(Date.now() < deadline, 'delivered records were not removed');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(hooks.hooks.length, POSTS, 'no event delivered twice');
});

test('an event of a shared record is given up and retried on its own, by its `~n` id', async (t) => {
  const hooks = await startHooks(t);
  hooks.status = 400;
  const writer = await server(t, hooks.url, false);
  await Promise.all(Array.from({ length: 8 }, (_, i) => writer.post({ text: `refused ${i}` })));
  assert.ok(outboxOf(writer.dataDir).records < 8, 'nothing was batched');
  await writer.server.close();
  const s = await server(t, hooks.url, true, writer.dataDir);
  const auth = await adminLogin(s);
  let givenUp: { id: string }[] = [];
  const deadline = Date.now() + 30_000;
  while (givenUp.length < 8) {
    assert.ok(Date.now() < deadline, `only ${givenUp.length} of 8 given up`);
    givenUp = (await s.request('GET', '/api/admin/notifications', undefined, auth)).body.givenUp;
    await new Promise((r) => setTimeout(r, 20));
  }
  const shared = givenUp.find((g) => g.id.includes('~'));
  assert.ok(
    shared !== undefined,
    `no event id names a place in a shared record: ${givenUp.map((g) => g.id)}`,
  );
  hooks.status = 204;
  const seen = hooks.hooks.length;
  const retry = await s.request('POST', `/api/admin/notifications/${shared.id}/retry`, undefined, auth);
  assert.equal(retry.status, 200, retry.text);
  await hooks.until((h) => h.hooks.length === seen + 1, 'the retried webhook');
  const left = (await s.request('GET', '/api/admin/notifications', undefined, auth)).body.givenUp;
  assert.equal(left.length, 7, 'only the retried event left the list');
  // Given-up events keep their record: the shared records are all still there.
  assert.equal(outboxOf(s.dataDir).events >= 8, true);
});
