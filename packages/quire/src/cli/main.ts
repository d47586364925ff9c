import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { acquireLock, isQuireError, openSpool, type Spool } from '@quire/fs';

/**
 * `quire`: spools and locks from the shell. Errors go to stderr as one line; exit codes are documented in
 * USAGE and in the README.
 */
const EXIT = { ok: 0, failure: 1, usage: 2, lockTimeout: 75 } as const;

class UsageError extends Error {}

interface Command {
  summary: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  run(args: string[], values: Record<string, string | boolean | undefined>): Promise<number>;
}

const COMMON = { suffix: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

const commands: Record<string, Command> = {
  append: {
    summary: 'publish standard input as a new record and print its id',
    usage: `quire append DIR [--key KEY] [--suffix .EXT] [--no-fsync]

Reads all of standard input and publishes it in the spool DIR (created if missing) under a new
name YYYYMMDDTHHMMSSZ-N[.EXT]; prints the id. The record appears whole or not at all, and is on
disk when the id is printed.
  --key KEY      idempotency key: a retry with the same key prints the first id and writes nothing
  --suffix .EXT  suffix of the record name, e.g. .json
  --no-fsync     skip fsync (faster; a power cut may lose the record)`,
    options: { ...COMMON, key: { type: 'string' }, 'no-fsync': { type: 'boolean' } },
    async run([dir], v) {
      const spool = await open(dir, v, true);
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      const key = v.key as string | undefined;
      const r = await spool.append(Buffer.concat(chunks), key === undefined ? {} : { key });
      process.stdout.write(`${r.id}\n`);
      return EXIT.ok;
    },
  },
  ls: {
    summary: 'list record ids in time order',
    usage: `quire ls DIR [--reverse] [--limit N] [--after ID] [--before ID]

Prints the ids of the records in DIR, oldest first, one per line. Reads names only.
  -r, --reverse  newest first
  -n, --limit N  at most N ids
  --after ID     only ids after ID;  --before ID  only ids before ID`,
    options: {
      ...COMMON,
      reverse: { type: 'boolean', short: 'r' },
      limit: { type: 'string', short: 'n' },
      after: { type: 'string' },
      before: { type: 'string' },
    },
    async run([dir], v) {
      const spool = await open(dir, v);
      const opts = {
        reverse: v.reverse === true,
        ...(v.limit === undefined ? {} : { limit: count(v.limit, '--limit') }),
        ...(typeof v.after === 'string' ? { after: v.after } : {}),
        ...(typeof v.before === 'string' ? { before: v.before } : {}),
      };
      process.stdout.write((await spool.ids(opts)).map((id) => `${id}\n`).join(''));
      return EXIT.ok;
    },
  },
  cat: {
    summary: 'print records',
    usage: `quire cat DIR ID...

Writes the content of each record to standard output. Exits 1 if any id is not in DIR.`,
    options: { ...COMMON },
    async run([dir, ...ids], v) {
      if (ids.length === 0) throw new UsageError('cat needs at least one ID');
      const spool = await open(dir, v);
      let missing = 0;
      for (const id of ids) {
        const b = await spool.get(id);
        if (b === null) {
          process.stderr.write(`quire cat: ${id}: no such record\n`);
          missing++;
        } else process.stdout.write(b);
      }
      return missing ? EXIT.failure : EXIT.ok;
    },
  },
  tail: {
    summary: 'print the newest ids; with -f, keep printing new ones',
    usage: `quire tail [-f] [-n N] DIR

Prints the last N ids (default 10) in time order. With -f it then waits and prints the id of
every record published afterwards by any process, until interrupted (Ctrl-C).
  -f, --follow   keep waiting for new records
  -n, --lines N  how many of the newest ids to print first (default 10)
  --poll MS      rescan interval when no change notification arrives (default 1000)`,
    options: {
      ...COMMON,
      follow: { type: 'boolean', short: 'f' },
      lines: { type: 'string', short: 'n' },
      poll: { type: 'string' },
    },
    async run([dir], v) {
      const spool = await open(dir, v);
      const last = (await spool.ids({ reverse: true, limit: count(v.lines ?? '10', '--lines') })).reverse();
      for (const id of last) process.stdout.write(`${id}\n`);
      if (v.follow !== true) return EXIT.ok;
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop).once('SIGTERM', stop);
      const all = await spool.ids();
      const after = all[all.length - 1];
      const pollMs = v.poll === undefined ? 1000 : count(v.poll, '--poll');
      for await (const id of spool.watch({ signal: ac.signal, pollMs, ...(after ? { after } : {}) })) {
        process.stdout.write(`${id}\n`);
      }
      return EXIT.ok;
    },
  },
  fsck: {
    summary: 'check a spool; --repair fixes what is safe to fix',
    usage: `quire fsck DIR [--repair] [--json]

Reports temps left by dead writers, stray or malformed names, unreadable records and unfinished
keyed appends. --repair removes dead writers' temps and finishes keys whose record exists; it never
removes a record. Exits 0 when the spool is clean (after repair), 1 otherwise.
  --repair  fix what is safe to fix
  --json    print the report as JSON`,
    options: { ...COMMON, repair: { type: 'boolean' }, json: { type: 'boolean' } },
    async run([dir], v) {
      const spool = await open(dir, v);
      const report = await spool.check({ repair: v.repair === true });
      if (v.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        for (const i of report.issues) {
          process.stdout.write(
            `${i.repaired ? 'repaired' : 'found'}\t${i.problem}\t${i.name}\t${i.detail}\n`,
          );
        }
        process.stdout.write(
          `${report.records} records, ${report.issues.length} issues, ${report.clean ? 'clean' : 'NOT clean'}\n`,
        );
      }
      return report.clean ? EXIT.ok : EXIT.failure;
    },
  },
  lock: {
    summary: 'run a command while holding a lock, like flock(1)',
    usage: `quire lock PATH [--shared] [--timeout MS] -- COMMAND [ARG...]

Takes an exclusive (or --shared) lock on PATH (created if missing), runs COMMAND, releases the lock
when it exits, and exits with its exit code. The lock is an OFD fcntl lock: other processes, threads
and quire's own library calls on PATH wait for it; it dies with this process.
  --shared      a shared (read) lock: many holders at once, no exclusive holder
  --timeout MS  give up after MS milliseconds (exit 75)`,
    options: { ...COMMON, shared: { type: 'boolean' }, timeout: { type: 'string' } },
    async run([file, ...cmd], v) {
      if (!file) throw new UsageError('lock needs a PATH');
      if (cmd.length === 0) throw new UsageError('lock needs a COMMAND after --');
      const opts = {
        shared: v.shared === true,
        ...(v.timeout === undefined ? {} : { timeoutMs: count(v.timeout, '--timeout') }),
      };
      const lock = await acquireLock(file, opts);
      try {
        return await new Promise<number>((resolve, reject) => {
          const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: 'inherit' });
          child.on('error', reject);
          child.on('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
        });
      } finally {
        await lock.release();
      }
    },
  },
};

