/**
 * A `quire` command loads only what it needs: `quire ls` starts in the time of @quire/fs, not of the comment
 * service. Checked by which modules were loaded, never by timing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bin, records, tempDir } from './fixtures/cli-helpers.js';

const tracer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'cli-trace-loads.js');

/** The modules `node ARGS...` loaded, as URLs, after checking it exited 0. */
function loaded(t: TestContext, args: string[], input = ''): string[] {
  const out = path.join(tempDir(t), 'loads');
  const r = spawnSync(process.execPath, ['--import', tracer, ...args], {
    input,
    env: { ...process.env, QUIRE_TRACE_LOADS: out },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return fs.readFileSync(out, 'utf8').split('\n').filter(Boolean);
}

/** The comment service's parts, which no spool command needs. */
const SERVICE = [/\/node_modules\/fastify\//, /\/node_modules\/micromark/, /\/dist\/src\/(server|store)\//];

function assertNone(urls: string[], patterns: RegExp[], what: string): void {
  for (const re of patterns) {
    const hit = urls.find((u) => re.test(u));
    assert.equal(hit, undefined, `${what} loaded ${hit}`);
  }
}

test('the load tracer sees an ES module and a CommonJS package imported from one', (t) => {
  const urls = loaded(t, ['--input-type=module', '-e', "import 'micromark'; import 'fastify';"]);
  assert.ok(urls.some((u) => /\/node_modules\/fastify\//.test(u)));
  assert.ok(urls.some((u) => /\/node_modules\/micromark\//.test(u)));
});

test('quire ls, cat, append and tail load @quire/fs but not Fastify, micromark, the server or the store', (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0']);
  for (const [args, input] of [
    [['ls', dir], ''],
    [['cat', dir, '20261126T101500Z-0'], ''],
    [['tail', '-n', '1', dir], ''],
    [['append', dir], 'x'],
  ] as const) {
    const urls = loaded(t, [bin, ...args], input);
    assert.ok(
      urls.some((u) => /\/(fs|@quire\/fs)\/dist\/src\/spool\.js$/.test(u)),
      `quire ${args[0]} loads the spool`,
    );
    assertNone(urls, SERVICE, `quire ${args[0]}`);
  }
});

test('quire --help and quire serve --help load neither the service nor @quire/fs', (t) => {
  for (const args of [['--help'], ['serve', '--help'], ['hash-password', '--help']]) {
    const urls = loaded(t, [bin, ...args]);
    assertNone(urls, [...SERVICE, /\/fs\/dist\/src\//], `quire ${args.join(' ')}`);
  }
});
