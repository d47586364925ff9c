/**
 * Issue 15, the API behind the widget's new pieces: `notify: true` (private, needs an e-mail), unlike (DELETE of a
 * like), avatar keys that give the e-mail away to nobody, and the minimum compose time in the list answer.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { threadIdOf } from '../src/index.js';
import {
  adminLogin,
  adminPasswordHash,
  isProblem,
  listComments as list,
  PAGE,
  startTestServer,
} from './fixtures/srv-helpers.js';

const EMAIL = 'Reader@Example.org';

/** The record file of a comment, parsed, and its raw text. */
function recordOf(dataDir: string, id: string): { raw: string; json: Record<string, unknown> } {
  const stem = id.slice(id.lastIndexOf('_') + 1);
  const raw = fs.readFileSync(path.join(dataDir, 'threads', threadIdOf(PAGE), `${stem}.json`), 'utf8');
  return { raw, json: JSON.parse(raw) as Record<string, unknown> };
}

test('notify: true needs an e-mail: 400 notify-needs-email, and nothing is created', async (t) => {
  const s = await startTestServer(t);
  for (const email of [undefined, null, '', '   ']) {
    const r = await s.post({ text: 'tell me', notify: true, ...(email === undefined ? {} : { email }) });
    assert.ok(isProblem(r, 400, 'notify-needs-email'), `${String(email)}: ${r.text}`);
  }
  assert.ok(isProblem(await s.post({ text: 'x', notify: 'yes', email: EMAIL }), 400));
  assert.equal(fs.existsSync(path.join(s.dataDir, 'threads', threadIdOf(PAGE))), false, 'no thread made');
  const off = await s.post({ text: 'no mail please', notify: false });
  assert.equal(off.status, 201, off.text);
  assert.equal('notify' in recordOf(s.dataDir, off.body.comment.id).json, false);
});

test('notify: true is kept next to the e-mail in the record and shown by no public answer', async (t) => {
  const s = await startTestServer(t, { editWindowSeconds: 600 });
  const posted = await s.post({ text: 'Mail me replies', author: 'Ann', email: EMAIL, notify: true });
  assert.equal(posted.status, 201, posted.text);
  const { id } = posted.body.comment;
  const { raw, json } = recordOf(s.dataDir, id);
  assert.equal(json.notify, true);
  const keys = Object.keys(json);
  assert.equal(keys.indexOf('notify'), keys.indexOf('email') + 1, `next to email: ${raw}`);
  const edited = await s.request(
    'PATCH',
    `/api/comments/${id}`,
    { text: 'Mail me replies!' },
    {
      'x-quire-edit-token': posted.body.editToken,
    },
  );
  assert.equal(edited.status, 200, edited.text);
  assert.equal(recordOf(s.dataDir, id).json.notify, true, 'an edit keeps it');
  const publicAnswers = [
    posted.text,
    edited.text,
    (await s.request('GET', `/api/comments?uri=${encodeURIComponent(PAGE)}`)).text,
    (await s.request('GET', `/api/comments?uri=${encodeURIComponent(PAGE)}&order=newest`)).text,
    (await s.request('GET', `/feed.atom?uri=${encodeURIComponent(PAGE)}`)).text,
    (await s.request('GET', '/feed.atom')).text,
  ];
  for (const text of publicAnswers) {
    assert.ok(!/notify/i.test(text), `no notify field in ${text.slice(0, 200)}`);
    assert.ok(!text.toLowerCase().includes(EMAIL.toLowerCase()), 'no e-mail');
  }
  const removed = await s.request('DELETE', `/api/comments/${id}`, undefined, {
    'x-quire-edit-token': posted.body.editToken,
  });
  assert.equal(removed.status, 200, removed.text);
  assert.equal('notify' in recordOf(s.dataDir, id).json, false, 'a tombstone asks for no mail');
});

test('a moderator: a delete keeps notify for a restore, clearing the e-mail ends it', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  const admin = await adminLogin(s);
  const { id } = (await s.post({ text: 'subscribed', email: EMAIL, notify: true })).body.comment;
  const at = `/api/admin/comments/${id}`;
  assert.equal((await s.request('DELETE', at, undefined, admin)).status, 200);
  const dead = recordOf(s.dataDir, id).json;
  assert.equal('notify' in dead, false, 'a tombstone asks for no mail');
  assert.equal((dead.restore as Record<string, unknown>).notify, true, 'kept for a restore');
  assert.equal((await s.request('POST', `${at}/restore`, undefined, admin)).status, 200);
  assert.equal(recordOf(s.dataDir, id).json.notify, true, 'restored with the e-mail');
  const patched = await s.request('PATCH', at, { text: 'subscribed' }, admin);
  assert.equal(patched.status, 200, patched.text);
  assert.equal(recordOf(s.dataDir, id).json.notify, true, 'an edit that keeps the e-mail keeps it');
  assert.equal((await s.request('PATCH', at, { email: null }, admin)).status, 200);
  const cleared = recordOf(s.dataDir, id).json;
  assert.deepEqual([cleared.email, 'notify' in cleared], [null, false]);
});

