import { type Command, EXIT, Failure, HELP_OPTION, UsageError } from './command.js';

/** `quire hash-password`: the scrypt hash of an admin password, for the service's config. */
export const command: Command = {
  usage: 'quire hash-password < password.txt',
  help: `Reads one line from standard input (a final newline is not part of the
password) and prints its scrypt hash, scrypt$..., for --admin-password-file,
QUIRE_ADMIN_PASSWORD_HASH or adminPasswordHash in the config. The password
itself is never stored. The hash contains $ signs: keep it in a file, or
single-quote it in a shell.

Examples:
  (umask 077; printf '%s' "$PASSWORD" | quire hash-password > admin.hash)
  quire serve --admin-password-file admin.hash
  QUIRE_ADMIN_PASSWORD_HASH="$(cat admin.hash)" quire serve`,
  options: { ...HELP_OPTION },
  async run(inv) {
    if (inv.operands[0] !== undefined) throw new UsageError(`unexpected argument '${inv.operands[0]}'`);
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const pw = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    const { hashPassword } = await import('../server/password.js');
    try {
      process.stdout.write(`${await hashPassword(pw)}\n`);
      return EXIT.ok;
    } catch (err) {
      throw new Failure((err as Error).message, EXIT.usage);
    }
  },
};
