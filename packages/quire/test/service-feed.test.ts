/** The site feed reads maintained, bounded data (the recent-comments index), never every thread. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startTestServer, tempDir } from './fixtures/srv-helpers.js';

/** Entry titles of an Atom feed, in order. */
function entryTexts(atom: string): string[] {
  return [...atom.matchAll(/<content type="html">&lt;p&gt;(.*?)&lt;\/p&gt;<\/content>/g)].map(
    (m) => m[1] as string,
  );
}

test('the site feed never reads every thread: 2,000 threads it has no reason to read are not read', async (t) => {
  const s = await startTestServer(t);
  for (let i = 0; i < 3; i++) {
    const r = await s.post({ uri: `https://blog.example.org/p${i}`, text: `comment ${i}` });
    assert.equal(r.status, 201, r.text);
    s.advance(1000);
  }
  // Thread names that are not thread directories: any request that lists or reads them fails.
  const threads = path.join(s.dataDir, 'threads');
  for (let i = 0; i < 2000; i++) {
    fs.writeFileSync(path.join(threads, `old-example-org-p${i}-${'0'.repeat(32)}`.slice(0, 60)), 'x');
  }
  const feed = await s.request('GET', '/feed.atom');
  assert.equal(feed.status, 200, feed.text.slice(0, 300));
  assert.deepEqual(entryTexts(feed.text), ['comment 2', 'comment 1', 'comment 0']);
  // A new comment is in the next feed (this process's changes invalidate the cached one).
  assert.equal((await s.post({ uri: 'https://blog.example.org/p9', text: 'comment 9' })).status, 201);
  assert.deepEqual(entryTexts((await s.request('GET', '/feed.atom')).text).slice(0, 2), [
    'comment 9',
    'comment 2',
  ]);
});

test('the recent-comments index is derived data: removed, it is rebuilt from the threads', async (t) => {
  const dataDir = tempDir(t);
  const first = await startTestServer(t, {}, { dataDir });
  for (let i = 0; i < 3; i++) {
    assert.equal(
      (await first.post({ uri: `https://blog.example.org/r${i}`, text: `kept ${i}` })).status,
      201,
    );
    first.advance(1000);
  }
  await first.server.close();
  fs.rmSync(path.join(dataDir, 'recent'), { recursive: true, force: true });
  const second = await startTestServer(t, {}, { dataDir });
  const feed = await second.request('GET', '/feed.atom');
  assert.equal(feed.status, 200, feed.text.slice(0, 300));
  assert.deepEqual(entryTexts(feed.text), ['kept 2', 'kept 1', 'kept 0']);
});
