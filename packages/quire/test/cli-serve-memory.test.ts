/** `quire serve` says which of the deploy files' memory settings it runs without (docs/comment-service.md). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { missingMemorySettings } from '../src/cli/serve.js';
import { start, tempDir } from './fixtures/cli-helpers.js';

const MALLOC = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };

test('the memory settings missing: flags given to node or in NODE_OPTIONS, and glibc malloc variables', () => {
  const all = [
    '--max-semi-space-size=1',
    '--max-old-space-size=128',
    'MALLOC_ARENA_MAX=2',
    'MALLOC_MMAP_THRESHOLD_=131072',
    'MALLOC_TRIM_THRESHOLD_=131072',
  ];
  assert.deepEqual(missingMemorySettings([], {}), all);
  assert.deepEqual(
    missingMemorySettings(['--max_old_space_size=256'], {
      NODE_OPTIONS: '--trace-warnings --max-semi-space-size=2',
      MALLOC_ARENA_MAX: '4',
      MALLOC_MMAP_THRESHOLD_: '262144',
      MALLOC_TRIM_THRESHOLD_: '0',
    }),
    [],
    'any value the operator chose counts, in either spelling of a V8 flag',
  );
  assert.deepEqual(missingMemorySettings(['--max-semi-space-size', '1'], {}), all.slice(1));
  assert.deepEqual(missingMemorySettings([], { MALLOC_ARENA_MAX: '2' }), [
    ...all.slice(0, 2),
    ...all.slice(3),
  ]);
});

test('quire serve run without them says so once it listens; with them, nothing', async (t) => {
  const env = (extra: NodeJS.ProcessEnv) => {
    const e: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith('QUIRE_') && k !== 'NODE_OPTIONS' && !k.startsWith('MALLOC_')) e[k] = v;
    return { ...e, QUIRE_LOG_LEVEL: 'silent', QUIRE_ORIGINS: 'https://blog.example.org', ...extra };
  };
  for (const [extra, nodeArgs, note] of [
    [{}, [], true],
    [
      { NODE_OPTIONS: '--max-semi-space-size=1 --max-old-space-size=128', ...MALLOC },
      ['--max-old-space-size=96'],
      false,
    ],
  ] as const) {
    const args = ['serve', '--data', tempDir(t), '--port', '0', '--host', '127.0.0.1'];
    const s = start(t, args, env(extra), nodeArgs);
    await s.stderrMatch(/listening on/);
    s.child.kill('SIGTERM');
    const { stderr } = await s.done;
    if (note)
      assert.match(
        stderr,
        /note: running without --max-semi-space-size=1 --max-old-space-size=128 MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072/,
      );
    else assert.doesNotMatch(stderr, /note/);
  }
});
