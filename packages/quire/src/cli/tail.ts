import { count, only } from './args.js';
import { type Command, EXIT, HELP_OPTION } from './command.js';
import { open, printIds, SUFFIX_HELP, SUFFIX_OPTION, trapStopSignals } from './spool.js';

/** `quire tail [-f] DIR`: the newest ids, then (with -f) each new one. */
export const command: Command = {
  usage: 'quire tail [-f] [-n N] [--poll MS] DIR [--suffix .EXT]',
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
    ...HELP_OPTION,
    ...SUFFIX_OPTION,
    follow: { type: 'boolean', short: 'f' },
    lines: { type: 'string', short: 'n' },
    poll: { type: 'string' },
  },
  async run(inv) {
    const dir = only(inv, 'DIR');
    const lines = count(inv, 'lines', 10);
    const pollMs = count(inv, 'poll', 1000, 1);
    const follow = inv.values.follow === true;
    const spool = await open(dir, inv);
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
};
