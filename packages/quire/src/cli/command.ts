import type { ParseArgsConfig } from 'node:util';

/**
 * What every `quire` command is made of. Each command lives in a module of its own that main.ts imports only
 * when that command runs, so `quire ls` never loads the comment service (Fastify, micromark, the store).
 */

/** Exit codes, documented in `quire --help` and the README. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  lockTimeout: 75,
  cannotExecute: 126,
  notFound: 127,
} as const;

/** Bad arguments: exit 2 with the usage line. */
export class UsageError extends Error {}

/** A failure whose message is already written for the user: exit 1 unless told otherwise. */
export class Failure extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
  }
}

export type Values = Record<string, string | boolean | undefined>;

/** One run of a command, its arguments parsed. */
export interface Invocation {
  operands: string[];
  values: Values;
  /** Everything after the first `--`, for a command that runs a COMMAND (`takesCommand`). */
  command: string[] | undefined;
  /** How the user spelled option `name` (`-n` or `--lines`), so that messages name what was typed. */
  spelled(name: string): string;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  /** One line: `quire ls DIR [...]`. */
  usage: string;
  /** What it does, its options, examples (`Examples:` last, each line `  quire CMD ...`). */
  help: string;
  options: Options;
  /** Everything after the first `--` is a COMMAND to run, passed as `Invocation.command`. */
  takesCommand?: true;
  run(inv: Invocation): Promise<number>;
}

/** Every command has -h/--help. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;
