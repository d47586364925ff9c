/** Storage faults told, not hidden: a full disk is 507 storage-full, /healthz says so until writes work again. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { hasCommand, isRoot, mountTmpfs, requireOrSkip } from '@quire/testkit';
import { toProblem } from '../src/server/problem.js';
import { isProblem, startTestServer } from './fixtures/srv-helpers.js';

/** Fills the filesystem of `dir` to the last byte with one file; returns its path. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  for (const chunk of [65536, 4096, 512, 1]) {
    const bytes = Buffer.alloc(chunk, 120);
    for (;;) {
      try {
        fs.appendFileSync(file, bytes);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        break;
      }
    }
  }
  return file;
}

test('a full disk: POST is 507 storage-full, /healthz 503; space freed: POST 201, /healthz 200', async (t) => {
  if (!requireOrSkip(t, isRoot && hasCommand('mount'), 'mounting a tmpfs needs root')) return;
  const mount = mountTmpfs(t, '4m');
  const s = await startTestServer(t, {}, { dataDir: path.join(mount, 'data') });
  assert.equal((await s.post({ text: 'before' })).status, 201);
  assert.equal((await s.request('GET', '/healthz')).status, 200);
  const filler = fill(mount);

  const full = await s.post({ text: 'while the disk is full' });
  assert.ok(isProblem(full, 507, 'storage-full'), full.text);
  assert.ok(Number(full.headers.get('retry-after')) > 0);
  const sick = await s.request('GET', '/healthz');
  assert.ok(isProblem(sick, 503, 'storage-full'), sick.text);
  assert.ok(Number(sick.headers.get('retry-after')) > 0);

  fs.rmSync(filler);
  const after = await s.post({ text: 'after space was freed' });
  assert.equal(after.status, 201, after.text);
  assert.equal((await s.request('GET', '/healthz')).status, 200);
  const texts = (
    await s.request('GET', `/api/comments?uri=${encodeURIComponent('https://blog.example.org/2026/hello')}`)
  ).body.comments.map((c: { text: string }) => c.text);
  assert.deepEqual(texts, ['before', 'after space was freed']);
});

test("a vanished data directory: /healthz 503 storage-unavailable; the store's refusal is 503, not 500", async (t) => {
  const s = await startTestServer(t);
  assert.equal((await s.post({ text: 'before' })).status, 201);
  fs.rmSync(s.dataDir, { recursive: true, force: true });
  const sick = await s.request('GET', '/healthz');
  assert.ok(isProblem(sick, 503, 'storage-unavailable'), sick.text);
  assert.ok(Number(sick.headers.get('retry-after')) > 0);
  // The store refuses to write into a vanished tree (StoreUnavailableError, data-dir-missing): 503, not 500.
  for (const uri of ['https://blog.example.org/2026/hello', 'https://blog.example.org/new-page']) {
    const post = await s.post({ uri, text: 'into nothing' });
    assert.ok(isProblem(post, 503, 'storage-unavailable'), post.text);
    assert.ok(Number(post.headers.get('retry-after')) > 0);
  }
  assert.equal(fs.existsSync(s.dataDir), false, 'nothing re-created the data directory');
  for (const code of ['EROFS', 'EIO']) {
    const p = toProblem(Object.assign(new Error(code), { code })).problem;
    assert.deepEqual([p.status, p.code], [503, 'storage-unavailable'], code);
  }
  assert.equal(toProblem(Object.assign(new Error('EDQUOT'), { code: 'EDQUOT' })).problem.status, 507);
});
