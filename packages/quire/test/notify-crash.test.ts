/**
 * Issue 15: the outbox survives SIGKILL (every event delivered after restart, duplicates only for sends cut
 * between "sent" and "recorded", counted), and two `quire serve` processes on one data directory deliver each
 * event exactly once. Real server processes, a real SMTP server in this process.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { type SmtpSink, startSmtp } from './fixtures/notify-sinks.js';
import { PAGE, pool, request, spawnServer, tempDir } from './fixtures/srv-helpers.js';

const CONCURRENCY = 4;

function config(smtp: SmtpSink) {
  return {
    spam: { requireFormToken: false, duplicateWindowSeconds: 0 },
    smtp: { url: smtp.url, from: 'Comments <comments@example.org>' },
    notify: {
      moderators: ['mod@example.org'],
      retrySeconds: 0.05,
      retryMaxSeconds: 0.2,
      concurrency: CONCURRENCY,
    },
  };
}

/** Events whose delivery is over, from the outbox's done markers. */
function doneCount(dataDir: string): number {
  const dir = path.join(dataDir, 'outbox', '.done');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => !n.startsWith('.')).length : 0;
}

async function postMany(urls: string[], n: number): Promise<void> {
  await pool(
    Array.from({ length: n }, (_, i) => i),
    16,
    async (i) => {
      const r = await request(urls[i % urls.length]!, 'POST', '/api/comments', {
        uri: PAGE,
        text: `comment #${i}#`,
      });
      assert.equal(r.status, 201, r.text);
    },
  );
}

/** Which comment each mail was about, by the `comment #i#` in its text. */
function numbers(smtp: SmtpSink): number[] {
  return smtp.mails.map((m) => Number(/comment #(\d+)#/.exec(m.body)?.[1]));
}

/** Resolves once every one of `n` events is over, looking each time a mail arrives or 50 ms pass. */
async function allDone(dataDir: string, n: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (doneCount(dataDir) < n) {
    if (Date.now() > deadline) throw new Error(`only ${doneCount(dataDir)} of ${n} events done`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('SIGKILL with 200 events in flight: after restart every event is delivered, duplicates counted', async (t) => {
  // A slow SMTP server keeps deliveries in flight when the kill comes.
  const smtp = await startSmtp(t, 40);
  const dataDir = tempDir(t);
  const first = await spawnServer(t, dataDir, config(smtp));
  await postMany([first.url], 200);
  await smtp.until((s) => s.mails.length >= 40, '40 mails');
  first.child.kill('SIGKILL');
  await first.exit;
  const atKill = new Set(numbers(smtp)).size;
  assert.ok(atKill < 200, `the kill must come while events are undelivered (${atKill} delivered)`);
  const second = await spawnServer(t, dataDir, config(smtp));
  await smtp.until((s) => new Set(numbers(s)).size === 200, 'all 200 events delivered');
  await allDone(dataDir, 200);
  second.child.kill('SIGTERM');
  await second.exit;
  const got = numbers(smtp);
  assert.deepEqual(
    [...new Set(got)].sort((a, b) => a - b),
    Array.from({ length: 200 }, (_, i) => i),
  );
  const duplicates = got.length - 200;
  t.diagnostic(
    `delivered before the kill: ${atKill}; duplicates after restart: ${duplicates}; ` +
      `SMTP sessions cut by the kill: ${smtp.connectionErrors}`,
  );
  // Only a send cut between the SMTP server's acceptance and the record can be sent again: at most one per
  // delivery in flight.
  assert.ok(duplicates <= CONCURRENCY, `${duplicates} duplicates`);
  assert.equal(new Set(smtp.mails.map((m) => m.messageId)).size, 200, 'a resend carries the same Message-ID');
});

test('two quire serve processes on one data directory: 500 events, each delivered by exactly one', async (t) => {
  const smtp = await startSmtp(t);
  const dataDir = tempDir(t);
  const a = await spawnServer(t, dataDir, config(smtp));
  const b = await spawnServer(t, dataDir, config(smtp));
  await postMany([a.url, b.url], 500);
  await smtp.until((s) => new Set(numbers(s)).size === 500, 'all 500 events delivered');
  await allDone(dataDir, 500);
  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  await Promise.all([a.exit, b.exit]);
  assert.equal(smtp.mails.length, 500, 'no event was delivered twice');
  const log = path.join(dataDir, 'outbox-log');
  const byPid = new Map<number, number>();
  for (const name of fs.readdirSync(log).filter((n) => n.endsWith('.json'))) {
    const o = JSON.parse(fs.readFileSync(path.join(log, name), 'utf8')) as { outcome: string; pid: number };
    if (o.outcome === 'delivered') byPid.set(o.pid, (byPid.get(o.pid) ?? 0) + 1);
  }
  assert.equal(
    [...byPid.values()].reduce((x, y) => x + y, 0),
    500,
  );
  t.diagnostic(`delivered per process: ${[...byPid.values()].join(', ')}`);
});
