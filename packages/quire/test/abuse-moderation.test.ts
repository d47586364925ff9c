import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  adminLogin,
  adminPasswordHash,
  isProblem,
  listComments,
  PAGE,
  startTestServer,
} from './fixtures/srv-helpers.js';

const SPAM = 'Cheap pills at [a](https://spam.example/a) and <https://spam.example/b>';

test('moderation all: an author edit of an approved comment goes back to the queue, hidden until approved', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash(), moderation: 'all' });
  const admin = await adminLogin(s);
  const posted = await s.post({ text: 'A fair point about the post', author: 'Eve' });
  assert.equal(posted.status, 202, posted.text);
  const { id } = posted.body.comment;
  const mine = { 'x-quire-edit-token': posted.body.editToken };
  assert.equal((await s.request('POST', `/api/admin/comments/${id}/approve`, undefined, admin)).status, 200);
  const reply = await s.post({ text: 'I agree', parent: id });
  await s.request('POST', `/api/admin/comments/${reply.body.comment.id}/approve`, undefined, admin);

  const edit = await s.request('PATCH', `/api/comments/${id}`, { text: SPAM }, mine);
  assert.equal(edit.status, 200, edit.text);
  assert.equal(edit.body.comment.status, 'pending');

  const publicView = await listComments(s);
  assert.ok(!JSON.stringify(publicView).includes('spam.example'), JSON.stringify(publicView));
  assert.equal(publicView.total, 1, 'only the reply is public');
  assert.equal(publicView.comments[0].replies[0].text, 'I agree', 'the reply keeps its place');
  for (const feed of ['/feed.atom', `/feed.atom?uri=${encodeURIComponent(PAGE)}`]) {
    assert.ok(!(await s.request('GET', feed)).text.includes('spam.example'), feed);
  }
  const like = await s.request('POST', `/api/comments/${id}/like`);
  assert.ok(isProblem(like, 404, 'not-found'), 'an unreviewed comment cannot be liked either');
  const own = await listComments(s, PAGE, mine);
  assert.equal(own.comments[0].text, SPAM, 'its author still sees it, as pending');
  assert.equal(own.comments[0].status, 'pending');

  const queue = await s.request('GET', '/api/admin/comments', undefined, admin);
  assert.deepEqual(
    queue.body.comments.map((c: { id: string; text: string }) => [c.id, c.text]),
    [[id, SPAM]],
    'the queue holds the edited comment',
  );
  await s.request('POST', `/api/admin/comments/${id}/approve`, undefined, admin);
  assert.equal((await listComments(s)).comments[0].text, SPAM, 'public once a moderator approved it');

  // A change of name or website is a change of what the public sees too.
  const renamed = await s.request('PATCH', `/api/comments/${id}`, { website: 'spam.example' }, mine);
  assert.equal(renamed.body.comment.status, 'pending');
  // A pending comment edited stays pending.
  const again = await s.request('PATCH', `/api/comments/${id}`, { text: 'Sorry' }, mine);
  assert.equal(again.body.comment.status, 'pending');
});

test('moderation off: an author edit stays public; an edit by a moderator is a review of its own', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  const admin = await adminLogin(s);
  const posted = await s.post({ text: 'first words' });
  const { id } = posted.body.comment;
  const edit = await s.request(
    'PATCH',
    `/api/comments/${id}`,
    { text: 'better words' },
    { 'x-quire-edit-token': posted.body.editToken },
  );
  assert.equal(edit.body.comment.status, 'approved');
  const settings = await s.request('PUT', '/api/admin/settings', { moderation: 'all' }, admin);
  assert.equal(settings.status, 200, settings.text);
  const byModerator = await s.request('PATCH', `/api/admin/comments/${id}`, { text: 'tidied' }, admin);
  assert.equal(byModerator.status, 200, byModerator.text);
  assert.equal(byModerator.body.comment.status, 'approved');
  const later = await s.request(
    'PATCH',
    `/api/comments/${id}`,
    { text: 'sneaky words' },
    { 'x-quire-edit-token': posted.body.editToken },
  );
  assert.equal(later.body.comment.status, 'pending', 'moderation switched on at run time applies to edits');
  assert.equal((await listComments(s)).total, 0);
});
