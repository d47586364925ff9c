import { parseArgs } from 'node:util';
import { type Command, type Invocation, type Options, UsageError, type Values } from './command.js';

/**
 * Parses a command's arguments. Unlike bare parseArgs, a value that starts with a dash (`-n -5`) is taken as
 * the option's value, so that the command can say what is wrong with it instead of parseArgs' "argument is
 * ambiguous"; and every option remembers how it was typed (`-n` or `--lines`) for messages.
 */
export function parseInvocation(cmd: Command, args: string[]): Invocation {
  const [before, command] = splitCommand(cmd, args);
  const { values, positionals, tokens } = parseArgs({
    args: attachDashValues(before, cmd.options),
    options: cmd.options,
    allowPositionals: true,
    tokens: true,
  });
  const typed = new Map<string, string>();
  for (const t of tokens) if (t.kind === 'option') typed.set(t.name, t.rawName);
  return {
    operands: positionals,
    values: values as Values,
    command,
    spelled: (name) => typed.get(name) ?? `--${name}`,
  };
}

/** Splits `args` at the first `--` for a command that runs a COMMAND; others read `--` as parseArgs does. */
function splitCommand(cmd: Command, args: string[]): [string[], string[] | undefined] {
  const i = args.indexOf('--');
  return cmd.takesCommand && i >= 0 ? [args.slice(0, i), args.slice(i + 1)] : [args, undefined];
}

/**
 * `-n -5` → `-n-5` and `--limit -5` → `--limit=-5`: the forms parseArgs takes for a value that starts with a
 * dash, keeping the option's spelling.
 */
function attachDashValues(args: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const option = takesValue(arg, options);
    if (option !== undefined && next?.startsWith('-')) {
      out.push(option === 'short' ? `${arg}${next}` : `${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Whether `arg` is exactly a string option's flag (`-n` or `--limit`), and which form. */
function takesValue(arg: string, options: Options): 'short' | 'long' | undefined {
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    if (arg === `--${name}`) return 'long';
    if (o.short !== undefined && arg === `-${o.short}`) return 'short';
  }
  return undefined;
}

/** The value of string option `name`, if given. */
export function str(inv: Invocation, name: string): string | undefined {
  const v = inv.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** The whole number given for option `name` (at least `min`), or `fallback` when it was not given. */
export function count(inv: Invocation, name: string, fallback: number, min?: number): number;
export function count(inv: Invocation, name: string, fallback: undefined, min?: number): number | undefined;
export function count(
  inv: Invocation,
  name: string,
  fallback: number | undefined,
  min = 0,
): number | undefined {
  const v = inv.values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    const what = min === 0 ? 'a whole number (0 or more)' : `a whole number ${min} or more`;
    throw new UsageError(`${inv.spelled(name)} takes ${what}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The one operand, called `name` in the usage; more operands are a usage error. */
export function only(inv: Invocation, name: string): string {
  const [first, extra] = inv.operands;
  if (first === undefined) throw new UsageError(`missing ${name}`);
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  return first;
}

/** The message of a parseArgs error (exit 2), or undefined if `err` is not one. */
export function parseArgsMessage(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return undefined;
  // parseArgs explains more than a one-line error needs.
  const message = (err as Error).message.split('\n')[0] ?? '';
  const unknown = /^Unknown option '([^']*)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const missing = /^Option '([^']*) <value>' argument missing/.exec(message);
  return missing ? `option '${missing[1]}' needs a value` : message;
}
