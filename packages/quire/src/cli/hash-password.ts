import { type Command, EXIT, Failure, HELP_OPTION, UsageError } from './command.js';

/** `quire hash-password`: the scrypt hash of an admin password, for the service's config. */
export const command: Command = {
  usage: 'quire hash-password < password.txt',
  help: `Prints the scrypt hash, scrypt$..., of a password for --admin-password-file,
QUIRE_ADMIN_PASSWORD_HASH or adminPasswordHash in the config. The password
itself is never stored. On a terminal it asks for the password twice, without
showing it; otherwise it reads standard input (a final newline is not part of
the password). The hash contains $ signs: keep it in a file, or single-quote
it in a shell.

Examples:
  (umask 077; quire hash-password > admin.hash)
  quire serve --admin-password-file admin.hash
  printf '%s' "$PASSWORD" | quire hash-password
  QUIRE_ADMIN_PASSWORD_HASH="$(cat admin.hash)" quire serve`,
  options: { ...HELP_OPTION },
  async run(inv) {
    if (inv.operands[0] !== undefined) throw new UsageError(`unexpected argument '${inv.operands[0]}'`);
    const pw = process.stdin.isTTY ? await askTwice() : await readAll(process.stdin);
    const { hashPassword } = await import('../server/password.js');
    try {
      process.stdout.write(`${await hashPassword(pw)}\n`);
      return EXIT.ok;
    } catch (err) {
      throw new Failure((err as Error).message, EXIT.usage);
    }
  },
};

async function readAll(stream: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks on the terminal for the password and again to confirm it. */
async function askTwice(): Promise<string> {
  const first = await ask('Password (not shown): ');
  const again = await ask('Again: ');
  if (first !== again) throw new Failure('the two passwords differ; nothing printed');
  return first;
}

/** One line typed on the terminal without echo: Enter ends it, Backspace erases, Ctrl-C or Ctrl-D give up. */
function ask(prompt: string): Promise<string> {
  const tty = process.stdin;
  // No echo before the prompt shows: whoever answers it types into a terminal that already hides the keys.
  tty.setRawMode(true);
  process.stderr.write(prompt);
  tty.resume();
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (err?: Error) => {
      tty.off('data', onData);
      tty.setRawMode(false);
      tty.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new Failure('cancelled; nothing printed'));
        if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('');
        else line += ch;
      }
    };
    tty.on('data', onData);
  });
}
