import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { acquireLock, isQuireError, openSpool, type Spool } from '@quire/fs';
import { type CliCommand, hashPasswordCommand, serveCommand } from '../server/start.js';

/**
 * `quire`: spools and locks from the shell. Every error is one line on stderr, `quire CMD: ...`; exit codes are
 * documented in USAGE below and in the README.
 */
const EXIT = { ok: 0, failure: 1, usage: 2, lockTimeout: 75, cannotExecute: 126, notFound: 127 } as const;

/** Bad arguments: exit 2 with the usage line. */
class UsageError extends Error {}
/** A failure whose message is already written for the user: exit 1 unless told otherwise. */
class Failure extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
  }
}

type Values = Record<string, string | boolean | undefined>;

interface Command {
  /** One line: `quire ls DIR [...]`. */
  usage: string;
  summary: string;
  /** What it does, its options, examples. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Everything after the first `--` is a COMMAND to run, passed to run() as `command`. */
  takesCommand?: true;
  run(operands: string[], v: Values, command: string[] | undefined): Promise<number>;
}

const HELP = { help: { type: 'boolean', short: 'h' } } as const;
const SUFFIX = { suffix: { type: 'string' } } as const;
const SUFFIX_HELP = '  --suffix .EXT    only records whose name ends in .EXT';

/** The service's commands (server/start.ts) carry their usage line and help in one text. */
function serviceCommand(c: CliCommand): Command {
  const [usage = '', ...help] = c.usage.split('\n');
  return {
    usage,
    summary: c.summary,
    help: help.join('\n').trim(),
    options: { ...HELP, ...c.options },
    run: (operands, v) => c.run(operands, v),
  };
}

