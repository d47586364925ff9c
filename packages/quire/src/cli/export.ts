import { once } from 'node:events';
import { ConfigError } from '../config.js';
import { str } from './args.js';
import { type Command, EXIT, Failure, HELP_OPTION, UsageError } from './command.js';

/** `quire export`: the whole data directory as JSON Lines or Disqus XML on standard output. */
export const command: Command = {
  usage: 'quire export [--data DIR] [--format quire|disqus] [--config FILE] > FILE',
  help: `Writes every thread and comment of the data directory to standard output,
streamed, while the service may keep running: each comment comes out whole, and
one posted during the export is in or out, never half (docs/migrating.md).

Options:
  --data DIR       data directory (QUIRE_DATA; default ./quire-data)
  --format F       quire (default): JSON Lines, every field the service keeps,
                   versioned (docs/migrating.md), for \`quire import quire\`;
                   disqus: Disqus XML, for Disqus, Isso or Remark42
                   (pending comments are left out)
  --config FILE    JSON config file (QUIRE_CONFIG)

Examples:
  quire export --data ./data > backup.jsonl
  quire export --data ./data --format disqus > comments.xml`,
  options: {
    ...HELP_OPTION,
    data: { type: 'string' },
    format: { type: 'string' },
    config: { type: 'string' },
  },
  async run(inv) {
    if (inv.operands[0] !== undefined) throw new UsageError(`unexpected argument '${inv.operands[0]}'`);
    const format = str(inv, 'format') ?? 'quire';
    if (format !== 'quire' && format !== 'disqus') {
      throw new UsageError(`${inv.spelled('format')} must be quire or disqus`);
    }
    const { portConfig } = await import('../port/config.js');
    let dataDir: string;
    try {
      dataDir = portConfig(str(inv, 'data'), str(inv, 'config')).dataDir;
    } catch (err) {
      if (err instanceof ConfigError) throw new Failure(err.message, EXIT.usage);
      throw err;
    }
    const { CommentStore } = await import('../store/store.js');
    const { existsSync } = await import('node:fs');
    if (!existsSync(dataDir)) throw new Failure(`no data directory ${dataDir}`);
    const store = await CommentStore.open(dataDir);
    const { exportStream } = await import('../port/export.js');
    for await (const chunk of exportStream(store, format)) {
      if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    }
    return EXIT.ok;
  },
};
