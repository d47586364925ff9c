/** `quire`'s output when the reader goes away or the disk is full. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { bin, records, shell, tempDir } from './fixtures/cli-helpers.js';

test('quire cat DIR ID | head -c 10 ends quietly with exit 0 when head stops reading', async (t) => {
  const dir = tempDir(t);
  // 4 MiB, more than any pipe holds, so quire is still writing when head exits.
  const big = Buffer.alloc(4 << 20, 'a');
  records(dir, []);
  fs.writeFileSync(path.join(dir, '20261126T101500Z-0'), big);
  const r = await shell('{ "$0" "$1" cat "$2" "$3"; echo "quire exited $?" >&2; } | head -c 10', [
    dir,
    '20261126T101500Z-0',
  ]);
  assert.equal(r.stdout, 'aaaaaaaaaa');
  assert.equal(r.stderr, 'quire exited 0\n');
});

test('quire ls DIR | head -1 ends quietly with exit 0 when head has already gone', async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0', '20261126T101500Z-1']);
  // head -c 0 exits without reading; quire starts once a write to the pipe has failed, so its write fails too.
  const r = await shell(
    'trap "" PIPE; { while printf x 2>/dev/null; do :; done; "$0" "$1" ls "$2"; echo "quire exited $?" >&2; } | head -c 0',
    [dir],
  );
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'quire exited 0\n');
});

test('output that cannot be written (a full disk) is one error line and exit 1', async (t) => {
  if (!fs.existsSync('/dev/full')) return t.skip('no /dev/full here');
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0']);
  const full = fs.openSync('/dev/full', 'w');
  t.after(() => fs.closeSync(full));
  const child = spawn(process.execPath, [bin, 'ls', dir], { stdio: ['ignore', full, 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 1);
  assert.equal(stderr, 'quire ls: cannot write output: ENOSPC\n');
});