test("unlike: DELETE takes back this client's like only, once, and is rate-limited like likes", async (t) => {
  const s = await startTestServer(t, {
    trustProxy: true,
    rateLimits: { likes: { max: 3, windowSeconds: 300 } },
  });
  const c = (await s.post({ text: 'Like me' })).body.comment;
  const vote = (method: string, ip: string) =>
    s.request(method, `/api/comments/${c.id}/like`, undefined, { 'x-forwarded-for': ip });
  const votesDir = path.join(s.dataDir, 'threads', threadIdOf(PAGE), '.votes', c.id.split('_')[1]);
  assert.deepEqual((await vote('POST', '198.51.100.7')).body, { likes: 1, counted: true });
  assert.deepEqual((await vote('POST', '203.0.113.9')).body, { likes: 2, counted: true });
  assert.equal(fs.readdirSync(votesDir).length, 2);
  // Another client's unlike removes nothing of anyone else's.
  assert.deepEqual((await vote('DELETE', '192.0.2.1')).body, { likes: 2, counted: false });
  const both = await Promise.all([vote('DELETE', '198.51.100.7'), vote('DELETE', '198.51.100.7')]);
  assert.deepEqual(
    both.map((r) => r.status),
    [200, 200],
  );
  assert.equal(both.filter((r) => r.body.counted === true).length, 1, 'one of two concurrent unlikes');
  assert.ok(both.every((r) => r.body.likes === 1));
  assert.equal(fs.readdirSync(votesDir).length, 1);
  assert.equal((await list(s)).comments[0].likes, 1);
  const limited = await vote('DELETE', '198.51.100.7');
  assert.ok(isProblem(limited, 429, 'rate-limited'), limited.text);
  const missing = await s.request('DELETE', `/api/comments/${threadIdOf(PAGE)}_20200101T000000Z-0/like`);
  assert.ok(isProblem(missing, 404, 'not-found'));
  const m = await startTestServer(t, { moderation: 'all' });
  const pending = (await m.post({ text: 'pending' })).body.comment;
  assert.ok(isProblem(await m.request('DELETE', `/api/comments/${pending.id}/like`), 404, 'not-found'));
});

test('avatar keys: equal for one address, different without it, never a plain hash of it', async (t) => {
  const s = await startTestServer(t);
  const a = (await s.post({ text: 'one', author: 'Ann', email: EMAIL })).body.comment;
  const b = (await s.post({ text: 'two', email: ` ${EMAIL.toLowerCase()} ` })).body.comment;
  const c = (await s.post({ text: 'three', author: 'Ann' })).body.comment;
  const d = (await s.post({ text: 'four' })).body.comment;
  const e = (await s.post({ text: 'five' })).body.comment;
  for (const x of [a, b, c, d, e]) assert.match(x.avatar, /^[0-9a-f]{16}$/);
  assert.equal(a.avatar, b.avatar, 'one reader, one picture');
  assert.notEqual(a.avatar, c.avatar, 'a name alone is not the address');
  assert.notEqual(d.avatar, e.avatar, 'anonymous comments are not linked to each other');
  const folded = EMAIL.toLowerCase();
  for (const algo of ['md5', 'sha1', 'sha256']) {
    const plain = createHash(algo).update(folded).digest('hex');
    assert.ok(!plain.startsWith(a.avatar), `${algo} of the address is not the key`);
  }
  const listed = await list(s);
  const byId = new Map(listed.comments.map((x: { id: string; avatar: string }) => [x.id, x.avatar]));
  assert.equal(byId.get(a.id), a.avatar, 'the list shows the same key');
  assert.ok(
    listed.comments.every((x: Record<string, unknown>) => !('gravatar' in x)),
    'no Gravatar key',
  );
  assert.equal(listed.minComposeSeconds, 0, "the test config's minimum compose time");
  const g = await startTestServer(t, { avatars: { gravatar: true }, spam: { minComposeSeconds: 2 } });
  const formToken = await g.formToken();
  g.advance(3000);
  const body = { uri: PAGE, text: 'with gravatar', email: EMAIL, formToken };
  const ga = (await g.request('POST', '/api/comments', body)).body.comment;
  assert.equal(ga.gravatar, createHash('sha256').update(folded).digest('hex'));
  const gl = await list(g);
  assert.equal(gl.comments[0].gravatar, ga.gravatar);
  assert.equal(gl.minComposeSeconds, 2);
  const none = (await g.request('POST', '/api/comments', { ...body, text: 'none', email: null })).body
    .comment;
  assert.equal('gravatar' in none, false);
});
