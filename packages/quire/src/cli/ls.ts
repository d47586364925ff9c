import { count, only, str } from './args.js';
import { type Command, EXIT, HELP_OPTION } from './command.js';
import { open, printIds, SUFFIX_HELP, SUFFIX_OPTION } from './spool.js';

/** `quire ls DIR`: record ids in time order. */
export const command: Command = {
  usage: 'quire ls DIR [-r] [-n N] [--after ID] [--before ID] [--suffix .EXT]',
  help: `Prints the ids of the records in DIR in time order, one per line. Reads
names only, never contents.

Options:
  -r, --reverse    newest first
  -n, --limit N    at most N ids (a whole number, 0 or more)
  --after ID       only ids that sort after ID
  --before ID      only ids that sort before ID
${SUFFIX_HELP}

Examples:
  quire ls comments -r -n 10          the 10 newest
  quire ls comments --after "$LAST"   what is new since $LAST`,
  options: {
    ...HELP_OPTION,
    ...SUFFIX_OPTION,
    reverse: { type: 'boolean', short: 'r' },
    limit: { type: 'string', short: 'n' },
    after: { type: 'string' },
    before: { type: 'string' },
  },
  async run(inv) {
    const dir = only(inv, 'DIR');
    const limit = count(inv, 'limit', undefined);
    const after = str(inv, 'after');
    const before = str(inv, 'before');
    const spool = await open(dir, inv);
    const ids = await spool.ids({
      reverse: inv.values.reverse === true,
      ...(limit === undefined ? {} : { limit }),
      ...(after === undefined ? {} : { after }),
      ...(before === undefined ? {} : { before }),
    });
    printIds(ids);
    return EXIT.ok;
  },
};
