import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CommentStore, StoreUnavailableError, threadIdOf } from '../src/index.js';
import type { CommentDraft } from '../src/store/records.js';
import { listComments, PAGE, startTestServer, tempDir } from './fixtures/srv-helpers.js';
import { cannotMountTmpfs, fillUp, mountTmpfs } from './fixtures/tmpfs.js';

/** A top-level comment's draft. */
function draft(text: string): CommentDraft {
  return {
    parent: null,
    author: 'Ann',
    email: null,
    website: null,
    text,
    status: 'approved',
    address: '198.51.100.1',
    nonce: undefined,
  };
}

test('a thread whose first post failed on a full disk is made properly by the next post', {
  skip: cannotMountTmpfs() ?? false,
}, async (t) => {
  const mnt = mountTmpfs(t, '2m');
  const dataDir = path.join(mnt, 'data');
  const s = await startTestServer(t, {}, { dataDir });
  const token = await s.formToken(PAGE);
  const filler = fillUp(mnt);
  const failed = await s.request('POST', '/api/comments', {
    uri: PAGE,
    title: 'Hello',
    text: 'lost',
    formToken: token,
  });
  assert.ok(failed.status >= 500, failed.text);
  fs.rmSync(filler);

  const r = await s.post({ title: 'Hello', text: 'after the disk was freed' });
  assert.equal(r.status, 201, r.text);
  const list = await listComments(s);
  assert.equal(list.title, 'Hello');
  const meta = JSON.parse(
    fs.readFileSync(path.join(dataDir, 'threads', threadIdOf(PAGE), '.thread.json'), 'utf8'),
  );
  assert.equal(meta.uri, PAGE);
  const feed = await s.request('GET', '/feed.atom');
  assert.ok(feed.text.includes(`href="${PAGE}`), feed.text);
});

test('a data directory that vanished is not re-created without its secret: writes fail, nothing appears', async (t) => {
  const s = await startTestServer(t);
  const first = await s.post({ text: 'before' });
  assert.equal(first.status, 201, first.text);
  const token = await s.formToken(PAGE);
  const otherPage = 'https://blog.example.org/2026/new';
  const otherToken = await s.formToken(otherPage);
  fs.rmSync(s.dataDir, { recursive: true });

  const open = await s.request('POST', '/api/comments', {
    uri: PAGE,
    text: 'to an open thread',
    formToken: token,
  });
  const fresh = await s.request('POST', '/api/comments', {
    uri: otherPage,
    text: 'to a new page',
    formToken: otherToken,
  });
  const edit = await s.request(
    'PATCH',
    `/api/comments/${first.body.comment.id}`,
    { text: 'edited' },
    { 'x-quire-edit-token': first.body.editToken },
  );
  for (const r of [open, fresh, edit]) {
    assert.ok(r.status >= 500, r.text);
    assert.notEqual(r.status, 201);
  }
  assert.equal(fs.existsSync(s.dataDir), false, 'no fresh tree without secret and settings');
  const logs = s.logs.join('');
  assert.ok(logs.includes('StoreUnavailableError'), 'the failure says what it is');
});

test('the store tells a vanished data directory apart: StoreUnavailableError, code data-dir-missing', async (t) => {
  const dataDir = path.join(tempDir(t), 'data');
  const store = await CommentStore.open(dataDir);
  const page = { uri: PAGE, title: 'Hello' };
  const first = await store.postComment(threadIdOf(PAGE), page, draft('kept'), { duplicateWindowMs: 0 });
  fs.rmSync(dataDir, { recursive: true });
  const gone = (err: unknown) => err instanceof StoreUnavailableError && err.code === 'data-dir-missing';
  const other = 'https://blog.example.org/2026/new';
  await assert.rejects(store.postComment(threadIdOf(PAGE), page, draft('a'), { duplicateWindowMs: 0 }), gone);
  await assert.rejects(
    store.postComment(threadIdOf(other), { uri: other, title: null }, draft('b'), { duplicateWindowMs: 0 }),
    gone,
  );
  await assert.rejects(store.like(threadIdOf(PAGE), first.stem, '198.51.100.1'), gone);
  await assert.rejects(store.judgeComment(threadIdOf(PAGE), first.stem, 'spam'), gone);
  assert.equal(fs.existsSync(dataDir), false);
});
