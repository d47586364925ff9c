import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isLocalFilesystem, SETTLE_MS } from '@quire/fs';
import { requireOrSkip } from '@quire/testkit';
import { CommentStore, threadIdOf } from '../src/index.js';
import { T0, tempDir } from './fixtures/srv-helpers.js';
import { META, PAGE, record } from './fixtures/srv-records.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Longer than @quire/fs's SETTLE_MS: a view loaded after this since the last change is trusted while unchanged. */
const SETTLE = SETTLE_MS + 50;

test('a thread view is served from memory while its files are unchanged, and shows every change another process makes', async (t) => {
  const dir = tempDir(t);
  // Two stores on one directory keep separate caches, as two server processes do.
  const a = await CommentStore.open(dir, { clock: () => T0 });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  const first = await a.addComment(threadId, META, record('one'), { duplicateWindowMs: 0 });
  await sleep(SETTLE);
  const v1 = await a.view(threadId);
  assert.equal(await a.view(threadId), v1, 'unchanged files: the same view, not read again');
  assert.deepEqual(
    (await a.comments(threadId)).map((c) => c.record.text),
    ['one'],
  );

  const second = await b.addComment(threadId, META, record('two'), { duplicateWindowMs: 0 });
  const v2 = await a.view(threadId);
  assert.notEqual(v2.version, v1.version);
  assert.deepEqual(
    (await a.comments(threadId)).map((c) => c.record.text),
    ['one', 'two'],
  );

  // The first like makes .votes (a change of the thread directory), later ones change only .votes/<stem>.
  await sleep(SETTLE);
  await a.view(threadId);
  assert.equal(await b.vote(threadId, first.stem, 'voter-1'), true);
  assert.deepEqual([...(await a.likes(threadId))], [[first.stem, 1]]);
  await sleep(SETTLE);
  await a.view(threadId);
  assert.equal(await b.vote(threadId, first.stem, 'voter-2'), true);
  assert.deepEqual([...(await a.likes(threadId))], [[first.stem, 2]]);
  await sleep(SETTLE);
  await a.view(threadId);
  assert.equal(await b.vote(threadId, second.stem, 'voter-1'), true);
  assert.deepEqual(
    new Map(await a.likes(threadId)),
    new Map([
      [first.stem, 2],
      [second.stem, 1],
    ]),
  );

  // An edit replaces the file (a new inode, a rename in the thread directory).
  await sleep(SETTLE);
  await a.view(threadId);
  await b.updateComment(threadId, first.stem, (c) => ({ ...c, text: 'one, edited' }));
  assert.deepEqual(
    (await a.comments(threadId)).map((c) => c.record.text),
    ['one, edited', 'two'],
  );
  // A file removed by hand.
  await sleep(SETTLE);
  await a.view(threadId);
  fs.unlinkSync(path.join(dir, 'threads', threadId, `${second.stem}.json`));
  assert.deepEqual(
    (await a.comments(threadId)).map((c) => c.stem),
    [first.stem],
  );
});

test('a view read under a stamp younger than the filesystem clock granularity is read again next time', async (t) => {
  const dir = tempDir(t);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  await store.addComment(threadId, META, record('fresh'), { duplicateWindowMs: 0 });
  // The thread directory changed a moment ago: a change in the same clock tick could carry the same stamp.
  // (Changed again here, however long the post took on a busy machine.)
  const young = path.join(dir, 'threads', threadId, '.young');
  fs.writeFileSync(young, '');
  fs.unlinkSync(young);
  const v1 = await store.view(threadId);
  assert.notEqual((await store.view(threadId)).version, v1.version, 'not trusted yet: read again');
  await sleep(SETTLE);
  const v2 = await store.view(threadId);
  assert.equal((await store.view(threadId)).version, v2.version, 'settled: trusted while unchanged');
});

test('on a local filesystem a cached view is trusted by its stamps: no listing, even with viewListAfterMs 0', async (t) => {
  const dir = tempDir(t);
  if (!requireOrSkip(t, await isLocalFilesystem(dir), 'the temp directory is not on a local filesystem'))
    return;
  // 0: "list on every read", the setting for a network filesystem's attribute cache.
  const a = await CommentStore.open(dir, { clock: () => T0, viewListAfterMs: 0 });
  const b = await CommentStore.open(dir, { clock: () => T0 });
  const threadId = threadIdOf(PAGE);
  await a.addComment(threadId, META, record('one'), { duplicateWindowMs: 0 });
  await sleep(SETTLE);
  const v1 = await a.view(threadId);
  for (let i = 0; i < 5; i++) assert.equal(await a.view(threadId), v1);
  assert.equal(a.cacheStats().listings, 0, 'a local directory was listed to check a view');
  // What another process adds is still seen at once: its link changed the directory's stamp.
  await b.addComment(threadId, META, record('two'), { duplicateWindowMs: 0 });
  assert.deepEqual(
    (await a.comments(threadId)).map((c) => c.record.text),
    ['one', 'two'],
  );
});
