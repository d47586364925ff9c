/**
 * Issue 13: server-side deadlines. A post's lock wait and a whole request have deadlines past which the answer
 * is a problem+json 503 with Retry-After, and a retry with the same nonce still makes exactly one comment. The
 * lock is held by another process (`quire lock` on the thread's `.post.lock`), as a stalled host would hold it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { configFromEnv, resolveConfig } from '../src/config.js';
import { bin } from './fixtures/cli-helpers.js';
import {
  type Answer,
  isProblem,
  request,
  spawnServer,
  tempDir,
  waitExit,
  waitForLine,
} from './fixtures/srv-helpers.js';

const PAGE = 'https://blog.example.org/deadlines';

/** A `quire lock` process holding the whole `file` until `release()`: every byte lock in it waits. */
async function holdLock(t: TestContext, file: string): Promise<{ release(): Promise<void> }> {
  const holder: ChildProcess = spawn(
    process.execPath,
    [bin, 'lock', file, '--', 'sh', '-c', 'echo held; exec cat'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  t.after(() => holder.kill('SIGKILL'));
  await waitForLine(holder, /^held$/);
  const exit = waitExit(holder);
  return {
    async release() {
      holder.stdin?.end();
      assert.equal((await exit).code, 0);
    },
  };
}

/** A server on a fresh data directory with the given deadlines, its log lines collected from stderr. */
async function server(t: TestContext, deadlines: Record<string, number>) {
  const dataDir = path.join(tempDir(t), 'data');
  const s = await spawnServer(t, dataDir, { deadlines }, { QUIRE_TEST_LOG: '1' });
  let log = '';
  let wake = () => {};
  s.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    log += d;
    wake();
  });
  const formToken = async (): Promise<string> => {
    // A form token is only read: on a busy machine past the deadline, it is asked for again.
    for (;;) {
      const r = await request(s.url, 'GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`);
      if (r.status === 200) return r.body.formToken;
      assert.ok(isProblem(r, 503, 'deadline-exceeded'), r.text);
    }
  };
  const post = async (body: Record<string, unknown>): Promise<Answer> =>
    request(s.url, 'POST', '/api/comments', { uri: PAGE, formToken: await formToken(), ...body });
  /** Resolves once the log has `n` lines matching `re` (the server's own account of what it did). */
  const logged = async (re: RegExp, n: number): Promise<void> => {
    while ((log.match(new RegExp(re, 'g')) ?? []).length < n) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
  // The page's thread exists (so its lock file can be held) once it has a first comment. Should the post pass
  // the deadline on a busy machine, its retries with the same nonce make it exactly once.
  let first = await post({ text: 'first of the page', nonce: 'deadline-setup-0001' });
  for (let attempt = 2; first.status === 503; attempt++) {
    first = await post({ text: 'first of the page', nonce: 'deadline-setup-0001', attempt });
  }
  assert.equal(first.status, 201, first.text);
  const threads = path.join(dataDir, 'threads');
  const [dir] = fs.readdirSync(threads);
  const lockFile = path.join(threads, dir as string, '.post.lock');
  const texts = async () => {
    let r = await request(s.url, 'GET', `/api/comments?uri=${encodeURIComponent(PAGE)}`);
    while (isProblem(r, 503, 'deadline-exceeded')) {
      r = await request(s.url, 'GET', `/api/comments?uri=${encodeURIComponent(PAGE)}`);
    }
    assert.equal(r.status, 200, r.text);
    const all: string[] = [];
    const walk = (cs: { text: string; replies?: unknown[] }[]) => {
      for (const c of cs) {
        all.push(c.text);
        walk((c.replies ?? []) as { text: string; replies?: unknown[] }[]);
      }
    };
    walk(r.body.comments);
    return all;
  };
  return { url: s.url, post, logged, lockFile, texts };
}

function assertDeadline(r: Answer, retryAfter: string): void {
  assert.ok(isProblem(r, 503, 'deadline-exceeded'), r.text);
  assert.equal(r.headers.get('retry-after'), retryAfter);
  assert.equal(r.body.retryAfter, Number(retryAfter));
}

test('a POST whose lock wait times out answers 503 with Retry-After; its retry makes exactly one comment', {
  timeout: 60_000,
}, async (t) => {
  const s = await server(t, { lockWaitMs: 200, retryAfterSeconds: 3 });
  const holder = await holdLock(t, s.lockFile);
  const body = { text: 'waited too long', nonce: 'deadline-nonce-0001' };
  assertDeadline(await s.post(body), '3');
  await holder.release();
  const retry = await s.post({ ...body, attempt: 2 });
  assert.equal(retry.status, 201, retry.text);
  const again = await s.post({ ...body, attempt: 3 });
  assert.equal(again.body.comment.id, retry.body.comment.id);
  assert.deepEqual((await s.texts()).sort(), ['first of the page', 'waited too long']);
});

test('a request past its deadline answers 503 at once; the post it began publishes, and its retry returns that comment', {
  timeout: 60_000,
}, async (t) => {
  const s = await server(t, { lockWaitMs: 600_000, requestMs: 1_000, retryAfterSeconds: 2 });
  const holder = await holdLock(t, s.lockFile);
  const body = { text: 'answered late', nonce: 'deadline-nonce-0002' };
  assertDeadline(await s.post(body), '2');
  // The first attempt still waits for its lock; once it has it, it publishes, unobserved.
  await holder.release();
  await s.logged(/"created":true[^\n]*"comment posted"/, 2);
  let retry = await s.post({ ...body, attempt: 2 });
  // Retries of the retry, should a busy machine make it late too: still one comment.
  for (let attempt = 3; retry.status === 503; attempt++) retry = await s.post({ ...body, attempt });
  assert.equal(retry.status, 201, retry.text);
  assert.equal(retry.body.comment.text, 'answered late');
  assert.deepEqual((await s.texts()).sort(), ['answered late', 'first of the page']);
});

test('the deadlines are settings with environment variables, checked', () => {
  const c = resolveConfig(
    configFromEnv({
      QUIRE_LOCK_WAIT_MS: '250',
      QUIRE_REQUEST_DEADLINE_MS: '0',
      QUIRE_RETRY_AFTER_SECONDS: '7',
    }),
  );
  assert.deepEqual(c.deadlines, { lockWaitMs: 250, requestMs: 0, retryAfterSeconds: 7 });
  assert.equal(resolveConfig(configFromEnv({ QUIRE_VIEW_LIST_AFTER_MS: '0' })).freshness.viewListAfterMs, 0);
  assert.throws(() => resolveConfig({ deadlines: { lockWaitMs: 0 } }), /lockWaitMs/);
});
