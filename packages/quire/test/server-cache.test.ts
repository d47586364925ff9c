import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SETTLE_MS } from '@quire/fs';
import { CommentStore } from '../src/index.js';
import { PAGE, request, spawnServer, tempDir } from './fixtures/srv-helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LIST = `/api/comments?uri=${encodeURIComponent(PAGE)}`;

interface Listed {
  id: string;
  text: string;
  likes: number;
  status: string;
  replies: Listed[];
}

test('two server processes on one data directory: each answers at once with what the other changed', async (t) => {
  const dataDir = tempDir(t);
  const [a, b] = await Promise.all([spawnServer(t, dataDir), spawnServer(t, dataDir)]);
  const post = async (url: string, text: string) => {
    const formToken = (await request(url, 'GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`)).body
      .formToken as string;
    const r = await request(url, 'POST', '/api/comments', { uri: PAGE, text, formToken });
    assert.equal(r.status, 201, r.text);
    return r.body as { comment: { id: string }; editToken: string };
  };
  const listA = async () => {
    const r = await request(a.url, 'GET', LIST);
    assert.equal(r.status, 200, r.text);
    return r.body as { comments: Listed[]; total: number; moderation: string; formToken: string };
  };
  /** A reads the thread now and again once its view has settled, so the next change meets a trusted cache. */
  const settle = async () => {
    await listA();
    await sleep(SETTLE_MS + 50);
    const first = await listA();
    const second = await listA();
    // Served from the cached page: only the form token may differ.
    assert.deepEqual({ ...second, formToken: '' }, { ...first, formToken: '' });
  };

  const one = await post(a.url, 'first, through A');
  await settle();
  const two = await post(b.url, 'second, through B');
  assert.deepEqual(
    (await listA()).comments.map((c) => c.text),
    ['first, through A', 'second, through B'],
  );

  await settle();
  const liked = await request(b.url, 'POST', `/api/comments/${one.comment.id}/like`);
  assert.equal(liked.status, 200, liked.text);
  assert.deepEqual(
    (await listA()).comments.map((c) => c.likes),
    [1, 0],
  );

  await settle();
  const edited = await request(
    b.url,
    'PATCH',
    `/api/comments/${two.comment.id}`,
    { text: 'second, edited through B' },
    { 'x-quire-edit-token': two.editToken },
  );
  assert.equal(edited.status, 200, edited.text);
  assert.deepEqual(
    (await listA()).comments.map((c) => c.text),
    ['first, through A', 'second, edited through B'],
  );

  await settle();
  const deleted = await request(b.url, 'DELETE', `/api/comments/${two.comment.id}`, undefined, {
    'x-quire-edit-token': two.editToken,
  });
  assert.equal(deleted.status, 200, deleted.text);
  const afterDelete = await listA();
  assert.deepEqual(
    afterDelete.comments.map((c) => c.text),
    ['first, through A'],
  );
  assert.equal(afterDelete.total, 1);

  // Run-time settings written by another process (here: this one) apply to A's next request.
  await settle();
  assert.equal((await listA()).moderation, 'off');
  const store = await CommentStore.open(dataDir);
  await store.saveSettings({ moderation: 'all' });
  assert.equal((await listA()).moderation, 'all');
  const formToken = (await request(a.url, 'GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`)).body
    .formToken as string;
  const held = await request(a.url, 'POST', '/api/comments', { uri: PAGE, text: 'held', formToken });
  assert.equal(held.status, 202, held.text);
  assert.deepEqual(
    (await listA()).comments.map((c) => c.text),
    ['first, through A'],
  );
  const mine = await request(a.url, 'GET', LIST, undefined, { 'x-quire-edit-token': held.body.editToken });
  assert.deepEqual(
    (mine.body as { comments: Listed[] }).comments.map((c) => [c.text, c.status]),
    [
      ['first, through A', 'approved'],
      ['held', 'pending'],
    ],
  );
});
