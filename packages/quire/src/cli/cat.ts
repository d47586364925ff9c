import { type Command, EXIT, HELP_OPTION, UsageError } from './command.js';
import { open, SUFFIX_HELP, SUFFIX_OPTION } from './spool.js';

/** `quire cat DIR ID...`: record contents. */
export const command: Command = {
  usage: 'quire cat DIR ID... [--suffix .EXT]',
  help: `Writes the content of each record to standard output, in the order given.
A missing record is reported on stderr, the others are still printed, and the
exit code is 1. An ID that is not a record name (such as ../x) is a usage error
(exit 2), refused before anything is read.

Options:
${SUFFIX_HELP}

Examples:
  quire cat comments 20261126T101500Z-0
  quire ls comments -r -n 1 | xargs quire cat comments`,
  options: { ...HELP_OPTION, ...SUFFIX_OPTION },
  async run(inv) {
    const [dir, ...ids] = inv.operands;
    if (dir === undefined) throw new UsageError('missing DIR');
    if (ids.length === 0) throw new UsageError('missing ID');
    const spool = await open(dir, inv);
    // All of them before the first read: a bad ID among good ones must not print the good ones first.
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
};
