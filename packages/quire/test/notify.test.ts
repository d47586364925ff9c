/**
 * Issue 15: notifications through a real SMTP server (smtp-server, in this process) and a real HTTP receiver.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { linksIn, type SmtpSink, startHooks, startSmtp } from './fixtures/notify-sinks.js';
import {
  adminLogin,
  adminPasswordHash,
  request,
  startTestServer,
  type TestServer,
} from './fixtures/srv-helpers.js';

const SECRET = 'a webhook secret of some length';

async function notifyConfig(smtp: SmtpSink, hookUrl: string | null, extra: Record<string, unknown> = {}) {
  return {
    adminPasswordHash: await adminPasswordHash(),
    siteName: 'Test Blog',
    smtp: { url: smtp.url, from: 'Comments <comments@example.org>' },
    notify: {
      moderators: ['mod@example.org'],
      retrySeconds: 0.02,
      retryMaxSeconds: 0.1,
      maxAttempts: 50,
      webhooksAllowPrivate: true,
      webhooks:
        hookUrl === null ? [] : [{ url: hookUrl, events: [], secret: SECRET, moderatorFields: false }],
      ...extra,
    },
  };
}

/** Resolves once `fn` is true, looking again after each of the server's outcomes is likely to have changed. */
async function eventually(fn: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sets the private `notify` field of a comment (the POST field is widget15's). */
async function subscribe(s: TestServer, id: string): Promise<void> {
  const at = id.lastIndexOf('_');
  await s.server.store.updateComment(id.slice(0, at), id.slice(at + 1), (r) => ({ ...r, notify: true }));
}

test('every event arrives once, with the right recipients, links and signature', async (t) => {
  const smtp = await startSmtp(t);
  const hooks = await startHooks(t);
  const s = await startTestServer(t, await notifyConfig(smtp, hooks.url));
  const auth = await adminLogin(s);
  const a = await s.post({ author: 'Ann', email: 'ann@example.org', text: 'First *words*' });
  assert.equal(a.status, 201, a.text);
  await subscribe(s, a.body.comment.id);
  const b = await s.post({
    author: 'Bob',
    email: 'bob@example.org',
    text: 'A reply <script>x</script>',
    parent: a.body.comment.id,
  });
  const own = await s.post({
    author: 'Ann',
    email: 'ANN@example.org',
    text: 'Replying to myself',
    parent: a.body.comment.id,
  });
  assert.equal(own.status, 201);
  assert.equal(
    (await s.request('PATCH', `/api/admin/comments/${b.body.comment.id}`, { text: 'Edited' }, auth)).status,
    200,
  );
  assert.equal(
    (await s.request('DELETE', `/api/admin/comments/${own.body.comment.id}`, undefined, auth)).status,
    200,
  );
  assert.equal((await s.request('PUT', '/api/admin/settings', { moderation: 'all' }, auth)).status, 200);
  const p = await s.post({ author: 'Pat', text: 'Waiting' });
  assert.equal(p.status, 202);
  assert.equal(
    (await s.request('POST', `/api/admin/comments/${p.body.comment.id}/approve`, undefined, auth)).status,
    200,
  );

  // Webhooks: posted ×3, edited, deleted, pending, approved.
  await hooks.until((h) => h.hooks.length >= 7, '7 webhooks');
  const events = hooks.hooks.map((h) => `${h.json.event}:${h.json.comment.id}`).sort();
  assert.deepEqual(events, [
    `approved:${p.body.comment.id}`,
    `deleted:${own.body.comment.id}`,
    `edited:${b.body.comment.id}`,
    `pending:${p.body.comment.id}`,
    `posted:${a.body.comment.id}`,
    `posted:${b.body.comment.id}`,
    `posted:${own.body.comment.id}`,
  ]);
  for (const h of hooks.hooks) {
    const ts = h.headers['quire-timestamp'] as string;
    const want = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${h.body}`).digest('hex')}`;
    assert.equal(h.headers['quire-signature'], want);
    assert.equal(h.headers['quire-delivery'], h.json.delivery);
    assert.equal(h.json.comment.email, undefined, 'no moderator fields unless configured');
  }
  assert.equal(new Set(hooks.hooks.map((h) => h.json.delivery)).size, 7);
  // Mail: moderators get posted ×3 and pending; Ann gets one reply mail (Bob's), not her own.
  await smtp.until((m) => m.mails.length >= 5, '5 mails');
  const toMods = smtp.mails.filter((m) => m.to.includes('mod@example.org'));
  const toAnn = smtp.mails.filter((m) => m.to.includes('ann@example.org'));
  assert.equal(toMods.length, 4);
  assert.equal(toAnn.length, 1);
  assert.equal(new Set(smtp.mails.map((m) => m.messageId)).size, 5);
  const reply = toAnn[0]!;
  assert.match(reply.body, /Bob/);
  assert.doesNotMatch(reply.body.split('<!doctype')[1] ?? '', /<script>/);
  assert.match(reply.headers.get('list-unsubscribe') ?? '', /^<http.*\/api\/notify\/unsubscribe\?t=/);
  assert.equal(reply.headers.get('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
  const pendingMail = toMods.find((m) => m.body.includes('Waiting'))!;
  assert.equal(linksIn(pendingMail, '/api/notify/moderate').length, 3, 'approve, delete, spam');
  const postedMail = toMods.find((m) => m.body.includes('First'))!;
  assert.equal(linksIn(postedMail, '/api/notify/moderate').length, 2, 'delete, spam: it is approved already');
  // Nothing more comes: every event was delivered once (the outcome log says all are done).
  const st = await s.request('GET', '/api/admin/notifications', undefined, auth);
  assert.equal(st.body.enabled, true);
  assert.deepEqual(st.body.givenUp, []);
});

test('one-click links work once, then are refused; a tampered link is refused; unsubscribe sticks', async (t) => {
  const smtp = await startSmtp(t);
  const s = await startTestServer(t, { ...(await notifyConfig(smtp, null)), moderation: 'all' });
  const auth = await adminLogin(s);
  const c = await s.post({ author: 'Ann', email: 'ann@example.org', text: 'Please approve' });
  const d = await s.post({ author: 'Dan', text: 'Please delete' });
  await smtp.until((m) => m.mails.length >= 2, '2 moderator mails');
  const linksOf = (text: string) =>
    linksIn(smtp.mails.find((m) => m.body.includes(text))!, '/api/notify/moderate');
  const approve = linksOf('Please approve').find((u) => {
    const tok = decodeURIComponent(new URL(u).searchParams.get('t')!);
    return tok.startsWith('approve~');
  })!;
  const del = linksOf('Please delete').find((u) =>
    decodeURIComponent(new URL(u).searchParams.get('t')!).startsWith('delete~'),
  )!;
  const local = (u: string) => u.slice(u.indexOf('/api/'));
  // A GET (a mail scanner's prefetch) only shows the confirmation.
  const page = await s.request('GET', local(approve));
  assert.equal(page.status, 200);
  assert.match(page.contentType, /text\/html/);
  assert.match(page.text, /<form method="post">/);
  assert.equal(
    (await s.request('GET', `/api/admin/comments/${c.body.comment.id}`, undefined, auth)).body.comment.status,
    'pending',
  );
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  assert.equal((await s.request('POST', local(approve), '', form)).status, 200);
  assert.equal(
    (await s.request('GET', `/api/admin/comments/${c.body.comment.id}`, undefined, auth)).body.comment.status,
    'approved',
  );
  assert.equal((await s.request('POST', local(approve), '', form)).status, 410, 'used');
  assert.equal((await s.request('POST', local(del), '', form)).status, 200);
  assert.equal(
    (await s.request('GET', `/api/admin/comments/${d.body.comment.id}`, undefined, auth)).body.comment.status,
    'deleted',
  );
  assert.equal((await s.request('POST', local(del), '', form)).status, 410);
  // Tampered: another comment's id under the same signature, or a changed signature.
  const tok = decodeURIComponent(new URL(approve).searchParams.get('t')!);
  const forged = tok.replace(c.body.comment.id, d.body.comment.id);
  for (const bad of [forged, `${tok.slice(0, -2)}xx`]) {
    const r = await s.request('POST', `/api/notify/moderate?t=${encodeURIComponent(bad)}`, '', form);
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'link-invalid');
  }
  // A pending reply is mailed when it is approved, not before.
  await subscribe(s, c.body.comment.id);
  const r1 = await s.post({
    author: 'Bob',
    email: 'bob@example.org',
    text: 'Reply one',
    parent: c.body.comment.id,
  });
  await smtp.until(
    (m) => m.mails.some((x) => x.body.includes('Reply one')),
    'the moderator mail of reply one',
  );
  assert.equal(smtp.mails.filter((m) => m.to.includes('ann@example.org')).length, 0);
  await s.request('POST', `/api/admin/comments/${r1.body.comment.id}/approve`, undefined, auth);
  await smtp.until((m) => m.mails.some((x) => x.to.includes('ann@example.org')), 'the reply mail');
  const unsub = smtp.mails
    .find((m) => m.to.includes('ann@example.org'))!
    .headers.get('list-unsubscribe')!
    .slice(1, -1);
  const oneClick = await s.request('POST', local(unsub), 'List-Unsubscribe=One-Click', form);
  assert.equal(oneClick.status, 200, oneClick.text);
  assert.equal((await s.request('POST', local(unsub), 'List-Unsubscribe=One-Click', form)).status, 410);
  const tampered = local(unsub).replace(/t=u/, 't=v');
  assert.equal((await s.request('POST', tampered, '', form)).status, 400);
  // No address in clear for the unsubscription.
  const unsubDir = path.join(s.dataDir, 'notify', 'unsubscribed');
  const marks = fs.readdirSync(unsubDir).filter((n) => !n.startsWith('.'));
  assert.equal(marks.length, 1);
  assert.match(marks[0]!, /^[0-9a-f]{64}$/);
  const r2 = await s.post({
    author: 'Bob',
    email: 'bob@example.org',
    text: 'Reply two',
    parent: c.body.comment.id,
  });
  await s.request('POST', `/api/admin/comments/${r2.body.comment.id}/approve`, undefined, auth);
  const st = await s.request('GET', '/api/admin/notifications', undefined, auth);
  await eventually(async () => {
    const r = await s.request('GET', '/api/admin/notifications', undefined, auth);
    return r.body.recent.some(
      (o: { outcome: string; reason?: string }) => o.outcome === 'skipped' && o.reason === 'unsubscribed',
    );
  }, 'the unsubscribed reply skipped');
  assert.equal(st.status, 200);
  assert.equal(smtp.mails.filter((m) => m.to.includes('ann@example.org')).length, 1);
  // Expired: the clock moves past linkHours.
  const spam = linksOf('Please approve').find((u) =>
    decodeURIComponent(new URL(u).searchParams.get('t')!).startsWith('spam~'),
  )!;
  s.advance(73 * 3600_000);
  assert.equal((await s.request('POST', local(spam), '', form)).status, 410);

  // Reply mail and its unsubscribe link (RFC 8058 one-click POST).
});

test('an SMTP server down for a while: retried, delivered when it is back', async (t) => {
  const smtp = await startSmtp(t);
  smtp.mode = 'down';
  const s = await startTestServer(t, await notifyConfig(smtp, null));
  await s.post({ text: 'While it is down' });
  await smtp.until((m) => m.refused >= 3, '3 refused attempts');
  smtp.mode = 'ok';
  await smtp.until((m) => m.mails.length >= 1, 'the mail');
  const auth = await adminLogin(s);
  const st = await s.request('GET', '/api/admin/notifications', undefined, auth);
  assert.ok(
    st.body.recent.some(
      (o: { outcome: string; attempt: number }) => o.outcome === 'failed' && o.attempt >= 2,
    ),
  );
  assert.ok(
    st.body.recent.some(
      (o: { outcome: string; attempt: number }) => o.outcome === 'delivered' && o.attempt >= 4,
    ),
  );
  assert.equal(smtp.mails.length, 1);
});

test('a permanent 5xx is given up, shown to the admin, and delivered by the retry button', async (t) => {
  const smtp = await startSmtp(t);
  smtp.mode = 'reject';
  const s = await startTestServer(t, await notifyConfig(smtp, null));
  const auth = await adminLogin(s);
  await s.post({ text: 'Rejected' });
  let givenUp: { id: string; targets: { target: string; reason: string }[] }[] = [];
  await eventually(async () => {
    givenUp = (await s.request('GET', '/api/admin/notifications', undefined, auth)).body.givenUp;
    return givenUp.length === 1;
  }, 'a given-up event');
  assert.equal(givenUp[0]!.targets[0]!.target, 'moderators');
  assert.match(givenUp[0]!.targets[0]!.reason, /550/);
  assert.equal(smtp.refused, 1, 'a permanent refusal is not retried');
  smtp.mode = 'ok';
  const retry = await s.request('POST', `/api/admin/notifications/${givenUp[0]!.id}/retry`, undefined, auth);
  assert.equal(retry.status, 200, retry.text);
  await smtp.until((m) => m.mails.length === 1, 'the retried mail');
  assert.equal(
    (await s.request('POST', `/api/admin/notifications/${givenUp[0]!.id}/retry`, undefined, auth)).status,
    404,
  );
  const after = await s.request('GET', '/api/admin/notifications', undefined, auth);
  assert.deepEqual(after.body.givenUp, []);
});

test('webhooks: no private address unless allowed, no redirect followed', async (t) => {
  const smtp = await startSmtp(t);
  const hooks = await startHooks(t);
  const s = await startTestServer(
    t,
    await notifyConfig(smtp, hooks.url, { webhooksAllowPrivate: false, moderators: [] }),
  );
  const auth = await adminLogin(s);
  await s.post({ text: 'To loopback' });
  await eventually(
    async () =>
      (await s.request('GET', '/api/admin/notifications', undefined, auth)).body.givenUp.length === 1,
    'given up',
  );
  const g = (await s.request('GET', '/api/admin/notifications', undefined, auth)).body.givenUp[0];
  assert.match(g.targets[0].reason, /private address/);
  assert.equal(hooks.hooks.length, 0);

  const s2 = await startTestServer(
    t,
    await notifyConfig(smtp, hooks.url, { moderators: [], maxAttempts: 3 }),
  );
  const auth2 = await adminLogin(s2);
  hooks.status = 302;
  await s2.post({ text: 'Redirected' });
  await eventually(
    async () =>
      (await s2.request('GET', '/api/admin/notifications', undefined, auth2)).body.givenUp.length === 1,
    'given up',
  );
  assert.equal(hooks.hooks.length, 1, 'one request, its redirect not followed');
});

test('without SMTP settings and webhooks nothing is queued and the admin API says notifications are off', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  assert.equal((await s.post({ text: 'Quiet' })).status, 201);
  assert.deepEqual(
    fs.readdirSync(path.join(s.dataDir, 'outbox')).filter((n) => n.endsWith('.json')),
    [],
  );
  const st = await s.request('GET', '/api/admin/notifications', undefined, await adminLogin(s));
  assert.equal(st.body.enabled, false);
  const r = await request(s.url, 'GET', '/api/notify/unsubscribe?t=x');
  assert.equal(r.status, 400);
});

test('a webhook that lists only `reply` gets approved replies and nothing else', async (t) => {
  const smtp = await startSmtp(t);
  const hooks = await startHooks(t);
  const config = await notifyConfig(smtp, null, {
    moderators: [],
    webhooks: [{ url: hooks.url, events: ['reply'], secret: SECRET, moderatorFields: true }],
  });
  const s = await startTestServer(t, config);
  const top = await s.post({ author: 'Ann', email: 'ann@example.org', text: 'Top' });
  const reply = await s.post({
    author: 'Bob',
    email: 'bob@example.org',
    text: 'Re',
    parent: top.body.comment.id,
  });
  const other = await s.post({ text: 'Another top' });
  assert.equal(other.status, 201);
  await hooks.until((h) => h.hooks.length >= 1, 'the reply webhook');
  // Every event is done before we look for a second webhook: none may come.
  const auth = await adminLogin(s);
  await eventually(
    async () => (await s.request('GET', '/api/admin/notifications', undefined, auth)).body.recent.length >= 1,
    'the outcome',
  );
  assert.equal(hooks.hooks.length, 1);
  const h = hooks.hooks[0]!;
  assert.equal(h.json.event, 'posted');
  assert.equal(h.json.reply, true);
  assert.equal(h.json.comment.id, reply.body.comment.id);
  assert.equal(h.json.comment.email, 'bob@example.org', 'moderator fields when configured');
});
