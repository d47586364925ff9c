import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseCommentId } from '../src/index.js';
import {
  adminLogin,
  adminPasswordHash,
  isProblem,
  PAGE,
  startTestServer,
  type TestServer,
} from './fixtures/srv-helpers.js';

const DAY = 86_400_000;
const LIST = `/api/comments?uri=${encodeURIComponent(PAGE)}`;

/** Every public answer about the page: the list, the feeds and the counts, as text. */
async function publicText(s: TestServer): Promise<string> {
  const answers = await Promise.all([
    s.request('GET', LIST),
    s.request('GET', '/feed.atom'),
    s.request('GET', `/feed.atom?uri=${encodeURIComponent(PAGE)}`),
    s.request('GET', `/api/counts?uri=${encodeURIComponent(PAGE)}`),
  ]);
  for (const a of answers) assert.equal(a.status, 200, a.text);
  return answers.map((a) => a.text).join('\n');
}

/** The record file of a public comment id. */
function recordFile(s: TestServer, id: string): string {
  const p = parseCommentId(id);
  assert.ok(p !== null);
  return path.join(s.dataDir, 'threads', p.threadId, `${p.stem}.json`);
}

test('a moderator restores a deleted comment within the window: its text, author, e-mail and status come back', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  const auth = await adminLogin(s);
  const c = (await s.post({ text: 'Worth keeping', author: 'Kim', email: 'kim@example.org' })).body.comment;
  const d = await s.request('DELETE', `/api/admin/comments/${c.id}`, undefined, auth);
  assert.equal(d.status, 200, d.text);
  assert.equal(d.body.comment.status, 'deleted');
  assert.equal(d.body.comment.text, '');
  assert.equal(d.body.comment.restorableUntil, new Date(s.now() + 30 * DAY).toISOString());
  assert.equal((await s.request('GET', LIST)).body.total, 0);

  s.advance(29 * DAY);
  const later = await adminLogin(s);
  const r = await s.request('POST', `/api/admin/comments/${c.id}/restore`, undefined, later);
  assert.equal(r.status, 200, r.text);
  const back = r.body.comment;
  assert.equal(back.status, 'approved');
  assert.equal(back.text, 'Worth keeping');
  assert.equal(back.author, 'Kim');
  assert.equal(back.email, 'kim@example.org');
  assert.equal(back.ip, '127.0.0.0/24');
  assert.equal(back.deleted, null);
  assert.equal(back.restorableUntil, null);
  const list = await s.request('GET', LIST);
  assert.deepEqual(
    list.body.comments.map((x: { text: string }) => x.text),
    ['Worth keeping'],
  );
  assert.ok(!fs.readFileSync(recordFile(s, c.id), 'utf8').includes('"restore"'), 'nothing left over');
  const again = await s.request('POST', `/api/admin/comments/${c.id}/restore`, undefined, later);
  assert.ok(isProblem(again, 409, 'not-restorable'), 'a live comment is not restorable');
});

test('a comment its author deleted comes back in the status it had (pending)', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash(), moderation: 'all' });
  const auth = await adminLogin(s);
  const posted = await s.post({ text: 'Awaiting a verdict' });
  assert.equal(posted.status, 202);
  const own = { 'x-quire-edit-token': posted.body.editToken };
  const del = await s.request('DELETE', `/api/comments/${posted.body.comment.id}`, undefined, own);
  assert.equal(del.status, 200, del.text);
  const listed = await s.request('GET', '/api/admin/comments?status=deleted', undefined, auth);
  assert.equal(listed.body.comments.length, 1);
  assert.ok(listed.body.comments[0].restorableUntil !== null);
  const r = await s.request('POST', `/api/admin/comments/${posted.body.comment.id}/restore`, undefined, auth);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.comment.status, 'pending');
  assert.equal(r.body.comment.text, 'Awaiting a verdict');
});