const commands: Record<string, Command> = {
  serve: serviceCommand(serveCommand),
  'hash-password': serviceCommand(hashPasswordCommand),
  append: {
    usage: 'quire append DIR [--key KEY] [--suffix .EXT] [--no-fsync]',
    summary: 'publish standard input as a new record and print its id',
    help: `Reads standard input to its end and publishes it as one record of the spool
DIR (created if missing), named YYYYMMDDTHHMMSSZ-N[.EXT]; prints that name, the
record's id. Readers see the whole record or none of it, and it is on disk when
the id is printed.

Options:
  --key KEY        idempotency key: a retry with the same KEY prints the
                   first record's id and writes nothing
  --suffix .EXT    end the record's name in .EXT, e.g. .json
  --no-fsync       skip fsync: faster, but a power cut may lose the record

Examples:
  echo '{"text":"hi"}' | quire append comments --suffix .json
  quire append inbox --key "$MESSAGE_ID" < message.eml`,
    options: { ...HELP, ...SUFFIX, key: { type: 'string' }, 'no-fsync': { type: 'boolean' } },
    async run(operands, v) {
      const spool = await open(only(operands, 'DIR'), v, true);
      const key = str(v.key);
      const r = await spool.append(process.stdin, key === undefined ? {} : { key });
      process.stdout.write(`${r.id}\n`);
      return EXIT.ok;
    },
  },
  ls: {
    usage: 'quire ls DIR [-r] [-n N] [--after ID] [--before ID] [--suffix .EXT]',
    summary: 'list record ids, oldest first',
    help: `Prints the ids of the records in DIR in time order, one per line. Reads
names only, never contents.

Options:
  -r, --reverse    newest first
  -n, --limit N    at most N ids
  --after ID       only ids that sort after ID
  --before ID      only ids that sort before ID
${SUFFIX_HELP}

Examples:
  quire ls comments -r -n 10          the 10 newest
  quire ls comments --after "$LAST"   what is new since $LAST`,
    options: {
      ...HELP,
      ...SUFFIX,
      reverse: { type: 'boolean', short: 'r' },
      limit: { type: 'string', short: 'n' },
      after: { type: 'string' },
      before: { type: 'string' },
    },
    async run(operands, v) {
      const spool = await open(only(operands, 'DIR'), v);
      const after = str(v.after);
      const before = str(v.before);
      const ids = await spool.ids({
        reverse: v.reverse === true,
        ...(v.limit === undefined ? {} : { limit: count(v.limit, '--limit') }),
        ...(after === undefined ? {} : { after }),
        ...(before === undefined ? {} : { before }),
      });
      printIds(ids);
      return EXIT.ok;
    },
  },
  cat: {
    usage: 'quire cat DIR ID... [--suffix .EXT]',
    summary: 'print records',
    help: `Writes the content of each record to standard output, in the order given.
A missing record is reported on stderr, the others are still printed, and the
exit code is 1. An ID that is not a record name (such as ../x) is a usage error
(exit 2), refused before anything is read.

Options:
${SUFFIX_HELP}

Examples:
  quire cat comments 20261126T101500Z-0
  quire ls comments -r -n 1 | xargs quire cat comments`,
    options: { ...HELP, ...SUFFIX },
    async run([dir, ...ids], v) {
      if (dir === undefined) throw new UsageError('missing DIR');
      if (ids.length === 0) throw new UsageError('missing ID');
      const spool = await open(dir, v);
      for (const id of ids) {
        if (!spool.isId(id)) throw new UsageError(`not a record id of this spool: ${JSON.stringify(id)}`);
      }
      let missing = 0;
      for (const id of ids) {
        const b = await spool.get(id);
        if (b === null) {
          process.stderr.write(`quire cat: ${id}: no such record\n`);
          missing++;
        } else process.stdout.write(b);
      }
      return missing === 0 ? EXIT.ok : EXIT.failure;
    },
  },
  tail: {
    usage: 'quire tail [-f] [-n N] [--poll MS] DIR [--suffix .EXT]',
    summary: 'print the newest ids; with -f, keep printing new ones',
    help: `Prints the last N ids of DIR (default 10), oldest first. With -f it then
prints the id of every record published afterwards, by any process or host,
until SIGINT (Ctrl-C), SIGTERM or SIGHUP, and then exits 0.

Options:
  -f, --follow     keep waiting for new records
  -n, --lines N    how many of the newest ids to print first (default 10)
  --poll MS        rescan this often when no change notification comes
                   (default 1000; notifications may be missing on NFS)
${SUFFIX_HELP}

Examples:
  quire tail -n 3 comments
  quire tail -f -n 0 comments | while read id; do quire cat comments "$id"; done`,
    options: {
      ...HELP,
      ...SUFFIX,
      follow: { type: 'boolean', short: 'f' },
      lines: { type: 'string', short: 'n' },
      poll: { type: 'string' },
    },
    async run(operands, v) {
      const spool = await open(only(operands, 'DIR'), v);
      const lines = v.lines === undefined ? 10 : count(v.lines, '--lines');
      const pollMs = v.poll === undefined ? 1000 : count(v.poll, '--poll', 1);
      const follow = v.follow === true;
      // Trapped before the first line: whoever waits for output and then signals must find the handler.
      const ac = new AbortController();
      const untrap = follow ? trapStopSignals(() => ac.abort()) : () => {};
      try {
        const ids = await spool.ids();
        printIds(ids.slice(Math.max(0, ids.length - lines)));
        if (!follow) return EXIT.ok;
        // watch({ after: last }) would skip a record that is published late but sorts before `last` (a lower
        // counter in the same second, a clock behind): start from the very first name and skip what was listed.
        const listed = new Set(ids);
        const first = `19700101T000000Z-0${spool.suffix ?? ''}`;
        for await (const id of spool.watch({ signal: ac.signal, pollMs, after: first })) {
          if (!listed.has(id)) process.stdout.write(`${id}\n`);
        }
      } finally {
        untrap();
      }
      return EXIT.ok;
    },
  },
  fsck: {
    usage: 'quire fsck DIR [--repair] [--json] [--progress] [--suffix .EXT]',
    summary: 'check a spool; --repair fixes what is safe to fix',
    help: `Reports temps left by dead writers, stray or malformed names, unreadable
records and unfinished keyed appends, one per line (found|repaired, problem,
name, detail, tab-separated), then a summary. Exits 0 when the spool is clean
(after --repair), 1 otherwise. --repair removes dead writers' temps and
finishes keys whose record exists; it never removes a record, nor a name it
does not understand.

Options:
  --repair         fix what is safe to fix
  --json           print the report as JSON:
                   {records, issues: [{name, problem, detail, repaired}], clean}
  --progress       say on stderr what is being checked (the default when
                   stderr is a terminal)
${SUFFIX_HELP}

Examples:
  quire fsck comments || quire fsck comments --repair
  quire fsck comments --json | jq '.issues[] | .name'`,
    options: {
      ...HELP,
      ...SUFFIX,
      repair: { type: 'boolean' },
      json: { type: 'boolean' },
      progress: { type: 'boolean' },
    },
    async run(operands, v) {
      const spool = await open(only(operands, 'DIR'), v);
      const progress = v.progress === true || process.stderr.isTTY;
      if (progress) process.stderr.write(`quire fsck: checking ${spool.dir}\n`);
      const report = await spool.check({
        repair: v.repair === true,
        ...(progress
          ? { onProgress: (n: number) => process.stderr.write(`quire fsck: ${n} records checked\n`) }
          : {}),
      });
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
    usage: 'quire lock PATH [--shared] [--timeout MS] -- COMMAND [ARG...]',
    summary: 'run a command while holding a lock, like flock(1)',
    help: `Takes an exclusive (or --shared) lock on PATH (created if missing, never
removed), runs COMMAND, releases the lock once COMMAND has exited, and exits
with COMMAND's exit code: 128+N if signal N killed it, 126 if it cannot be
run, 127 if it is not found. SIGINT, SIGTERM and SIGHUP are passed on to
COMMAND. The lock is the OFD fcntl lock of @quire/fs, so other quire locks and
library calls on PATH wait for it. It dies with quire, even by SIGKILL (COMMAND
does not inherit it).

Options:
  --shared         a shared (read) lock: many shared holders, no exclusive one
  --timeout MS     give up after MS milliseconds (exit 75); 0 tries once

Examples:
  quire lock /var/lock/backup -- rsync -a comments/ backup:comments/
  quire lock state.lock --timeout 5000 -- sh -c 'n=$(cat n); echo $((n+1)) > n'`,
    options: { ...HELP, shared: { type: 'boolean' }, timeout: { type: 'string' } },
    takesCommand: true,
    async run(operands, v, command) {
      const file = only(operands, 'PATH');
      const [cmd, ...args] = command ?? [];
      if (cmd === undefined) throw new UsageError('missing COMMAND (put it after --)');
      const timeoutMs = v.timeout === undefined ? undefined : count(v.timeout, '--timeout');
      const lock = await acquireLock(file, {
        shared: v.shared === true,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      }).catch((err: unknown) => {
        if (!isQuireError(err, 'ERR_LOCK_TIMEOUT')) throw err;
        throw new Failure(
          `timed out after ${timeoutMs} ms waiting for the lock on ${file}`,
          EXIT.lockTimeout,
        );
      });
      try {
        // Trapped before the spawn, which returns once COMMAND runs: a signal is handled on a later tick, when
        // `child` is set, but with no handler yet it would kill quire at once and free the lock under COMMAND.
        let child: ChildProcess | undefined;
        const untrap = trapStopSignals((signal) => child?.kill(signal));
        try {
          child = spawn(cmd, args, { stdio: 'inherit' });
          return await exitCode(child, cmd);
        } finally {
          untrap();
        }
      } finally {
        await lock.release();
      }
    },
  },
};

/** Calls `handler` on SIGINT, SIGTERM and SIGHUP, instead of dying, until the returned function is called. */
function trapStopSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}

