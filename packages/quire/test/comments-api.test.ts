import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { threadIdOf } from '../src/index.js';
import {
  isProblem,
  listComments as list,
  PAGE,
  listPath as q,
  startTestServer,
} from './fixtures/srv-helpers.js';

test('a posted comment is answered with 201 and an edit token, and listed for every variant of its page URL', async (t) => {
  const s = await startTestServer(t);
  const r = await s.post({
    uri: `${PAGE}/?utm_source=rss#comments`,
    text: 'First *post*',
    author: 'Ann',
    title: 'Hello',
  });
  assert.equal(r.status, 201, r.text);
  assert.match(r.contentType, /^application\/json/);
  const c = r.body.comment;
  assert.equal(c.text, 'First *post*');
  assert.equal(c.html, '<p>First <em>post</em></p>');
  assert.equal(c.author, 'Ann');
  assert.equal(c.status, 'approved');
  assert.equal(c.parent, null);
  assert.equal(typeof r.body.editToken, 'string');
  assert.equal(r.body.editableUntil, new Date(s.now() + 900_000).toISOString());
  for (const variant of [PAGE, `${PAGE}/`, 'https://BLOG.example.org:443/2026/hello?fbclid=x']) {
    const l = await list(s, variant);
    assert.equal(l.uri, PAGE);
    assert.equal(l.title, 'Hello');
    assert.equal(l.total, 1);
    assert.deepEqual(
      l.comments.map((x: { id: string }) => x.id),
      [c.id],
    );
    assert.equal(typeof l.formToken, 'string');
  }
  assert.equal((await list(s, 'https://blog.example.org/2026/other')).total, 0);
});

test('a retried POST with the same nonce returns the first comment and stores no second one', async (t) => {
  const s = await startTestServer(t);
  const body = { text: 'Only once', nonce: 'retry-nonce-1' };
  const answers = await Promise.all(Array.from({ length: 8 }, () => s.post(body)));
  const ids = new Set(answers.map((a) => a.body.comment.id));
  assert.ok(answers.every((a) => a.status === 201));
  assert.equal(ids.size, 1);
  assert.equal((await list(s)).total, 1);
  const tokens = new Set(answers.map((a) => a.body.editToken));
  assert.equal(tokens.size, 1, 'every retry gets the same edit token');
  const reused = await s.post({ text: 'Something else', nonce: 'retry-nonce-1' });
  assert.ok(isProblem(reused, 409, 'nonce-reused'), reused.text);
});

test('numbered attempts: a retry numbered 2 returns what attempt 1 stored, and an attempt must be 1 to 1000', async (t) => {
  const s = await startTestServer(t);
  const first = await s.post({ text: 'Numbered', nonce: 'numbered-nonce-1', attempt: 1 });
  assert.equal(first.status, 201, first.text);
  const retry = await s.post({ text: 'Numbered', nonce: 'numbered-nonce-1', attempt: 2 });
  assert.equal(retry.status, 201, retry.text);
  assert.equal(retry.body.comment.id, first.body.comment.id);
  assert.equal(retry.body.editToken, first.body.editToken);
  assert.equal((await list(s)).total, 1);
  for (const attempt of [0, 1001, 1.5, '1']) {
    const bad = await s.post({ text: `bad attempt ${attempt}`, nonce: 'numbered-nonce-2', attempt });
    assert.equal(bad.status, 400, `${attempt}: ${bad.text}`);
  }
});

