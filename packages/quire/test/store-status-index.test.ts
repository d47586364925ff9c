/** The site's status index (store/status-index.ts): the admin lists at any site size, rebuilt, crash-safe, shared. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CommentStore, threadIdOf } from '../src/index.js';
import { type CommentRef, newestFirst } from '../src/store/status-index.js';
import { quire } from './fixtures/cli-helpers.js';
import { spawnFixture, tempDir, waitExit, waitForLine } from './fixtures/srv-helpers.js';
import { META, record } from './fixtures/srv-records.js';

/** The comments of the site with `status`, from the comment files themselves, newest first. */
function truth(dataDir: string, status = 'pending'): string[] {
  const out: CommentRef[] = [];
  const threads = path.join(dataDir, 'threads');
  for (const threadId of fs.readdirSync(threads)) {
    for (const name of fs.readdirSync(path.join(threads, threadId))) {
      if (name.startsWith('.') || !name.endsWith('.json')) continue;
      const r = JSON.parse(fs.readFileSync(path.join(threads, threadId, name), 'utf8')) as { status: string };
      if (r.status === status) out.push({ threadId, stem: name.slice(0, -5) });
    }
  }
  return out.sort(newestFirst).map((r) => `${r.threadId}_${r.stem}`);
}

/** A list of `status` as a fresh store (another reader) gives it, all of it. */
async function queue(
  dataDir: string,
  store?: CommentStore,
  status: 'pending' | 'spam' | 'deleted' = 'pending',
): Promise<string[]> {
  const s = store ?? (await CommentStore.open(dataDir, { durable: false }));
  const page = await s.moderatedPage({ status, limit: 1000 });
  return page.comments.map((c) => `${c.threadId}_${c.stem}`);
}

/** Every indexed status's list equals the files. */
async function allEqual(dataDir: string, what: string): Promise<void> {
  for (const status of ['pending', 'spam', 'deleted'] as const)
    assert.deepEqual(await queue(dataDir, undefined, status), truth(dataDir, status), `${status} ${what}`);
}

/** Comments in `n` threads: every third pending, some judged, some deleted, one edited back to pending. */
async function fill(dataDir: string, n: number): Promise<CommentStore> {
  let now = Date.UTC(2026, 0, 1);
  const store = await CommentStore.open(dataDir, { durable: false, clock: () => (now += 1000) });
  for (let i = 0; i < n * 6; i++) {
    const uri = `https://example.org/p/${i % n}`;
    const status = i % 3 === 0 ? 'pending' : 'approved';
    const r = await store.addComment(threadIdOf(uri), { ...META, uri }, record(`c${i}`, { status }), {
      duplicateWindowMs: 0,
    });
    if (i % 9 === 0) await store.judgeComment(threadIdOf(uri), r.stem, i % 2 === 0 ? 'approved' : 'spam');
    if (i === 4) await store.updateComment(threadIdOf(uri), r.stem, (c) => ({ ...c, status: 'pending' }));
    if (i % 11 === 5) await store.deleteComment(threadIdOf(uri), r.stem, { by: 'moderator' }, 60_000);
  }
  return store;
}

test('the queue lists every pending comment of the site newest first, page by page, reading no thread index', async (t) => {
  const dataDir = tempDir(t);
  await fill(dataDir, 12);
  const want = truth(dataDir);
  assert.ok(want.length > 15, `${want.length} pending`);
  const reader = await CommentStore.open(dataDir, { durable: false });
  assert.deepEqual(await queue(dataDir, reader), want);
  for (const status of ['spam', 'deleted'] as const)
    assert.deepEqual(await queue(dataDir, reader, status), truth(dataDir, status));
  const everything = ['pending', 'spam', 'deleted', 'approved']
    .flatMap((status) => truth(dataDir, status))
    .map((id) => ({ threadId: id.slice(0, id.lastIndexOf('_')), stem: id.slice(id.lastIndexOf('_') + 1) }))
    .sort(newestFirst)
    .map((r) => `${r.threadId}_${r.stem}`);
  const newest = await reader.moderatedPage({ status: 'all', limit: 20 });
  assert.deepEqual(
    newest.comments.map((c) => `${c.threadId}_${c.stem}`),
    everything.slice(0, 20),
  );
  assert.equal(newest.more, true);
  // The lists came from the status and recent-comments indexes alone: no thread's index was loaded for them.
  assert.equal(reader.cacheStats().indexBytes, 0);
  const paged: string[] = [];
  let after: CommentRef | undefined;
  for (;;) {
    const p = await reader.moderatedPage({ status: 'pending', limit: 4, ...(after ? { after } : {}) });
    paged.push(...p.comments.map((c) => `${c.threadId}_${c.stem}`));
    const last = p.comments[p.comments.length - 1];
    if (!p.more || last === undefined) break;
    after = last;
  }
  assert.deepEqual(paged, want);
  const one = threadIdOf('https://example.org/p/3');
  const ofOne = await reader.moderatedPage({ status: 'pending', limit: 100, threadIds: [one] });
  assert.deepEqual(
    ofOne.comments.map((c) => `${c.threadId}_${c.stem}`),
    want.filter((id) => id.startsWith(`${one}_`)),
  );
});

