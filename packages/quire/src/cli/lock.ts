import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { acquireLock, isQuireError } from '@quire/fs';
import { count, only } from './args.js';
import { type Command, EXIT, Failure, HELP_OPTION, UsageError } from './command.js';
import { trapStopSignals } from './spool.js';

/** `quire lock PATH -- COMMAND`: flock(1) on the library's OFD locks. */
export const command: Command = {
  usage: 'quire lock PATH [--shared] [--timeout MS] -- COMMAND [ARG...]',
  help: `Takes an exclusive (or --shared) lock on PATH (created if missing, never
removed), runs COMMAND, releases the lock once COMMAND has exited, and exits
with COMMAND's exit code: 128+N if signal N killed it, 126 if it cannot be
run, 127 if it is not found. SIGINT, SIGTERM and SIGHUP are passed on to
COMMAND. The lock is the OFD fcntl lock of @quire/fs, so other quire locks and
library calls on PATH wait for it. It dies with quire, even by SIGKILL (COMMAND
does not inherit it).

Options:
  --shared         a shared (read) lock: many shared holders, no exclusive one
  --timeout MS     give up after MS milliseconds (exit 75); 0 tries once;
                   without it, wait as long as it takes

Examples:
  quire lock /var/lock/backup -- rsync -a comments/ backup:comments/
  quire lock state.lock --timeout 5000 -- sh -c 'n=$(cat n); echo $((n+1)) > n'`,
  options: { ...HELP_OPTION, shared: { type: 'boolean' }, timeout: { type: 'string' } },
  takesCommand: true,
  async run(inv) {
    const file = only(inv, 'PATH');
    const [cmd, ...args] = inv.command ?? [];
    if (cmd === undefined) throw new UsageError('missing COMMAND (put it after --)');
    const timeoutMs = count(inv, 'timeout', undefined);
    const lock = await acquireLock(file, {
      shared: inv.values.shared === true,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    }).catch((err: unknown) => {
      if (!isQuireError(err, 'ERR_LOCK_TIMEOUT')) throw err;
      throw new Failure(`timed out after ${timeoutMs} ms waiting for the lock on ${file}`, EXIT.lockTimeout);
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
};

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