const USAGE = `quire — records as plain files: spools and locks from the shell

Usage: quire COMMAND [ARGS] [OPTIONS]      quire COMMAND --help for details

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}

Exit codes: 0 success; 1 failure (missing record, unclean fsck, I/O error); 2 usage error;
75 lock timeout; quire lock exits with its command's code.`;

function count(v: string | boolean | undefined, flag: string): number {
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${flag} needs a whole number, got ${JSON.stringify(v)}`);
  }
  return n;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (os.constants.signals[signal] ?? 0) : 0;
}

async function open(
  dir: string | undefined,
  v: Record<string, string | boolean | undefined>,
  create = false,
) {
  if (!dir) throw new UsageError('missing DIR');
  const suffix = typeof v.suffix === 'string' ? v.suffix : undefined;
  return openSpool(dir, {
    create,
    ...(suffix === undefined ? {} : { suffix }),
    ...(v['no-fsync'] === true ? { durable: false } : {}),
  }) as Promise<Spool>;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const c = rest[0] === undefined ? undefined : commands[rest[0]];
    process.stdout.write(`${c ? c.usage : USAGE}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write('quire 0.1.0\n');
    return EXIT.ok;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`quire: unknown command '${name}' (quire --help lists them)\n`);
    return EXIT.usage;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: cmd.options,
      allowPositionals: true,
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(`${cmd.usage}\n`);
      return EXIT.ok;
    }
    return await cmd.run(positionals, values);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`quire ${name}: ${(err as Error).message}\nUsage: ${cmd.usage.split('\n')[0]}\n`);
      return EXIT.usage;
    }
    if (isQuireError(err, 'ERR_LOCK_TIMEOUT')) {
      process.stderr.write(`quire ${name}: ${err.message}\n`);
      return EXIT.lockTimeout;
    }
    if (isQuireError(err)) {
      process.stderr.write(`quire ${name}: ${err.message} [${err.code}]\n`);
      return EXIT.failure;
    }
    throw err;
  }
}