test('a stale entry is skipped and removed, and a missing index is built again from the threads', async (t) => {
  const dataDir = tempDir(t);
  const store = await fill(dataDir, 3);
  const want = truth(dataDir);
  const approved = (await store.moderatedPage({ status: 'approved', limit: 1 })).comments[0];
  assert.ok(approved !== undefined);
  const stale = path.join(dataDir, 'status', 'pending', `${approved.threadId}_${approved.stem}`);
  const ghost = path.join(dataDir, 'status', 'pending', `${approved.threadId}_20260101T000000Z-7`);
  fs.writeFileSync(stale, '');
  fs.writeFileSync(ghost, '');
  assert.deepEqual(await queue(dataDir), want);
  assert.equal(fs.existsSync(stale), false, 'the entry of an approved comment is gone');
  assert.equal(fs.existsSync(ghost), false, 'the entry of no comment is gone');
  fs.rmSync(path.join(dataDir, 'status'), { recursive: true });
  await allEqual(dataDir, 'rebuilt from the threads');
  assert.ok(fs.existsSync(path.join(dataDir, 'status', '.complete')));
});

test('quire fsck finds pending comments missing from the index, and --repair writes it afresh', async (t) => {
  const dataDir = tempDir(t);
  await fill(dataDir, 4);
  const want = truth(dataDir);
  for (const id of want.slice(0, 3)) fs.rmSync(path.join(dataDir, 'status', 'pending', id));
  assert.notDeepEqual(await queue(dataDir), want, 'the index is believed');
  const found = await quire(t, ['fsck', dataDir]);
  assert.equal(found.code, 1);
  assert.match(found.stdout.toString(), /found\tincomplete\tstatus\t3 comment\(s\) missing/);
  const repaired = await quire(t, ['fsck', dataDir, '--repair']);
  assert.equal(repaired.code, 0, repaired.stdout.toString());
  await allEqual(dataDir, 'after --repair');
});

/** Runs the writer until it dies at `dieAt` (inside the index update) or, if that step had none, kills it after. */
async function crashOnce(dataDir: string, seed: number, dieAt: number): Promise<boolean> {
  const child: ChildProcess = spawnFixture('status-writer', [
    dataDir,
    String(seed),
    '1000000',
    String(dieAt),
  ]);
  const exited = waitExit(child);
  const passed = await waitForLine(child, new RegExp(`^ops ${dieAt}$`)).then(
    () => true,
    () => false,
  );
  child.kill('SIGKILL');
  await exited;
  return !passed;
}

test('SIGKILL between a comment and its index entry, or anywhere, leaves a queue equal to the files', async (t) => {
  const dataDir = tempDir(t);
  await CommentStore.open(dataDir);
  let inside = 0;
  for (let round = 0; round < 10; round++) {
    if (await crashOnce(dataDir, round + 1, 10 + round * 3)) inside++;
    await allEqual(dataDir, `after kill ${round + 1}`);
    assert.deepEqual(
      fs.readdirSync(path.join(dataDir, 'status', '.writing')).filter((n) => !n.startsWith('.')),
      [],
      "the dead writer's mark was reconciled and removed",
    );
  }
  assert.ok(inside >= 3, `${inside} of 10 kills fell between a comment and its entry`);
});

test('several processes writing the same threads while another reads: the queue equals the files', async (t) => {
  const dataDir = tempDir(t);
  await CommentStore.open(dataDir);
  const writers = [1, 2, 3].map((seed) =>
    spawnFixture('status-writer', [dataDir, String(seed * 101), '150']),
  );
  const done = writers.map(waitExit);
  const reader = await CommentStore.open(dataDir, { durable: false });
  let reading = true;
  const reads = (async () => {
    // Pages read (and stale entries removed) while the writers change the same comments.
    while (reading) await reader.moderatedPage({ status: 'pending', limit: 50 });
  })();
  for (const exit of await Promise.all(done)) assert.equal(exit.code, 0, exit.stderr);
  reading = false;
  await reads;
  assert.deepEqual(await queue(dataDir, reader), truth(dataDir));
  await allEqual(dataDir, 'after three writers');
});
