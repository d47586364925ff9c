import { parseArgsMessage, parseInvocation } from './args.js';
import { type Command, EXIT, Failure, UsageError } from './command.js';
import { COMMANDS, USAGE } from './commands.js';

/**
 * `quire`: the comment service and spools and locks from the shell. Every error is one line on stderr,
 * `quire CMD: ...`; exit codes are documented in USAGE (commands.ts) and in the README.
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const entry = name === undefined ? undefined : COMMANDS[name];
  handleOutputErrors(entry ? `quire ${name}` : 'quire');
  if (name === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') return help(rest[0]);
  if (name === '--version' || name === '-V') {
    process.stdout.write('quire 0.1.0\n');
    return EXIT.ok;
  }
  if (entry === undefined) {
    process.stderr.write(`quire: unknown command '${name}' (quire --help lists them)\n`);
    return EXIT.usage;
  }
  const { command } = await entry.load();
  try {
    const inv = parseInvocation(command, rest);
    if (inv.values.help === true) {
      process.stdout.write(helpText(command));
      return EXIT.ok;
    }
    return await command.run(inv);
  } catch (err) {
    const { message, code } = await describeError(err);
    const usage = code === EXIT.usage && !(err instanceof Failure);
    process.stderr.write(
      `quire ${name}: ${message}\n${usage ? `Usage: ${command.usage}  (quire help ${name} for more)\n` : ''}`,
    );
    return code;
  }
}

/** `quire help [COMMAND]`. */
async function help(topic: string | undefined): Promise<number> {
  if (topic === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS[topic];
  if (entry === undefined) {
    process.stderr.write(`quire help: unknown command '${topic}' (quire --help lists them)\n`);
    return EXIT.usage;
  }
  process.stdout.write(helpText((await entry.load()).command));
  return EXIT.ok;
}

function helpText(c: Command): string {
  return `Usage: ${c.usage}\n\n${c.help}\n`;
}

/** The one line to print for `err` and the exit code: 2 for the caller's mistakes, 1 for other failures. */
async function describeError(err: unknown): Promise<{ message: string; code: number }> {
  if (err instanceof UsageError) return { message: err.message, code: EXIT.usage };
  if (err instanceof Failure) return { message: err.message, code: err.exitCode };
  const parseError = parseArgsMessage(err);
  if (parseError !== undefined) return { message: parseError, code: EXIT.usage };
  // Loaded only on this path: the commands that throw QuireErrors have loaded @quire/fs already.
  const { isQuireError } = await import('@quire/fs');
  if (isQuireError(err, 'ERR_INVALID_ID') || isQuireError(err, 'ERR_INVALID_ARG'))
    return { message: err.message, code: EXIT.usage };
  if (isQuireError(err)) return { message: `${err.message} [${err.code}]`, code: EXIT.failure };
  return { message: err instanceof Error ? err.message : String(err), code: EXIT.failure };
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
