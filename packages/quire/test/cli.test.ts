import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The built CLI: this file is dist/test/cli.test.js, the CLI dist/src/cli/bin.cjs. */
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'bin.cjs');

const COMMANDS = ['append', 'ls', 'cat', 'tail', 'fsck', 'lock'];

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes records under fixed names, so that tests know the ids and their order. */
function records(dir: string, names: string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of names) fs.writeFileSync(path.join(dir, name), `content of ${name}`);
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  /** How the process exited, as soon as it has (its output may still be open in processes it started). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the process has exited and its output has ended. */
  done: Promise<Exit>;
  /** The first `n` lines of standard output, once it has printed them. */
  lines(n: number): Promise<string[]>;
}

/** Starts `quire args...`; the test's end kills it if it still runs and closes the pipes. */
function start(t: TestContext, args: string[]): Running {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin?.on('error', () => {});
  const out: Buffer[] = [];
  let stderr = '';
  let wake = () => {};
  child.stdout?.on('data', (d: Buffer) => {
    out.push(d);
    wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  let ended = false;
  const done = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended = true;
      wake();
      resolve({ code, signal, stdout: Buffer.concat(out), stderr });
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  t.after(() => {
    child.kill('SIGKILL');
    for (const s of [child.stdin, child.stdout, child.stderr]) s?.destroy();
  });
  async function lines(n: number): Promise<string[]> {
    for (;;) {
      const all = Buffer.concat(out).toString('utf8').split('\n');
      if (all.length > n) return all.slice(0, n);
      if (ended) throw new Error(`quire ${args.join(' ')} ended after ${all.length - 1} lines: ${stderr}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }
  return { child, exited, done, lines };
}

/** Runs `quire args...` to its end with `input` on standard input. */
function quire(t: TestContext, args: string[], input: string | Buffer = ''): Promise<Exit> {
  const r = start(t, args);
  r.child.stdin?.end(input);
  return r.done;
}

function text(r: Exit): string {
  return r.stdout.toString('utf8');
}

/** Asserts one error line `quire CMD: ...` (plus the usage line for usage errors) and nothing on stdout. */
function assertError(r: Exit, code: number, prefix: string, pattern: RegExp, usageLine = code === 2): void {
  assert.equal(r.code, code, r.stderr);
  assert.equal(text(r), '');
  const [line = '', ...more] = r.stderr.trimEnd().split('\n');
  assert.ok(line.startsWith(`${prefix}: `), r.stderr);
  assert.match(line, pattern);
  if (usageLine) assert.match(more.join('\n'), /^Usage: quire /, r.stderr);
  else assert.deepEqual(more, [], r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

const ID = /^\d{8}T\d{6}Z-\d+$/;

test('append publishes standard input as a record holding exactly its bytes and prints the id', async (t) => {
  const dir = path.join(tempDir(t), 'new', 'spool');
  // Every byte value, over several pipe reads, without a final newline.
  const input = Buffer.concat([randomBytes(200_000), Buffer.from([...Array(256).keys()])]);
  const r = await quire(t, ['append', dir], input);
  assert.equal(r.code, 0, r.stderr);
  const id = text(r).trimEnd();
  assert.match(id, ID);
  assert.equal(text(r), `${id}\n`);
  assert.deepEqual(fs.readFileSync(path.join(dir, id)), input);
});

test('append names the record with --suffix and --no-fsync still publishes it', async (t) => {
  const dir = tempDir(t);
  const r = await quire(t, ['append', dir, '--suffix', '.json', '--no-fsync'], '{"a":1}');
  assert.equal(r.code, 0, r.stderr);
  const id = text(r).trimEnd();
  assert.match(id, /^\d{8}T\d{6}Z-\d+\.json$/);
  assert.equal(fs.readFileSync(path.join(dir, id), 'utf8'), '{"a":1}');
});

test('append with the same --key twice prints the same id and publishes one record', async (t) => {
  const dir = tempDir(t);
  const first = await quire(t, ['append', dir, '--key', 'msg-42'], 'hello');
  const second = await quire(t, ['append', dir, '--key', 'msg-42'], 'hello');
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);
  assert.match(text(first).trimEnd(), ID);
  assert.equal(text(second), text(first));
  assert.equal(text(await quire(t, ['ls', dir])), text(first));
});

test('ls lists ids oldest first and honours -r, -n, --after, --before and --suffix', async (t) => {
  const dir = tempDir(t);
  // Counters sort as numbers (2 before 10), seconds before counters; other names are not records.
  const ids = ['20261126T101459Z-5', '20261126T101500Z-2', '20261126T101500Z-10', '20261126T101501Z-0.json'];
  records(dir, [ids[2]!, ids[0]!, ids[3]!, ids[1]!, 'README', '.hidden']);
  const ls = async (...args: string[]) => {
    const r = await quire(t, ['ls', dir, ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    return text(r).split('\n').slice(0, -1);
  };
  assert.deepEqual(await ls(), ids);
  assert.deepEqual(await ls('-r'), [...ids].reverse());
  assert.deepEqual(await ls('-n', '2'), ids.slice(0, 2));
  assert.deepEqual(await ls('--reverse', '--limit', '1'), ids.slice(-1));
  assert.deepEqual(await ls('--after', ids[0]!, '--before', ids[3]!), ids.slice(1, 3));
  assert.deepEqual(await ls('--suffix', '.json'), ids.slice(3));
  assert.deepEqual(await ls('-n', '0'), []);
});

test('cat prints several records in the order given', async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0', '20261126T101500Z-1']);
  const r = await quire(t, ['cat', dir, '20261126T101500Z-1', '20261126T101500Z-0']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(text(r), 'content of 20261126T101500Z-1content of 20261126T101500Z-0');
  assert.equal(r.stderr, '');
});

test('cat of a missing id still prints the others, names the missing one on stderr and exits 1', async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0']);
  const r = await quire(t, ['cat', dir, '20261126T101500Z-7', '20261126T101500Z-0']);
  assert.equal(r.code, 1);
  assert.equal(text(r), 'content of 20261126T101500Z-0');
  assert.equal(r.stderr, 'quire cat: 20261126T101500Z-7: no such record\n');
});

test('cat refuses an id that is not a record name with exit 2 before reading anything', async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'spool');
  records(dir, ['20261126T101500Z-0']);
  fs.writeFileSync(path.join(root, 'secret'), 'secret');
  for (const bad of ['../secret', '/etc/passwd', '20261126T101500Z-0/..']) {
    const r = await quire(t, ['cat', dir, '20261126T101500Z-0', bad]);
    assertError(r, 2, 'quire cat', /not a record id/);
  }
});

test('ls, cat, tail and fsck on a missing DIR exit 1 with one line and do not create it', async (t) => {
  const dir = path.join(tempDir(t), 'nope');
  for (const args of [
    ['ls', dir],
    ['cat', dir, '20261126T101500Z-0'],
    ['tail', dir],
    ['fsck', dir],
  ]) {
    const r = await quire(t, args);
    assertError(r, 1, `quire ${args[0]}`, /nope: no such directory$/);
    assert.equal(fs.existsSync(dir), false);
  }
});

test('append and ls on a DIR that is a file exit 1 with one line', async (t) => {
  const file = path.join(tempDir(t), 'file');
  fs.writeFileSync(file, 'not a spool');
  assertError(await quire(t, ['append', file], 'x'), 1, 'quire append', /file: not a directory$/);
  assertError(await quire(t, ['ls', file]), 1, 'quire ls', /file: not a directory$/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'not a spool');
});

test('tail -n prints the newest N ids, oldest first', async (t) => {
  const dir = tempDir(t);
  const ids = Array.from({ length: 12 }, (_, i) => `20261126T101500Z-${i}`);
  records(dir, ids);
  const tail = async (...args: string[]) => text(await quire(t, ['tail', ...args, dir]));
  assert.equal(await tail('-n', '3'), `${ids.slice(-3).join('\n')}\n`);
  assert.equal(await tail(), `${ids.slice(-10).join('\n')}\n`);
  assert.equal(await tail('-n', '0'), '');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`tail -f prints ids that another process appends and exits 0 on ${signal}`, async (t) => {
    const dir = tempDir(t);
    records(dir, ['20261126T101500Z-0', '20261126T101500Z-1']);
    const tail = start(t, ['tail', '-f', '-n', '1', '--poll', '200', dir]);
    assert.deepEqual(await tail.lines(1), ['20261126T101500Z-1']);
    const appended: string[] = [];
    for (const body of ['one', 'two']) {
      const r = await quire(t, ['append', dir], body);
      assert.equal(r.code, 0, r.stderr);
      appended.push(text(r).trimEnd());
    }
    assert.deepEqual(new Set(await tail.lines(3)), new Set(['20261126T101500Z-1', ...appended]));
    tail.child.kill(signal);
    const r = await tail.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(text(r).split('\n').length, 4, 'nothing printed twice');
  });
}

/** A pid that no process has: that of a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  assert.ok(child.pid);
  return child.pid;
}

/** The temp name a writer with `pid` on this host uses (@quire/fs temp.ts). */
async function deadTemp(dir: string): Promise<string> {
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9.-]/g, '_')
      .slice(0, 64) || 'localhost';
  const name = `.quire-${await deadPid()}-0123456789ab-${host}`;
  fs.writeFileSync(path.join(dir, name), 'half a record');
  return name;
}

test('fsck exits 0 on a clean spool', async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0', '20261126T101500Z-1']);
  const r = await quire(t, ['fsck', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(text(r), '2 records, 0 issues, clean\n');
  assert.equal(r.stderr, '', 'no progress when stderr is not a terminal');
});

test("fsck exits 1 on a dead writer's temp and --repair removes it and exits 0", async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0']);
  const temp = await deadTemp(dir);
  const found = await quire(t, ['fsck', dir]);
  assert.equal(found.code, 1, found.stderr);
  assert.match(text(found), new RegExp(`^found\tdead-temp\t${temp.replaceAll('.', '\\.')}\t`, 'm'));
  assert.ok(fs.existsSync(path.join(dir, temp)), 'fsck without --repair changes nothing');
  const repaired = await quire(t, ['fsck', dir, '--repair']);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.match(text(repaired), /^repaired\tdead-temp\t/m);
  assert.equal(fs.existsSync(path.join(dir, temp)), false);
  assert.equal((await quire(t, ['fsck', dir])).code, 0);
});

test('fsck --json prints a parseable report and --progress speaks on stderr only', async (t) => {
  const dir = tempDir(t);
  records(dir, ['20261126T101500Z-0']);
  const temp = await deadTemp(dir);
  const r = await quire(t, ['fsck', dir, '--json', '--progress']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(text(r)) as { records: number; clean: boolean; issues: { name: string }[] };
  assert.equal(report.records, 1);
  assert.equal(report.clean, false);
  assert.deepEqual(
    report.issues.map((i) => i.name),
    [temp],
  );
  assert.match(r.stderr, /^quire fsck: checking /);
});

test('lock runs the command and exits with its exit code', async (t) => {
  const file = path.join(tempDir(t), 'lk');
  const ok = await quire(t, ['lock', file, '--', 'sh', '-c', 'echo "$0 $1"', 'a', 'b']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(text(ok), 'a b\n');
  assert.equal((await quire(t, ['lock', file, '--', 'sh', '-c', 'exit 3'])).code, 3);
  assert.ok(fs.existsSync(file));
  const missing = await quire(t, ['lock', file, '--', 'no-such-command-quire-test']);
  assertError(missing, 127, 'quire lock', /command not found/);
});

/** `quire lock ARGS -- COMMAND` whose command prints "held" and then holds the lock until stdin closes. */
async function holder(t: TestContext, args: string[]): Promise<Running> {
  const h = start(t, ['lock', ...args, '--', 'sh', '-c', 'echo held; cat >/dev/null']);
  assert.deepEqual(await h.lines(1), ['held']);
  return h;
}

test('lock excludes a second lock on the same path, which exits 75 after --timeout', async (t) => {
  const file = path.join(tempDir(t), 'lk');
  const first = await holder(t, [file]);
  const second = await quire(t, ['lock', file, '--timeout', '100', '--', 'echo', 'ran']);
  assertError(second, 75, 'quire lock', /timed out after 100 ms waiting for the lock on /);
  first.child.stdin?.end();
  const r = await first.done;
  assert.equal(r.code, 0, r.stderr);
  const third = await quire(t, ['lock', file, '--timeout', '0', '--', 'echo', 'ran']);
  assert.equal(third.code, 0, third.stderr);
  assert.equal(text(third), 'ran\n');
});

test('shared locks admit each other and exclude an exclusive one', async (t) => {
  const file = path.join(tempDir(t), 'lk');
  const first = await holder(t, [file, '--shared']);
  assert.equal((await quire(t, ['lock', file, '--shared', '--timeout', '0', '--', 'true'])).code, 0);
  assert.equal((await quire(t, ['lock', file, '--timeout', '0', '--', 'true'])).code, 75);
  first.child.stdin?.end();
  assert.equal((await first.done).code, 0);
});

test('a SIGKILLed quire lock frees its lock even while its command still runs', async (t) => {
  const file = path.join(tempDir(t), 'lk');
  const first = await holder(t, [file]);
  first.child.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');
  // The command (sh, still running) inherited no lock: the kernel dropped it with quire.
  const second = await quire(t, ['lock', file, '--timeout', '0', '--', 'echo', 'ran']);
  assert.equal(second.code, 0, second.stderr);
  first.child.stdin?.end();
  await first.done;
});

test('lock passes SIGTERM on to its command and releases the lock once the command has exited', async (t) => {
  const file = path.join(tempDir(t), 'lk');
  // sh runs a trap only between commands, and `wait` is the one a trapped signal interrupts.
  const script = "trap 'kill $!; echo got TERM; exit 7' TERM; sleep 60 & echo held; wait";
  const h = start(t, ['lock', file, '--', 'sh', '-c', script]);
  assert.deepEqual(await h.lines(1), ['held']);
  h.child.kill('SIGTERM');
  assert.deepEqual(await h.exited, { code: 7, signal: null });
  const r = await h.done;
  assert.equal(text(r), 'held\ngot TERM\n');
  assert.equal((await quire(t, ['lock', file, '--timeout', '0', '--', 'true'])).code, 0);
});

test('usage errors exit 2 with an error line and the usage line', async (t) => {
  const dir = tempDir(t);
  const cases: [string[], RegExp][] = [
    [['ls'], /^quire ls: missing DIR$/],
    [['ls', dir, 'extra'], /^quire ls: unexpected argument 'extra'$/],
    [['ls', dir, '--bogus'], /^quire ls: unknown option '--bogus'$/],
    [['ls', dir, '-n', 'many'], /^quire ls: --limit needs a whole number/],
    [['ls', dir, '--after', '../x'], /^quire ls: not a record id/],
    [['cat', dir], /^quire cat: missing ID$/],
    [['tail', '--poll', '0', dir], /^quire tail: --poll needs a whole number >= 1/],
    [['append', dir, '--suffix', 'json'], /^quire append: suffix must be/],
    [['lock', path.join(dir, 'lk')], /^quire lock: missing COMMAND/],
    [['lock', path.join(dir, 'lk'), '--timeout', '-1', '--', 'true'], /^quire lock: /],
  ];
  const results = await Promise.all(cases.map(([args]) => quire(t, args)));
  for (const [i, [args, pattern]] of cases.entries()) {
    const r = results[i]!;
    assertError(r, 2, `quire ${args[0]}`, pattern);
    assert.match(r.stderr.split('\n')[1]!, new RegExp(`^Usage: quire ${args[0]} `));
  }
  const unknown = await quire(t, ['frobnicate']);
  assertError(unknown, 2, 'quire', /unknown command 'frobnicate'/, false);
  const none = await quire(t, []);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Usage: quire COMMAND/m);
});

test('every command has --help and quire help COMMAND, which exit 0 and print usage and examples', async (t) => {
  const top = await quire(t, ['--help']);
  assert.equal(top.code, 0);
  for (const name of COMMANDS) assert.match(text(top), new RegExp(`^  ${name} `, 'm'));
  await Promise.all(
    COMMANDS.map(async (name) => {
      const r = await quire(t, [name, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(text(r), new RegExp(`^Usage: quire ${name} `));
      assert.match(text(r).split('\nExamples:\n')[1] ?? '', new RegExp(`^  .*quire ${name} `));
      assert.equal(text(await quire(t, ['help', name])), text(r));
    }),
  );
  assertError(await quire(t, ['help', 'frobnicate']), 2, 'quire help', /unknown command/, false);
});

/** Runs `sh -c script quire-argv...` (node, bin, then `args`) and collects its output. */
async function shell(script: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const sh = spawn('sh', ['-c', script, process.execPath, bin, ...args]);
  let stdout = '';
  let stderr = '';
  sh.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  sh.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  await new Promise((resolve) => sh.on('close', resolve));
  return { stdout, stderr };
}

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
