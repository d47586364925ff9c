import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CommentStore, StoreError, threadIdOf } from '../src/index.js';
import { T0, tempDir } from './fixtures/srv-helpers.js';
import { META, PAGE, record } from './fixtures/srv-records.js';

test('opening a data directory creates it with a secret that later opens keep', async (t) => {
  const dir = path.join(tempDir(t), 'data');
  const [a, b] = await Promise.all([CommentStore.open(dir), CommentStore.open(dir)]);
  assert.equal(a.hmacs.hex('ip', 'x'), b.hmacs.hex('ip', 'x'), 'two racing first starts share one secret');
  const secret = fs.readFileSync(path.join(dir, 'secret'));
  assert.equal(secret.length, 32);
  assert.equal(fs.statSync(path.join(dir, 'secret')).mode & 0o777, 0o600);
  const c = await CommentStore.open(dir);
  assert.equal(c.hmacs.hex('ip', 'x'), a.hmacs.hex('ip', 'x'));
  assert.ok(fs.statSync(path.join(dir, 'threads')).isDirectory());
});

test('a comment is one pretty-printed JSON file in its thread, with the thread recorded once', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const r = await store.addComment(threadId, META, record('first'), { duplicateWindowMs: 0 });
  assert.equal(r.created, true);
  assert.equal(r.stem, '20261126T100000Z-0');
  const file = path.join(dir, 'threads', threadId, `${r.stem}.json`);
  const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(onDisk.text, 'first');
  assert.ok(fs.readFileSync(file, 'utf8').includes('\n  "text": "first",\n'), 'readable with cat');
  await store.addComment(threadId, { ...META, title: 'Another title' }, record('second'), {
    duplicateWindowMs: 0,
  });
  assert.deepEqual(await store.threadMeta(threadId), META);
  assert.deepEqual(
    (await store.comments(threadId)).map((c) => c.record.text),
    ['first', 'second'],
  );
});

/** The files under `dir` named `name` that this process has descriptors open on. */
function openFilesNamed(dir: string, name: string): number {
  const root = `${fs.realpathSync(dir)}/`;
  const files = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(root) && path.basename(target) === name) files.add(target);
    } catch {
      // The descriptor readdir itself used, closed by now.
    }
  }
  return files.size;
}

test('posting to many threads keeps a bounded number of post lock files open', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  const pages = Array.from({ length: 20 }, (_, i) => `https://example.org/page-${i}`);
  for (const uri of pages) {
    await store.addComment(threadIdOf(uri), { ...META, uri }, record(`on ${uri}`, { nonce: `n-${uri}` }), {
      duplicateWindowMs: 60_000,
    });
  }
  const open = openFilesNamed(dir, '.post.lock');
  assert.ok(open >= 1 && open <= 8, `${open} .post.lock files open after posting to 20 threads`);
  // A thread whose lock file was closed still takes posts, and still finds a retry.
  const first = pages[0] as string;
  const again = await store.addComment(
    threadIdOf(first),
    { ...META, uri: first },
    record(`on ${first}`, { nonce: `n-${first}` }),
    { duplicateWindowMs: 60_000 },
  );
  assert.equal(again.created, false);
  assert.equal((await store.comments(threadIdOf(first))).length, 1);
});

test('a comment posted again with the same nonce is returned, not stored twice, even from a fresh process state', async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  const first = await store.addComment(threadId, META, record('once', { nonce: 'n1' }), {
    duplicateWindowMs: 0,
  });
  const again = await store.addComment(threadId, META, record('once', { nonce: 'n1' }), {
    duplicateWindowMs: 0,
  });
  assert.equal(again.created, false);
  assert.equal(again.stem, first.stem);
  // An hour later (outside the recent-nonce window), a new store object still finds it through the spool key.
  const later = await CommentStore.open(dir, { clock: () => T0 + 3600_000 });
  const late = await later.addComment(threadId, META, record('once', { nonce: 'n1' }), {
    duplicateWindowMs: 0,
  });
  assert.equal(late.created, false);
  assert.equal(late.stem, first.stem);
  await assert.rejects(
    store.addComment(threadId, META, record('different text', { nonce: 'n1' }), { duplicateWindowMs: 0 }),
    (e) => e instanceof StoreError && e.code === 'nonce-reused',
  );
  assert.equal((await store.comments(threadId)).length, 1);
});

test('the same text in one thread within the window is refused, also when the attempts race', async (t) => {
  const store = await CommentStore.open(tempDir(t), { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) =>
      store.addComment(threadId, META, record(i % 2 ? 'Great post!' : 'great   POST!'), {
        duplicateWindowMs: 600_000,
      }),
    ),
  );
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) {
    if (r.status === 'rejected') assert.ok(r.reason instanceof StoreError && r.reason.code === 'duplicate');
  }
});

