/** TaskPool's idle workers: each is a V8 isolate of its own, so one left idle is ended and started again on need. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { renderFull } from '../src/server/markdown-render.js';
import { TaskPool } from '../src/server/task-pool.js';

const worker = new URL('../src/server/markdown-worker.js', import.meta.url);
const threads = () => fs.readdirSync('/proc/self/task').length;

/** Waits (polling, bounded by the test's timeout) until `ok()` holds. */
async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 10));
}

test('a worker idle for idleMs ends with its thread; the next task starts another', async (t) => {
  const pool = new TaskPool<string, string>({
    file: worker,
    size: 1,
    maxQueue: 4,
    timeoutMs: 10_000,
    idleMs: 20,
  });
  t.after(() => pool.close());
  assert.equal(await pool.run('*one*'), renderFull('*one*'));
  const withWorker = threads();
  await until(() => pool.workers === 0);
  await until(() => threads() < withWorker);
  assert.equal(await pool.run('**two**'), renderFull('**two**'), 'a new worker takes the next task');
  assert.equal(pool.workers, 1);
});

test('a busy worker is never ended for idleness, whatever its tasks take', async (t) => {
  const pool = new TaskPool<string, string>({
    file: worker,
    size: 2,
    maxQueue: 8,
    timeoutMs: 30_000,
    idleMs: 1,
  });
  t.after(() => pool.close());
  // Each render takes far longer than idleMs (micromark's cost grows fast on runs of `*_`).
  const slow = (i: number) => `${i} ${'*_'.repeat(600)}`;
  const texts = [0, 1, 2, 3, 4, 5].map(slow);
  const got = await Promise.all(texts.map((x) => pool.run(x)));
  assert.deepEqual(got, texts.map(renderFull));
  for (const x of texts.slice(0, 2)) assert.equal(await pool.run(x), renderFull(x), 'one after another');
});

test('without idleMs a pool keeps its worker between tasks', async (t) => {
  const pool = new TaskPool<string, string>({ file: worker, size: 1, maxQueue: 4, timeoutMs: 10_000 });
  t.after(() => pool.close());
  await pool.run('*a*');
  await pool.run('*b*');
  assert.equal(pool.workers, 1);
});
