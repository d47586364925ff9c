import { ConfigError } from '../config.js';
import type { ReadMeter } from '../port/source.js';
import type { Summary } from '../port/summary.js';
import { str } from './args.js';
import { type Command, EXIT, Failure, HELP_OPTION, UsageError } from './command.js';

const FORMATS = ['quire', 'disqus', 'wordpress', 'remark42', 'isso'] as const;

/** A progress line: records, threads, rate, and the time left by the bytes read; on a terminal it rewrites itself. */
function progressLine(s: Summary, tty: boolean, meter: ReadMeter): string {
  const done = meter.total > 0 ? meter.bytes / meter.total : 0;
  const elapsed = (Date.now() - s.startedAt) / 1000;
  const eta = done > 0.01 && done < 1 ? `, ${Math.round((elapsed / done) * (1 - done))} s left` : '';
  const line = `quire import: ${s.comments} comments, ${s.threads} threads, ${s.skipped} skipped, ${Math.round(s.rate())}/s${eta}`;
  return tty ? `\r\x1b[K${line}` : `${line}\n`;
}

/** `quire import FORMAT FILE`: brings comments from another system, or our own export, into a data directory. */
export const command: Command = {
  usage:
    'quire import FORMAT FILE [--data DIR] [--site ORIGIN] [--dry-run] [--json] [--progress] [--config FILE]',
  help: `Imports the comments of FILE into the data directory, each with its own time
as its record name, threads keyed by page address as the service keys them.
FORMAT is one of: quire (our export, put back exactly), disqus (Disqus XML),
wordpress (WordPress WXR), remark42 (a Remark42 backup, gzip'd), isso (Isso's
SQLite database). Safe to run again, also after a crash or a kill: every
comment is written once. A running \`quire serve\` sees the comments at once.
A malformed file stops with one line naming where; a bad record (no text, an
impossible date, an unknown page) is skipped and listed. docs/migrating.md
says what maps to what.

Options:
  --data DIR       data directory (QUIRE_DATA; default ./quire-data)
  --site ORIGIN    put the old pages on this origin (https://new.example):
                   their scheme, host and port are replaced, the path kept
  --dry-run        read and check everything, write nothing, report the same
  --json           print the summary as JSON on standard output
  --progress       report progress on stderr (the default on a terminal)
  --config FILE    JSON config file (QUIRE_CONFIG): its uri settings apply

Exit codes: 0 done (skipped records are listed, not failures); 1 the file is
malformed or unreadable (what was imported before stays, a re-run goes on).

Examples:
  quire import disqus export.xml --data ./data --site https://blog.example
  quire import wordpress blog.wordpress.xml --dry-run
  quire export --data old > all.jsonl && quire import quire all.jsonl --data new`,
  options: {
    ...HELP_OPTION,
    data: { type: 'string' },
    site: { type: 'string' },
    config: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    progress: { type: 'boolean' },
  },
  async run(inv) {
    const [format, file, extra] = inv.operands;
    if (format === undefined || file === undefined) throw new UsageError('missing FORMAT or FILE');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`FORMAT must be one of ${FORMATS.join(', ')}`);
    }
    const site = str(inv, 'site');
    if (site !== undefined && !/^https?:\/\/[^/?#]+\/?$/i.test(site)) {
      throw new UsageError(`${inv.spelled('site')} must be an origin such as https://blog.example`);
    }
    const { portConfig } = await import('../port/config.js');
    let config: ReturnType<typeof portConfig>;
    try {
      config = portConfig(str(inv, 'data'), str(inv, 'config'));
    } catch (err) {
      if (err instanceof ConfigError) throw new Failure(err.message, EXIT.usage);
      throw err;
    }
    const { existsSync, statSync } = await import('node:fs');
    if (!existsSync(file)) throw new Failure(`no such file ${file}`);
    const meter: ReadMeter = { bytes: 0, total: statSync(file).size };
    const [{ CommentStore }, { Importer }, { READERS }, { PortError }] = await Promise.all([
      import('../store/store.js'),
      import('../port/importer.js'),
      import('../port/readers.js'),
      import('../port/source.js'),
    ]);
    const dryRun = inv.values['dry-run'] === true;
    const tty = process.stderr.isTTY === true;
    const showProgress = inv.values.progress === true || tty;
    const store = await CommentStore.open(config.dataDir);
    const importer = new Importer(store, {
      format: format as (typeof FORMATS)[number],
      ...(site === undefined ? {} : { site }),
      dryRun,
      uri: config.uri,
      uriChars: config.limits.uriChars,
      textChars: config.limits.textChars,
      progressEvery: tty ? 200 : 1000,
      ...(showProgress
        ? { onProgress: (s: Summary) => process.stderr.write(progressLine(s, tty, meter)) }
        : {}),
    });
    try {
      const summary = await importer.run(READERS[format as (typeof FORMATS)[number]](file, meter));
      if (showProgress && tty) process.stderr.write('\n');
      if (inv.values.json === true) {
        const report = { ...summary.toJSON(), maxRssKiB: process.resourceUsage().maxRSS };
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else process.stdout.write(summary.text(dryRun));
      return EXIT.ok;
    } catch (err) {
      if (showProgress && tty) process.stderr.write('\n');
      if (err instanceof PortError) {
        throw new Failure(
          `${file}: ${err.message} (${importer.summary.comments} comments imported before it stay; fix the file and run again)`,
        );
      }
      throw err;
    }
  },
};
