/**
 * LineBatcher (store/line-batch.ts): lines added while a record is written share the next record; with
 * `gatherMs`, lines added one after another share one record too, and idle() writes what is gathering at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { LineBatcher } from '../src/store/line-batch.js';

/** A writer that keeps each record's body, and resolves each write on the next turn of the event loop. */
function recorder() {
  const records: string[] = [];
  const write = async (body: string) => {
    await nextTurn();
    records.push(body);
    return `r${records.length}`;
  };
  return { records, write };
}

test('without gathering, a line alone is a record of its own; lines added during a write share the next', async () => {
  const { records, write } = recorder();
  const b = new LineBatcher(write, 64);
  assert.deepEqual(await b.add('a'), { id: 'r1', index: 0 });
  // 'b' finds no write under way and goes alone; 'c' and 'd', added while it is written, share the next record.
  const first = b.add('b');
  const rest = [b.add('c'), b.add('d')];
  assert.deepEqual(await first, { id: 'r2', index: 0 });
  assert.deepEqual(await Promise.all(rest), [
    { id: 'r3', index: 0 },
    { id: 'r3', index: 1 },
  ]);
  assert.deepEqual(records, ['a\n', 'b\n', 'c\nd\n']);
});

test('with gatherMs, lines added one after another within the window share one record', async () => {
  const { records, write } = recorder();
  const b = new LineBatcher(write, 64, 200);
  const places = [];
  for (const line of ['a', 'b', 'c', 'd']) {
    places.push(b.add(line));
    // Separate turns of the event loop, as separate requests' notes are.
    await nextTurn();
  }
  assert.deepEqual(records, [], 'written before the window closed');
  assert.deepEqual(
    (await Promise.all(places)).map((p) => p.id),
    ['r1', 'r1', 'r1', 'r1'],
  );
  assert.deepEqual(records, ['a\nb\nc\nd\n']);
});

test('idle() writes the lines still gathering without waiting out the window; a full record goes at once', async () => {
  const { records, write } = recorder();
  // A window no test would wait out: only idle() or a full record can end it.
  const b = new LineBatcher(write, 3, 3_600_000);
  const a = b.add('a');
  await nextTurn();
  await b.idle();
  assert.deepEqual(await a, { id: 'r1', index: 0 });
  const full = ['x', 'y', 'z'].map((l) => b.add(l));
  assert.deepEqual(
    (await Promise.all(full)).map((p) => p.id),
    ['r2', 'r2', 'r2'],
  );
  assert.deepEqual(records, ['a\n', 'x\ny\nz\n']);
});