const USAGE = `quire — blog comments as plain files: the comment service, and spools and locks from the shell

Usage: quire COMMAND ARGS... [OPTIONS]
       quire help COMMAND          or: quire COMMAND --help

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(13)} ${c.summary}`)
  .join('\n')}

A spool is a directory of records named YYYYMMDDTHHMMSSZ-N[.EXT]; a record's
id is its name.

Exit codes: 0 success; 1 failure (no such spool or record, fsck found problems,
I/O error); 2 usage error, also an ID that is not a record name; 75 lock
timeout; quire lock exits with its COMMAND's code.

Examples:
  echo hello | quire append notes
  quire ls -r -n 5 notes
  quire tail -f notes`;

/** How a child ended, as a shell reports it. */
function exitCode(child: ChildProcess, cmd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new Failure(`${cmd}: command not found`, EXIT.notFound));
      else reject(new Failure(`${cmd}: cannot run: ${err.code ?? err.message}`, EXIT.cannotExecute));
    });
    child.on('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
    });
  });
}

function printIds(ids: string[]): void {
  process.stdout.write(ids.map((id) => `${id}\n`).join(''));
}

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function count(v: string | boolean | undefined, flag: string, min = 0): number {
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} needs a whole number >= ${min}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The one operand, called `name` in the usage; more operands are a usage error. */
function only(operands: string[], name: string): string {
  const [first, extra] = operands;
  if (first === undefined) throw new UsageError(`missing ${name}`);
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  return first;
}

/** Opens the spool DIR; only append creates it. */
async function open(dir: string, v: Values, create = false): Promise<Spool> {
  const suffix = str(v.suffix);
  try {
    return await openSpool(dir, {
      create,
      ...(suffix === undefined ? {} : { suffix }),
      ...(v['no-fsync'] === true ? { durable: false } : {}),
    });
  } catch (err) {
    if (isQuireError(err, 'ENOENT')) throw new Failure(`${dir}: no such directory`);
    // mkdir -p says EEXIST when DIR is a file.
    if (isQuireError(err, 'ENOTDIR') || isQuireError(err, 'EEXIST'))
      throw new Failure(`${dir}: not a directory`);
    throw err;
  }
}

/** Splits `args` at the first `--` for a command that runs a COMMAND; others read `--` as parseArgs does. */
function splitCommand(cmd: Command, args: string[]): [string[], string[] | undefined] {
  const i = args.indexOf('--');
  return cmd.takesCommand && i >= 0 ? [args.slice(0, i), args.slice(i + 1)] : [args, undefined];
}

/** The message of an error that is the caller's mistake (exit 2), or undefined for any other error. */
function usageMessage(err: unknown): string | undefined {
  if (err instanceof UsageError) return err.message;
  if (isQuireError(err, 'ERR_INVALID_ID') || isQuireError(err, 'ERR_INVALID_ARG')) return err.message;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return undefined;
  // parseArgs explains more than a one-line error needs.
  const message = (err as Error).message.split('\n')[0] ?? '';
  const unknown = /^Unknown option '([^']*)'/.exec(message);
  return unknown ? `unknown option '${unknown[1]}'` : message;
}

/**
 * A reader that stops early (`quire ls DIR | head -1`) is no error: exit 0 at once, quietly. Any other
 * failure to write output (a full disk) is one line on stderr and exit 1.
 */
function handleOutputErrors(prefix: string): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    process.stderr.write(`${prefix}: cannot write output: ${err.code ?? err.message}\n`);
    process.exit(EXIT.failure);
  });
  process.stderr.on('error', () => process.exit(EXIT.failure));
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const cmd = name === undefined ? undefined : commands[name];
  handleOutputErrors(cmd ? `quire ${name}` : 'quire');
  if (name === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    const c = commands[topic];
    if (c === undefined) {
      process.stderr.write(`quire help: unknown command '${topic}' (quire --help lists them)\n`);
      return EXIT.usage;
    }
    process.stdout.write(`Usage: ${c.usage}\n\n${c.help}\n`);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write('quire 0.1.0\n');
    return EXIT.ok;
  }
  if (cmd === undefined) {
    process.stderr.write(`quire: unknown command '${name}' (quire --help lists them)\n`);
    return EXIT.usage;
  }
  const fail = (message: string, code: number) => {
    process.stderr.write(`quire ${name}: ${message}\n`);
    return code;
  };
  try {
    const [args, command] = splitCommand(cmd, rest);
    const { values, positionals } = parseArgs({ args, options: cmd.options, allowPositionals: true });
    if (values.help === true) {
      process.stdout.write(`Usage: ${cmd.usage}\n\n${cmd.help}\n`);
      return EXIT.ok;
    }
    return await cmd.run(positionals, values as Values, command);
  } catch (err) {
    const usage = usageMessage(err);
    if (usage !== undefined)
      return fail(`${usage}\nUsage: ${cmd.usage}  (quire help ${name} for more)`, EXIT.usage);
    if (err instanceof Failure) return fail(err.message, err.exitCode);
    if (isQuireError(err)) return fail(`${err.message} [${err.code}]`, EXIT.failure);
    return fail(err instanceof Error ? err.message : String(err), EXIT.failure);
  }
}
