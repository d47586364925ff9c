import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CommentStore, threadIdOf } from '../src/index.js';
import { serialiseRecord } from '../src/store/records.js';
import { T0, tempDir } from './fixtures/srv-helpers.js';
import { META, PAGE, record } from './fixtures/srv-records.js';

test('a retry finds its comment though no claim was made for it (a power cut lost it, or an older version posted it)', async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  await store.addComment(threadId, META, record('first'), { duplicateWindowMs: 0 });
  // A record with a nonce but no .nonces claim, as a power cut may leave it (the record was fsynced, the claim not).
  const stem = '20261126T095959Z-0';
  fs.writeFileSync(
    path.join(dir, 'threads', threadId, `${stem}.json`),
    serialiseRecord(record('survivor', { nonce: 'n-lost' })),
  );
  const restarted = await CommentStore.open(dir, { clock: () => T0 });
  const again = await restarted.addComment(threadId, META, record('survivor', { nonce: 'n-lost' }), {
    duplicateWindowMs: 0,
  });
  assert.equal(again.created, false);
  assert.equal(again.stem, stem);
  assert.equal((await restarted.comments(threadId)).length, 2);
});

test('a nonce claimed by an attempt that died before publishing, or marked by an older version, still posts once', async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  await store.addComment(threadId, META, record('first', { nonce: 'n0' }), { duplicateWindowMs: 0 });
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const threadDir = path.join(dir, 'threads', threadId);
  fs.writeFileSync(path.join(threadDir, '.nonces', sha('n-dead')), '');
  fs.mkdirSync(path.join(threadDir, '.keys'), { recursive: true });
  fs.writeFileSync(path.join(threadDir, '.keys', sha('n-old')), '{}');
  for (const nonce of ['n-dead', 'n-old']) {
    const one = await store.addComment(threadId, META, record(`text ${nonce}`, { nonce }), {
      duplicateWindowMs: 0,
    });
    assert.equal(one.created, true, nonce);
    const two = await store.addComment(threadId, META, record(`text ${nonce}`, { nonce }), {
      duplicateWindowMs: 0,
    });
    assert.equal(two.created, false, nonce);
    assert.equal(two.stem, one.stem, nonce);
  }
  assert.equal((await store.comments(threadId)).length, 3);
});

test('a first attempt is stored without a claim, and its numbered retry finds it, also from another process', async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const a = await CommentStore.open(dir, { clock: () => T0 });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  // b lists the thread before a posts: only a listing made for the retry can find a's comment.
  await b.addComment(threadId, META, record('b first', { nonce: 'n-b' }), { duplicateWindowMs: 0 });
  const claim = path.join(
    dir,
    'threads',
    threadId,
    '.nonces',
    createHash('sha256').update('n1').digest('hex'),
  );
  const first = await a.addComment(threadId, META, record('once', { nonce: 'n1' }), {
    duplicateWindowMs: 0,
    attempt: 1,
  });
  assert.equal(first.created, true);
  assert.equal(fs.existsSync(claim), false, 'a first attempt makes no claim');
  for (const store of [b, a]) {
    const retry = await store.addComment(threadId, META, record('once', { nonce: 'n1' }), {
      duplicateWindowMs: 0,
      attempt: 2,
    });
    assert.equal(retry.created, false);
    assert.equal(retry.stem, first.stem);
  }
  assert.equal(fs.existsSync(claim), true, 'a retry claims');
  assert.equal((await a.comments(threadId)).length, 2);
});