test('a reply must name a parent in the same thread that is not deleted', async (t) => {
  const store = await CommentStore.open(tempDir(t), { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const parent = await store.addComment(threadId, META, record('parent'), { duplicateWindowMs: 0 });
  const ok = await store.addComment(threadId, META, record('child', { parent: parent.stem }), {
    duplicateWindowMs: 0,
  });
  assert.equal(ok.record.parent, parent.stem);
  await assert.rejects(
    store.addComment(threadId, META, record('orphan', { parent: '20200101T000000Z-0' }), {
      duplicateWindowMs: 0,
    }),
    (e) => e instanceof StoreError && e.code === 'parent-not-found',
  );
  await store.updateComment(threadId, parent.stem, (c) => ({ ...c, status: 'deleted' }));
  await assert.rejects(
    store.addComment(threadId, META, record('late', { parent: parent.stem }), { duplicateWindowMs: 0 }),
    (e) => e instanceof StoreError && e.code === 'parent-not-found',
  );
});

test('one voter counts once per comment however many likes race, and the count is the number of vote files', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const c = await store.addComment(threadId, META, record('likeable'), { duplicateWindowMs: 0 });
  const same = await Promise.all(Array.from({ length: 50 }, () => store.vote(threadId, c.stem, 'voter-a')));
  assert.equal(same.filter(Boolean).length, 1);
  const many = await Promise.all(
    Array.from({ length: 20 }, (_, i) => store.vote(threadId, c.stem, `voter-${i}`)),
  );
  assert.equal(many.filter(Boolean).length, 20);
  assert.equal(await store.likesOf(threadId, c.stem), 21);
  const votesDir = path.join(dir, 'threads', threadId, '.votes', c.stem);
  assert.equal(fs.readdirSync(votesDir).filter((n) => !n.startsWith('.')).length, 21);
  assert.deepEqual([...(await store.likes(threadId))], [[c.stem, 21]]);
});

test('updates rewrite the record whole and leave a thread of other records alone', async (t) => {
  const store = await CommentStore.open(tempDir(t), { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const a = await store.addComment(threadId, META, record('a'), { duplicateWindowMs: 0 });
  await store.addComment(threadId, META, record('b'), { duplicateWindowMs: 0 });
  const updated = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      store.updateComment(threadId, a.stem, (c) => ({ ...c, text: `${c.text}${i % 10}` })),
    ),
  );
  assert.ok(updated.every((u) => u !== null));
  const final = await store.comment(threadId, a.stem);
  assert.equal(final?.text.length, 21, 'every read-modify-write saw the one before it');
  assert.equal(await store.updateComment(threadId, '20200101T000000Z-0', (c) => c), null);
  assert.equal(await store.comment('no-such-thread-00000000000000000000000000000000', a.stem), null);
});

test('a missing thread reads as empty and is not created by reading', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir);
  const threadId = threadIdOf('https://example.org/never-commented');
  assert.deepEqual(await store.comments(threadId), []);
  assert.deepEqual([...(await store.likes(threadId))], []);
  assert.equal(await store.threadMeta(threadId), null);
  assert.equal(fs.existsSync(path.join(dir, 'threads', threadId)), false);
});

test('run-time settings are kept in settings.json and read back', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir);
  assert.deepEqual(await store.settings(), {});
  await store.saveSettings({ moderation: 'all' });
  assert.deepEqual(await store.settings(), { moderation: 'all' });
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'settings.json'), 'utf8')).moderation, 'all');
});

test('a tombstone keeps what a restore needs until its window ends, then erasing drops it from the file', async (t) => {
  const dir = tempDir(t);
  let now = T0;
  const store = await CommentStore.open(dir, { clock: () => now });
  const threadId = threadIdOf(PAGE);
  const c = await store.addComment(threadId, META, record('private words'), { duplicateWindowMs: 0 });
  const dead = await store.deleteComment(threadId, c.stem, { by: 'moderator' }, 3_600_000);
  assert.equal(dead.text, '');
  const file = path.join(dir, 'threads', threadId, `${c.stem}.json`);
  assert.ok(fs.readFileSync(file, 'utf8').includes('private words'), 'kept for a restore');
  assert.equal(await store.eraseExpiredRestores(), 0, 'nothing expired yet');
  now += 3_600_001;
  await assert.rejects(
    store.restoreComment(threadId, c.stem),
    (e) => e instanceof StoreError && e.code === 'not-restorable',
  );
  assert.equal(await store.eraseExpiredRestores(), 1);
  const onDisk = fs.readFileSync(file, 'utf8');
  assert.ok(!onDisk.includes('private words') && !onDisk.includes('ann@example.org'), onDisk);
  assert.equal((await store.comment(threadId, c.stem))?.status, 'deleted');
});