test('replies nest under their parent; a deleted parent with replies stays as a tombstone, one without vanishes', async (t) => {
  const s = await startTestServer(t);
  const a = (await s.post({ text: 'A', author: 'Ann', email: 'ann@example.org' })).body;
  const b = (await s.post({ text: 'B' })).body;
  const a1 = (await s.post({ text: 'reply to A', parent: a.comment.id })).body;
  const a11 = (await s.post({ text: 'reply to the reply', parent: a1.comment.id })).body;
  let l = await list(s);
  assert.equal(l.total, 4);
  assert.deepEqual(
    l.comments.map((c: { text: string }) => c.text),
    ['A', 'B'],
  );
  assert.equal(l.comments[0].replies[0].id, a1.comment.id);
  assert.equal(l.comments[0].replies[0].replies[0].id, a11.comment.id);

  for (const [x, tok] of [
    [a.comment.id, a.editToken],
    [b.comment.id, b.editToken],
  ]) {
    const d = await s.request('DELETE', `/api/comments/${x}`, undefined, { 'x-quire-edit-token': tok });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.comment.status, 'deleted');
  }
  l = await list(s);
  assert.equal(l.total, 2);
  assert.equal(l.comments.length, 1, 'B had no replies and is gone');
  const tomb = l.comments[0];
  assert.equal(tomb.id, a.comment.id);
  assert.equal(tomb.status, 'deleted');
  assert.equal(tomb.text, '');
  assert.equal(tomb.author, null);
  assert.equal(tomb.replies[0].text, 'reply to A');
  // The file stays (a tombstone), with the personal data erased.
  const file = path.join(
    s.dataDir,
    'threads',
    threadIdOf(PAGE),
    `${a.comment.id.slice(a.comment.id.lastIndexOf('_') + 1)}.json`,
  );
  const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(onDisk.status, 'deleted');
  assert.equal(onDisk.email, null);
  assert.equal(onDisk.text, '');
  const orphan = await s.post({ text: 'reply to a deleted comment', parent: b.comment.id });
  assert.ok(isProblem(orphan, 422, 'parent-not-found'), orphan.text);
  const foreign = await s.post({
    uri: 'https://blog.example.org/elsewhere',
    text: 'x',
    parent: a1.comment.id,
  });
  assert.ok(isProblem(foreign, 422, 'parent-not-found'), foreign.text);
});

test('paging walks the top-level comments with limit and after, oldest or newest first', async (t) => {
  const s = await startTestServer(t);
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    ids.push((await s.post({ text: `comment ${i}` })).body.comment.id);
    s.advance(1000);
  }
  await s.post({ text: 'a reply', parent: ids[0] });
  const seen: string[] = [];
  let after = '';
  for (;;) {
    const page = await list(s, PAGE, {}, `&limit=3${after}`);
    assert.equal(page.total, 8);
    seen.push(...page.comments.map((c: { id: string }) => c.id));
    if (page.next === null) break;
    after = `&after=${encodeURIComponent(page.next)}`;
  }
  assert.deepEqual(seen, ids);
  const newest = await list(s, PAGE, {}, '&order=newest&limit=2');
  assert.deepEqual(
    newest.comments.map((c: { id: string }) => c.id),
    [ids[6], ids[5]],
  );
  const bad = await s.request('GET', `${q(PAGE)}&limit=0`);
  assert.ok(isProblem(bad, 400, 'invalid-request'));
});

test('in moderation mode a comment gets 202 and is shown only to its author until approved', async (t) => {
  const s = await startTestServer(t, { moderation: 'all' });
  const r = await s.post({ text: 'Please approve me' });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.comment.status, 'pending');
  assert.equal((await list(s)).total, 0);
  const mine = await list(s, PAGE, { 'x-quire-edit-token': r.body.editToken });
  assert.equal(mine.total, 1);
  assert.equal(mine.comments[0].status, 'pending');
  assert.equal(mine.moderation, 'all');
  const forged = `${r.body.editToken.slice(0, -3)}AAA`;
  assert.equal((await list(s, PAGE, { 'x-quire-edit-token': forged })).total, 0);
});

test('an author edits and deletes their own comment with its edit token within the edit window', async (t) => {
  const s = await startTestServer(t);
  const r = (await s.post({ text: 'Tpyo', author: 'Ann' })).body;
  s.advance(60_000);
  const e = await s.request(
    'PATCH',
    `/api/comments/${r.comment.id}`,
    { text: 'Typo, fixed', website: 'ann.example.org' },
    { 'x-quire-edit-token': r.editToken },
  );
  assert.equal(e.status, 200, e.text);
  assert.equal(e.body.comment.text, 'Typo, fixed');
  assert.equal(e.body.comment.website, 'https://ann.example.org/');
  assert.equal(e.body.comment.edited, new Date(s.now()).toISOString());
  assert.equal((await list(s)).comments[0].text, 'Typo, fixed');
  const d = await s.request('DELETE', `/api/comments/${r.comment.id}`, undefined, {
    'x-quire-edit-token': r.editToken,
  });
  assert.equal(d.status, 200, d.text);
  assert.equal((await list(s)).total, 0);
  const again = await s.request('DELETE', `/api/comments/${r.comment.id}`, undefined, {
    'x-quire-edit-token': r.editToken,
  });
  assert.ok(isProblem(again, 404, 'not-found'));
});

