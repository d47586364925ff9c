import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { waitExit } from '@quire/testkit';

export { type Exit, hasCommand, isRoot, requireOrSkip, tempDir, waitExit } from '@quire/testkit';

export const fixturesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Starts `node fixtures/<name>.js args...` with stdout/stderr piped. */
export function spawnFixture(
  name: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  return spawn(process.execPath, [path.join(fixturesDir, `${name}.js`), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
}

/** Runs a fixture to completion and fails with its stderr if it did not exit 0. */
export async function runFixture(name: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  const r = await waitExit(spawnFixture(name, args, opts));
  if (r.code !== 0) throw new Error(`fixture ${name} exited ${r.code ?? r.signal}: ${r.stderr}`);
  return r;
}

/** Like spawnFixture, with stdin piped too: the parent signals the child by writing to its stdin or ending it. */
export function spawnFixtureWithStdin(
  name: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  return spawn(process.execPath, [path.join(fixturesDir, `${name}.js`), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
}

/** Calls `onLine` with each complete line of `stream`, in order, without its newline; an unterminated tail is dropped. */
export function onLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      onLine(line);
      nl = pending.indexOf('\n');
    }
  });
}

/** Self-verifying content: the hex sha256 of `body` (64 ASCII bytes), then `body`. */
export function sealed(body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([Buffer.from(sha256(b), 'latin1'), b]);
}

/** The body of self-verifying content (see `sealed`) when its embedded checksum matches; null for anything else. */
export function unseal(content: Buffer): Buffer | null {
  if (content.length < 64) return null;
  const body = content.subarray(64);
  return content.toString('latin1', 0, 64) === sha256(body) ? body : null;
}

// ---- strace: tracing and fault injection in real processes (faults.test.ts, strace.test.ts) ----

/** True when strace is installed and may trace here (containers often forbid ptrace). */
export function canStrace(): boolean {
  try {
    execFileSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `strace <straceArgs> node fixtures/<name>.js args...` (`name` may carry its own extension, e.g. `.cjs`).
 * libuv's io_uring backend is turned off so that every file operation is a system call strace can see and
 * tamper with.
 */
export function spawnFixtureTraced(
  straceArgs: string[],
  name: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  const file = path.join(fixturesDir, path.extname(name) ? name : `${name}.js`);
  return spawn('strace', [...straceArgs, process.execPath, file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, UV_USE_IO_URING: '0', ...opts.env },
  });
}

/** One system call of an `strace -f -o LOG` log, its `<unfinished ...>` and `<... resumed>` halves joined. */
export interface Syscall {
  tid: number;
  name: string;
  /** The argument text as strace printed it. */
  args: string;
  /** The return value; NaN when strace printed `?`. */
  ret: number;
  /** The errno name of a failed call, e.g. `ENOENT`. */
  errno: string | undefined;
  /** strace injected the result (`-e inject=`). */
  injected: boolean;
  /**
   * Log line where the call entered the kernel and where it returned. strace prints each event while the thread
   * is stopped in it, so the log order is the real order: a call whose `end` precedes another's `start` finished
   * before the other began.
   */
  start: number;
  end: number;
  /** The quoted strings among the arguments (the paths of openat, link, rename, unlink, access, ...). */
  paths: string[];
  /** For calls on an fd (fsync, write, close, ...): the fd, and the path and O_DIRECTORY flag it was opened with. */
  fd?: number;
  fdPath?: string;
  fdDir?: boolean;
}

const FD_CALLS = new Set([
  'fsync',
  'fdatasync',
  'write',
  'pwrite64',
  'writev',
  'pwritev',
  'close',
  'read',
  'pread64',
]);
const RESULT =
  /\)\s+=\s+(-?\d+|0x[0-9a-f]+|\?)(?:\s+([A-Z][A-Z0-9_]*))?(?:\s+\((?!INJECTED\))[^()]*\))?(\s+\(INJECTED\))?(?:\s+\(DELAYED\))?(?:\s+<unavailable>)?\s*$/;