test('after the restore window, on a live comment or with restoreWindowDays 0, restore is 409 not-restorable', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  const old = (await s.post({ text: 'Soon gone for good' })).body.comment;
  const live = (await s.post({ text: 'Still here' })).body.comment;
  await s.request('DELETE', `/api/admin/comments/${old.id}`, undefined, await adminLogin(s));
  s.advance(30 * DAY + 1);
  const auth = await adminLogin(s);
  const late = await s.request('GET', `/api/admin/comments/${old.id}`, undefined, auth);
  assert.equal(late.body.comment.restorableUntil, null);
  assert.ok(
    isProblem(
      await s.request('POST', `/api/admin/comments/${old.id}/restore`, undefined, auth),
      409,
      'not-restorable',
    ),
  );
  assert.ok(
    isProblem(
      await s.request('POST', `/api/admin/comments/${live.id}/restore`, undefined, auth),
      409,
      'not-restorable',
    ),
  );
  const missing = live.id.replace(/Z-\d+$/, 'Z-9');
  assert.ok(
    isProblem(await s.request('POST', `/api/admin/comments/${missing}/restore`, undefined, auth), 404),
  );
  assert.ok(
    isProblem(await s.request('POST', `/api/admin/comments/${live.id}/restore`), 401, 'unauthorized'),
  );

  const none = await startTestServer(t, {
    adminPasswordHash: await adminPasswordHash(),
    restoreWindowDays: 0,
  });
  const noneAuth = await adminLogin(none);
  const gone = (await none.post({ text: 'Erased at once', email: 'e@example.org' })).body.comment;
  const d = await none.request('DELETE', `/api/admin/comments/${gone.id}`, undefined, noneAuth);
  assert.equal(d.body.comment.restorableUntil, null);
  const onDisk = fs.readFileSync(recordFile(none, gone.id), 'utf8');
  assert.ok(!onDisk.includes('Erased at once') && !onDisk.includes('e@example.org'), onDisk);
  assert.ok(
    isProblem(
      await none.request('POST', `/api/admin/comments/${gone.id}/restore`, undefined, noneAuth),
      409,
      'not-restorable',
    ),
  );
});

test('the public API never shows what a restorable delete keeps', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  const auth = await adminLogin(s);
  const parent = (await s.post({ text: 'Secret words here', author: 'Sam', website: 'sam.example.org' }))
    .body;
  const reply = await s.post({ text: 'A reply that keeps the tombstone', parent: parent.comment.id });
  assert.equal(reply.status, 201, reply.text);
  const own = { 'x-quire-edit-token': parent.editToken };
  assert.equal((await s.request('DELETE', `/api/comments/${parent.comment.id}`, undefined, own)).status, 200);
  const seen = await publicText(s);
  for (const kept of ['Secret words here', 'Sam', 'sam.example.org', '"restore"', 'restorableUntil']) {
    assert.ok(!seen.includes(kept), `${kept} in a public answer`);
  }
  const tomb = (await s.request('GET', LIST)).body.comments[0];
  assert.equal(tomb.status, 'deleted');
  assert.equal(tomb.replies.length, 1);
  // The author can neither see nor change it any more; the moderator's answer shows the tombstone only.
  assert.ok(
    isProblem(await s.request('PATCH', `/api/comments/${parent.comment.id}`, { text: 'x' }, own), 404),
  );
  const admin = await s.request('GET', `/api/admin/comments/${parent.comment.id}`, undefined, auth);
  assert.equal(admin.body.comment.text, '');
  assert.equal(admin.body.comment.author, null);
  assert.ok(fs.readFileSync(recordFile(s, parent.comment.id), 'utf8').includes('Secret words here'));
});

test('an admin comment names the comment it replies to: id, author and the first 140 characters of its text', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  const auth = await adminLogin(s);
  const long = `**Bold** start\n\nand [a link](https://example.org/x) then ${'word '.repeat(60)}`;
  const parent = (await s.post({ text: long, author: 'Ann' })).body.comment;
  s.advance(1000);
  const reply = (await s.post({ text: 'I disagree', parent: parent.id })).body.comment;
  const all = await s.request('GET', '/api/admin/comments?status=all', undefined, auth);
  assert.equal(all.status, 200, all.text);
  const [r, p] = all.body.comments;
  assert.equal(r.id, reply.id);
  assert.equal(r.replyTo.id, parent.id);
  assert.equal(r.replyTo.author, 'Ann');
  assert.equal(r.replyTo.excerpt.length, 140);
  assert.ok(
    r.replyTo.excerpt.startsWith('**Bold** start and [a link](https://example.org/x) then word'),
    r.replyTo.excerpt,
  );
  assert.equal(p.replyTo, null);
  const one = await s.request('GET', `/api/admin/comments/${reply.id}`, undefined, auth);
  assert.deepEqual(one.body.comment.replyTo, r.replyTo);
  const doc = (await s.request('GET', '/api/openapi.json')).body;
  assert.ok(doc.paths['/api/admin/comments/{id}/restore'].post, 'the restore route is documented');
  const schemas = Object.values(doc.components.schemas) as { title?: string; properties: object }[];
  const adminSchema = schemas.find((x) => x.title === 'AdminComment');
  assert.ok(
    adminSchema !== undefined &&
      'replyTo' in adminSchema.properties &&
      'restorableUntil' in adminSchema.properties,
  );
});