test('edits without a token are 401, with a forged or foreign token 403, and after the edit window 403', async (t) => {
  const s = await startTestServer(t, { editWindowSeconds: 600 });
  const a = (await s.post({ text: 'A' })).body;
  const b = (await s.post({ text: 'B' })).body;
  const patch = (id: string, headers: Record<string, string>) =>
    s.request('PATCH', `/api/comments/${id}`, { text: 'changed' }, headers);
  assert.ok(isProblem(await patch(a.comment.id, {}), 401, 'edit-token-missing'));
  assert.ok(
    isProblem(await patch(a.comment.id, { 'x-quire-edit-token': b.editToken }), 403, 'edit-token-invalid'),
  );
  assert.ok(
    isProblem(
      await patch(a.comment.id, { 'x-quire-edit-token': `${a.editToken}x` }),
      403,
      'edit-token-invalid',
    ),
  );
  assert.ok(
    isProblem(await patch(a.comment.id, { 'x-quire-edit-token': 'garbage' }), 403, 'edit-token-invalid'),
  );
  // A token whose payload claims a later expiry is not signed by the server.
  const [id, , sig] = a.editToken.split('.');
  const stretched = `${id}.${(s.now() + 10 * 86400_000).toString(36)}.${sig}`;
  assert.ok(
    isProblem(await patch(a.comment.id, { 'x-quire-edit-token': stretched }), 403, 'edit-token-invalid'),
  );
  s.advance(600_000);
  assert.equal((await patch(a.comment.id, { 'x-quire-edit-token': a.editToken })).status, 200, 'last moment');
  s.advance(1);
  const late = await patch(a.comment.id, { 'x-quire-edit-token': a.editToken });
  assert.ok(isProblem(late, 403, 'edit-window-closed'), late.text);
  const lateDelete = await s.request('DELETE', `/api/comments/${b.comment.id}`, undefined, {
    'x-quire-edit-token': b.editToken,
  });
  assert.ok(isProblem(lateDelete, 403, 'edit-window-closed'));
  assert.equal((await list(s)).total, 2);
  const unknown = await patch(`${threadIdOf(PAGE)}_20200101T000000Z-0`, {
    'x-quire-edit-token': a.editToken,
  });
  assert.ok(isProblem(unknown, 403, 'edit-token-invalid'));
});

test('a like counts once per client and only for approved comments', async (t) => {
  const s = await startTestServer(t, { trustProxy: true });
  const c = (await s.post({ text: 'Like me' })).body.comment;
  const like = (ip: string) =>
    s.request('POST', `/api/comments/${c.id}/like`, undefined, { 'x-forwarded-for': ip });
  const first = await Promise.all(Array.from({ length: 10 }, () => like('198.51.100.7')));
  assert.equal(first.filter((r) => r.body.counted === true).length, 1);
  assert.ok(first.every((r) => r.status === 200 && r.body.likes === 1));
  assert.deepEqual((await like('198.51.100.8')).body, { likes: 2, counted: true });
  // One IPv6 /64 is one client.
  assert.equal((await like('2001:db8:1:2::1')).body.counted, true);
  assert.equal((await like('2001:db8:1:2::ffff')).body.counted, false);
  assert.equal((await list(s)).comments[0].likes, 3);
  const missing = await s.request('POST', `/api/comments/${threadIdOf(PAGE)}_20200101T000000Z-0/like`);
  assert.ok(isProblem(missing, 404, 'not-found'));
  const m = await startTestServer(t, { moderation: 'all' });
  const pending = (await m.post({ text: 'pending' })).body.comment;
  assert.ok(isProblem(await m.request('POST', `/api/comments/${pending.id}/like`), 404, 'not-found'));
});
