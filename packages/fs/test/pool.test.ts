/**
 * The addon's threads (native/pool.c): after a burst has started many of them, a caller making one call at a
 * time has its calls run by one thread, the one that went to sleep last, not by each idle thread in turn (each
 * with its stack and kernel state cold). Told by the threads' voluntary context switches: an idle thread that
 * is never woken makes none.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { createUnique, implementation } from '@quire/fs';
import { tempDir } from './helpers.js';

/** The addon's threads (named in pool.c) and how often each has gone to sleep. */
function sleeps(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      if (!fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith('quire-fs-io')) continue;
      const status = fs.readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
      out.set(tid, Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1]));
    } catch {
      // a thread that is gone (none of ours ever exits)
    }
  }
  return out;
}

test('one call at a time after a burst runs on the thread that slept last; the JS protocol starts none', async (t) => {
  const dir = tempDir(t, 'quire-pool-');
  const data = Buffer.from('x');
  await Promise.all(Array.from({ length: 32 }, () => createUnique(dir, data)));
  // A few calls one at a time first: every thread of the burst has gone back to sleep after them.
  for (let i = 0; i < 4; i++) await createUnique(dir, data);
  if (implementation !== 'native') {
    // QUIRE_FS_PURE_JS=1 (npm test's second pass): libuv's pool does the work, and the addon never starts.
    assert.equal(sleeps().size, 0, 'the pure-JS protocol started the addon’s threads');
    assert.equal(fs.readdirSync(dir).length, 36);
    return;
  }
  const before = sleeps();
  assert.ok(before.size >= 4, `the burst started ${before.size} threads: nothing to choose from`);
  for (let i = 0; i < 40; i++) await createUnique(dir, data);
  const after = sleeps();
  const ran = [...after].filter(([tid, n]) => n !== before.get(tid)).length;
  assert.ok(ran <= 2, `40 calls one at a time woke ${ran} of ${after.size} threads`);
  assert.equal(fs.readdirSync(dir).length, 76);
});