test("a first attempt that arrives after its retry returns the retry's comment", async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const a = await CommentStore.open(dir, { clock: () => T0 });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  const retry = await a.addComment(threadId, META, record('late', { nonce: 'n2' }), {
    duplicateWindowMs: 0,
    attempt: 2,
  });
  assert.equal(retry.created, true);
  const late = await b.addComment(threadId, META, record('late', { nonce: 'n2' }), {
    duplicateWindowMs: 0,
    attempt: 1,
  });
  assert.equal(late.created, false);
  assert.equal(late.stem, retry.stem);
  // Racing, in two processes' stores at once: one comment whichever wins.
  const raced = await Promise.all([
    a.addComment(threadId, META, record('race', { nonce: 'n3' }), { duplicateWindowMs: 0, attempt: 1 }),
    b.addComment(threadId, META, record('race', { nonce: 'n3' }), { duplicateWindowMs: 0, attempt: 2 }),
  ]);
  assert.equal(raced.filter((r) => r.created).length, 1);
  assert.equal(raced[0]?.stem, raced[1]?.stem);
  assert.equal((await a.comments(threadId)).length, 2);
});

test('a nonce posted through one process is recognised by another that had already listed the thread', async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const a = await CommentStore.open(dir, { clock: () => T0 });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  await a.addComment(threadId, META, record('a first', { nonce: 'na' }), { duplicateWindowMs: 0 });
  const viaB = await b.addComment(threadId, META, record('shared', { nonce: 'nb' }), {
    duplicateWindowMs: 0,
  });
  const viaA = await a.addComment(threadId, META, record('shared', { nonce: 'nb' }), {
    duplicateWindowMs: 0,
  });
  assert.equal(viaA.created, false);
  assert.equal(viaA.stem, viaB.stem);
  // The same nonce racing in both at once: one comment.
  const raced = await Promise.all([
    a.addComment(threadId, META, record('race', { nonce: 'nr' }), { duplicateWindowMs: 0 }),
    b.addComment(threadId, META, record('race', { nonce: 'nr' }), { duplicateWindowMs: 0 }),
  ]);
  assert.equal(raced.filter((r) => r.created).length, 1);
  assert.equal(raced[0]?.stem, raced[1]?.stem);
  assert.equal((await a.comments(threadId)).length, 3);
});

test("a first attempt after its retry gets the retry's comment with the duplicate and parent checks on; after a retry that died, it posts", async (t) => {
  const dir = tempDir(t);
  const threadId = threadIdOf(PAGE);
  const a = await CommentStore.open(dir, { clock: () => T0 });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  const checks = { duplicateWindowMs: 60_000 };
  const parent = await a.addComment(threadId, META, record('the parent'), checks);
  const reply = (text: string, nonce: string) => record(text, { nonce, parent: parent.stem });
  // The retry's comment is a duplicate of the late first attempt: the first attempt must get it back.
  const retry = await a.addComment(threadId, META, reply('same words', 'n-dup'), { ...checks, attempt: 2 });
  const late = await b.addComment(threadId, META, reply('same words', 'n-dup'), { ...checks, attempt: 1 });
  assert.equal(late.created, false);
  assert.equal(late.stem, retry.stem);
  // Another text under the same nonce after the retry: refused as a reuse, not posted.
  await assert.rejects(
    b.addComment(threadId, META, reply('other words', 'n-dup'), { ...checks, attempt: 1 }),
    (err: Error & { code?: string }) => err.code === 'nonce-reused',
  );
  // A retry that claimed its nonce and died before publishing: the late first attempt still posts, once.
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  fs.writeFileSync(path.join(dir, 'threads', threadId, '.nonces', sha('n-died')), '');
  const alone = await b.addComment(threadId, META, reply('posted alone', 'n-died'), {
    ...checks,
    attempt: 1,
  });
  assert.equal(alone.created, true);
  const again = await a.addComment(threadId, META, reply('posted alone', 'n-died'), {
    ...checks,
    attempt: 2,
  });
  assert.equal(again.created, false);
  assert.equal(again.stem, alone.stem);
  // A first attempt refused as a real duplicate (another nonce, no claim) stays refused.
  await assert.rejects(
    b.addComment(threadId, META, reply('posted alone', 'n-fresh'), { ...checks, attempt: 1 }),
    (err: Error & { code?: string }) => err.code === 'duplicate',
  );
  assert.equal((await a.comments(threadId)).length, 3);
});
