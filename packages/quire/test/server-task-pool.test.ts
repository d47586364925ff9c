/** TaskPool's idle workers: each is a V8 isolate of its own, so one left idle is ended and started again on need. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { type TestContext, test } from 'node:test';
import { renderFull } from '../src/server/markdown-render.js';
import { TaskPool, type TaskPoolOptions } from '../src/server/task-pool.js';

const worker = new URL('../src/server/markdown-worker.js', import.meta.url);
const threads = () => fs.readdirSync('/proc/self/task').length;

/** A Markdown pool of `opts` (one worker, 10 s per task by default), closed after the test. */
function pool(t: TestContext, opts: Partial<TaskPoolOptions>): TaskPool<string, string> {
  const p = new TaskPool<string, string>({ file: worker, size: 1, maxQueue: 8, timeoutMs: 10_000, ...opts });
  t.after(() => p.close());
  return p;
}

/** Waits (polling, bounded by the test's timeout) until `ok()` holds. */
async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 10));
}

test('a worker idle for idleMs ends with its thread; the next task starts another', async (t) => {
  const p = pool(t, { idleMs: 20 });
  assert.equal(await p.run('*one*'), renderFull('*one*'));
  const withWorker = threads();
  await until(() => p.workers === 0);
  await until(() => threads() < withWorker);
  assert.equal(await p.run('**two**'), renderFull('**two**'), 'a new worker takes the next task');
  assert.equal(p.workers, 1);
});

test('a busy worker is never ended for idleness, whatever its tasks take', async (t) => {
  const p = pool(t, { size: 2, timeoutMs: 30_000, idleMs: 1 });
  // Each render takes far longer than idleMs (micromark's cost grows fast on runs of `*_`).
  const slow = (i: number) => `${i} ${'*_'.repeat(600)}`;
  const texts = [0, 1, 2, 3, 4, 5].map(slow);
  const got = await Promise.all(texts.map((x) => p.run(x)));
  assert.deepEqual(got, texts.map(renderFull));
  for (const x of texts.slice(0, 2)) assert.equal(await p.run(x), renderFull(x), 'one after another');
});

test('without idleMs a pool keeps its worker between tasks', async (t) => {
  const p = pool(t, {});
  await p.run('*a*');
  await p.run('*b*');
  assert.equal(p.workers, 1);
});
