import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CommentStore, threadIdOf } from '../src/index.js';
import { serialiseRecord } from '../src/store/records.js';
import { SUMMARY_BYTES } from '../src/store/summaries.js';
import { T0, tempDir } from './fixtures/srv-helpers.js';
import { META, PAGE, record } from './fixtures/srv-records.js';

const WINDOW_MS = 600_000;
const OLD = 400;

/** A thread of OLD comments posted a day before T0 (each with the text `text`), as an import or years leave it. */
async function oldThread(dir: string, text: string): Promise<string> {
  const threadId = threadIdOf(PAGE);
  const store = await CommentStore.open(dir, { clock: () => T0 });
  await store.addComment(threadId, META, record('the first'), { duplicateWindowMs: 0 });
  const threadDir = path.join(dir, 'threads', threadId);
  const dayBefore = new Date(T0 - 86_400_000).toISOString();
  for (let i = 0; i < OLD; i++) {
    const stem = `20261125T100000Z-${i}`;
    fs.writeFileSync(
      path.join(threadDir, `${stem}.json`),
      serialiseRecord(record(text, { created: dayBefore })),
    );
  }
  return threadId;
}

test("the duplicate check summarises only the comments of its window, by their names' time, not the whole thread", async (t) => {
  const dir = tempDir(t);
  const threadId = await oldThread(dir, 'said long ago');
  const store = await CommentStore.open(dir, { clock: () => T0 });
  // The same text as every old comment: outside the window, so not a duplicate.
  const posted = await store.addComment(threadId, META, record('said long ago'), {
    duplicateWindowMs: WINDOW_MS,
  });
  assert.equal(posted.created, true);
  // Fails when the check summarises every comment of the thread (OLD + 2).
  const summaries = store.cacheStats().summaryBytes / SUMMARY_BYTES;
  assert.ok(summaries <= 2, `${summaries} comments summarised`);
  // Within the window it is one.
  await assert.rejects(
    store.addComment(threadId, META, record('said long ago'), { duplicateWindowMs: WINDOW_MS }),
    { code: 'duplicate' },
  );
  await assert.rejects(
    store.addComment(threadId, META, record('the first'), { duplicateWindowMs: WINDOW_MS }),
    { code: 'duplicate' },
  );
});

test('a retry without a claim still finds its first attempt among old comments after a window-only check', async (t) => {
  const dir = tempDir(t);
  const threadId = await oldThread(dir, 'filler');
  // An old comment with a nonce and no claim (a power cut lost it): only a summary of every comment finds it.
  const threadDir = path.join(dir, 'threads', threadId);
  const lost = '20261125T090000Z-0';
  const dayBefore = new Date(T0 - 86_400_000).toISOString();
  fs.writeFileSync(
    path.join(threadDir, `${lost}.json`),
    serialiseRecord(record('kept', { nonce: 'n-lost', created: dayBefore })),
  );
  const store = await CommentStore.open(dir, { clock: () => T0 });
  await store.addComment(threadId, META, record('a new one'), { duplicateWindowMs: WINDOW_MS });
  const again = await store.addComment(threadId, META, record('kept', { nonce: 'n-lost' }), {
    duplicateWindowMs: WINDOW_MS,
  });
  assert.equal(again.created, false);
  assert.equal(again.stem, lost);
});