function unquote(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(Number.parseInt(e, 8));
    return ({ n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}

/**
 * Parses an `strace -f -o LOG` log into calls in order of entry, and gives each fd-taking call the path its fd
 * was opened with, from the results of the openat calls before it (all threads share one fd table; the traced
 * program must not fork).
 */
export function parseStrace(text: string): Syscall[] {
  const calls: Syscall[] = [];
  const pending = new Map<number, { name: string; head: string; start: number }>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\d+)\s+(.*)$/.exec(lines[i] as string);
    if (!m) continue;
    const tid = Number(m[1]);
    const rest = m[2] as string;
    let name: string;
    let start: number;
    let body: string;
    const resumed = /^<\.\.\. ([a-z_0-9]+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const p = pending.get(tid);
      if (!p) continue;
      pending.delete(tid);
      ({ name, start } = p);
      body = p.head + (resumed[2] as string);
    } else {
      const c = /^([a-z_0-9]+)\((.*)$/.exec(rest);
      if (!c) continue; // +++ exited +++, --- SIGNAL ---
      name = c[1] as string;
      start = i;
      body = c[2] as string;
      const unfinished = /\s*<unfinished \.\.\.>$/.exec(body);
      if (unfinished) {
        pending.set(tid, { name, head: body.slice(0, unfinished.index), start });
        continue;
      }
    }
    const r = RESULT.exec(body);
    if (!r) continue;
    const args = body.slice(0, r.index);
    calls.push({
      tid,
      name,
      args,
      ret: r[1] === '?' ? Number.NaN : Number(r[1]),
      errno: r[2],
      injected: r[3] !== undefined,
      start,
      end: i,
      paths: [...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((q) => unquote(q[1] as string)),
    });
  }
  calls.sort((a, b) => a.start - b.start);

  // Replay opens and closes in log order: an fd is looked up when its call enters, registered when openat returns.
  const events: { line: number; exit: boolean; call: Syscall }[] = [];
  for (const call of calls) {
    events.push({ line: call.start, exit: false, call }, { line: call.end, exit: true, call });
  }
  events.sort((a, b) => a.line - b.line || Number(a.exit) - Number(b.exit));
  const fds = new Map<number, { path: string; dir: boolean }>();
  for (const { exit, call } of events) {
    if (!exit && FD_CALLS.has(call.name)) {
      call.fd = Number.parseInt(call.args, 10);
      const f = fds.get(call.fd);
      if (f) {
        call.fdPath = f.path;
        call.fdDir = f.dir;
      }
      if (call.name === 'close') fds.delete(call.fd);
    } else if (exit && call.name === 'openat' && call.ret >= 0 && call.paths[0] !== undefined) {
      const base = /^(-?\d+|AT_FDCWD)/.exec(call.args)?.[1];
      const at = base === undefined || base === 'AT_FDCWD' ? undefined : fds.get(Number(base))?.path;
      fds.set(call.ret, {
        path: at === undefined ? call.paths[0] : path.resolve(at, call.paths[0]),
        dir: /\bO_DIRECTORY\b/.test(call.args),
      });
    }
  }
  return calls;
}

/**
 * How many fds of this process are open on `file`: by its real path, or by its inode once it has been unlinked
 * (`/proc/self/fd` then names it `<path> (deleted)`).
 */
export function fdsOpenOn(file: string): number {
  const real = fs.existsSync(file) ? fs.realpathSync(file) : file;
  const names = new Set([real, `${real} (deleted)`]);
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (names.has(fs.readlinkSync(`/proc/self/fd/${fd}`))) n++;
    } catch {
      // The fd readdir itself used, closed by now.
    }
  }
  return n;
}

/** How many granted locks (not waiters) /proc/locks lists on `file`'s inode, whoever holds them. */
export function locksOn(file: string): number {
  const { dev, ino } = fs.statSync(file);
  // /proc/locks names the device as major:minor in hex (the kernel's new_encode_dev split of st_dev).
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
  const id = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${ino}`;
  return fs
    .readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .filter((l) => !l.includes('->') && l.split(/\s+/)[5] === id).length;
}
