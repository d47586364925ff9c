/**
 * The recent-comments index (store/recent.ts) is written after the writer answers, so a crash can lose its last
 * notes. A writer leaves a mark while it lives; the next process to open the index that finds a dead writer's mark
 * puts the newest comments back by itself, without `quire fsck --repair`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CommentStore, threadIdOf } from '../src/index.js';
import { spawnFixture, tempDir, waitExit } from './fixtures/srv-helpers.js';
import { META, record } from './fixtures/srv-records.js';

const writers = (dataDir: string) => fs.readdirSync(path.join(dataDir, 'recent', '.writers'));

test('after a writer is killed, the next process to open the index shows every comment it acknowledged', async (t) => {
  const dataDir = tempDir(t);
  // The index exists (built, `.complete`) before the writer comes, as on any running site.
  const first = await CommentStore.open(dataDir);
  assert.deepEqual(await first.recent.newestApproved(10), []);
  const child = spawnFixture('recent-writer', [dataDir, '5']);
  const exit = await waitExit(child);
  const out = exit.stdout;
  assert.equal(exit.signal, 'SIGKILL', exit.stderr);
  const acked = [...out.matchAll(/^stem (\S+)$/gm)].map((m) => m[1]);
  assert.equal(acked.length, 5, out);
  assert.equal(writers(dataDir).length, 1, 'the writer left no mark');

  const next = await CommentStore.open(dataDir);
  await next.recent.newestApproved(1);
  // The catch-up runs in the background; settled() waits for it.
  await next.settled();
  const shown = (await next.recent.newestApproved(10)).map((c) => c.stem);
  assert.deepEqual([...shown].sort(), [...acked].sort(), 'acknowledged comments missing from the site feed');
  assert.deepEqual(writers(dataDir), [], "the dead writer's mark is still there");
});

test('a writer that closes removes its mark: the next process has nothing to catch up', async (t) => {
  const dataDir = tempDir(t);
  const store = await CommentStore.open(dataDir);
  const uri = 'https://example.org/recent/clean';
  const r = await store.addComment(threadIdOf(uri), { ...META, uri }, record('clean'), {
    duplicateWindowMs: 0,
  });
  assert.equal(writers(dataDir).length, 1);
  await store.recent.close();
  assert.deepEqual(writers(dataDir), []);
  const next = await CommentStore.open(dataDir);
  assert.deepEqual(
    (await next.recent.newestApproved(10)).map((c) => c.stem),
    [r.stem],
  );
});
