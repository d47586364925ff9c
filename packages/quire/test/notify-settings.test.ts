/**
 * Issue 15: the settings' names (config keys and environment variables), `quire test-mail`, the German mail,
 * and a retried POST that is delivered once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../src/config.js';
import { loadConfig } from '../src/server/start.js';
import { quire } from './fixtures/cli-helpers.js';
import { startSmtp } from './fixtures/notify-sinks.js';
import { PAGE, startTestServer } from './fixtures/srv-helpers.js';

test('the settings have the names of the issue, in the config and in the environment', () => {
  const c = loadConfig({
    env: {
      QUIRE_SMTP_URL: 'smtps://user:pw@mail.example.org:465',
      QUIRE_SMTP_FROM: 'Comments <c@example.org>',
      QUIRE_NOTIFY_MODERATORS: 'a@example.org, b@example.org',
      QUIRE_NOTIFY_MODERATOR_EVENTS: 'pending',
      QUIRE_SITE_NAME: 'My Blog',
    },
  });
  assert.equal(c.smtp.url, 'smtps://user:pw@mail.example.org:465');
  assert.equal(c.smtp.from, 'Comments <c@example.org>');
  assert.deepEqual(c.notify.moderators, ['a@example.org', 'b@example.org']);
  assert.deepEqual(c.notify.moderatorEvents, ['pending']);
  const file = loadConfig({
    env: {},
    config: {
      smtp: { url: 'smtp://mail.example.org', from: 'c@example.org', user: 'u', passwordFile: '/p' },
    },
  });
  assert.equal(file.smtp.user, 'u');
  assert.equal(file.smtp.passwordFile, '/p');
  const bad: unknown[] = [
    { smtp: { url: 'http://mail.example.org', from: 'c@example.org' } },
    { smtp: { url: 'smtp://mail.example.org' } },
    { notify: { moderatorEvents: ['approved'] } },
    { notify: { language: 'fr' } },
    { notify: { webhooks: [{ url: 'ftp://x', events: [], secret: 'sixteen chars ok' }] } },
    { notify: { webhooks: [{ url: 'https://x.example', events: [], secret: 'short' }] } },
    { notify: { webhooks: [{ url: 'https://x.example', events: ['nope'], secret: 'sixteen chars ok' }] } },
    { notify: { webhooks: [{ url: 'https://x.example', secret: 'sixteen chars ok', extra: 1 }] } },
  ];
  for (const config of bad) {
    assert.throws(
      () => loadConfig({ env: {}, config: config as never }),
      ConfigError,
      JSON.stringify(config),
    );
  }
});

test('quire test-mail ADDRESS sends one mail; a refusal exits 1', async (t) => {
  const smtp = await startSmtp(t);
  const env = { ...process.env, QUIRE_SMTP_URL: smtp.url, QUIRE_SMTP_FROM: 'Comments <c@example.org>' };
  const ok = await quire(t, ['test-mail', 'me@example.org'], '', env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout.toString(), /^sent <test-.*@example\.org> to me@example\.org\n$/);
  assert.equal(smtp.mails.length, 1);
  assert.deepEqual(smtp.mails[0]!.to, ['me@example.org']);
  assert.match(smtp.mails[0]!.subject, /Test mail/);
  smtp.mode = 'reject';
  const refused = await quire(t, ['test-mail', 'me@example.org'], '', env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /550/);
  const none = await quire(t, ['test-mail', 'me@example.org'], '', { ...process.env, QUIRE_SMTP_URL: '' });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no SMTP settings/);
  assert.equal((await quire(t, ['test-mail'], '', env)).code, 2);
});

test('German mail; a retried POST is one event, delivered once', async (t) => {
  const smtp = await startSmtp(t);
  const s = await startTestServer(t, {
    siteName: 'Mein Blog',
    smtp: { url: smtp.url, from: 'c@example.org' },
    notify: { moderators: ['mod@example.org'], language: 'de', moderatorEvents: ['posted'] },
  });
  const body = { uri: PAGE, text: 'Grüße', nonce: 'a-nonce-of-this-post', formToken: await s.formToken() };
  const first = await s.request('POST', '/api/comments', { ...body, attempt: 1 });
  assert.equal(first.status, 201);
  for (const attempt of [2, 3]) {
    const again = await s.request('POST', '/api/comments', { ...body, attempt });
    assert.equal(again.body.comment.id, first.body.comment.id);
  }
  await smtp.until((m) => m.mails.length === 1, 'the mail');
  assert.match(smtp.mails[0]!.subject, /^\[Mein Blog\] Neuer Kommentar/);
  assert.match(smtp.mails[0]!.body, /Grüße/);
  assert.match(smtp.mails[0]!.body, /Löschen/);
  // The first telling and one keyed append for both retries (two records of one key): delivered once: wait until the outbox says every event is done, then count.
  const done = path.join(s.dataDir, 'outbox', '.done');
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(done) || fs.readdirSync(done).filter((n) => !n.startsWith('.')).length < 1) {
    assert.ok(Date.now() < deadline, 'the event is done');
    await new Promise((r) => setTimeout(r, 20));
  }
  await s.server.close();
  assert.equal(smtp.mails.length, 1);
});
