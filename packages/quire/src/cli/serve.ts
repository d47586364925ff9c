import { ConfigError, ENV_VARS } from '../config.js';
import { count, str } from './args.js';
import { type Command, EXIT, Failure, HELP_OPTION, UsageError } from './command.js';

/**
 * Without origins, comments are taken for any page of any site: anyone can make threads for pages that are not
 * the operator's. Allowed (a same-origin install, a local try-out), but never silently: issue 12 chose a loud
 * warning over a refusal to start, so that existing installs keep running while their operators are told.
 */
const NO_ORIGINS_WARNING =
  'quire serve: WARNING: no origins are configured (origins, QUIRE_ORIGINS): comments are accepted for pages\n' +
  'quire serve: WARNING: of ANY site, and anyone can create threads. On the internet, set QUIRE_ORIGINS to\n' +
  'quire serve: WARNING: your site, e.g. QUIRE_ORIGINS=https://blog.example.org\n';

/**
 * What docs/comment-service.md ("Memory") runs the service with. None can be set from inside the process (V8
 * sizes its heap, glibc its arenas, before any JavaScript runs; measured), and Node 20 cannot exec itself anew
 * without a second process for the service's lifetime: so `quire serve` says what is missing instead.
 */
const MEMORY_SETTINGS = [
  '--max-semi-space-size=1',
  '--max-old-space-size=128',
  'MALLOC_ARENA_MAX=2',
  'MALLOC_MMAP_THRESHOLD_=131072',
  'MALLOC_TRIM_THRESHOLD_=131072',
];

/** A V8 flag's name as V8 reads it: `--max_old_space_size` and `--max-old-space-size` are the same flag. */
const flagName = (arg: string) => (arg.split('=')[0] as string).replaceAll('_', '-');

/** The memory settings this process runs without (flags given to node or in NODE_OPTIONS; the environment). */
export function missingMemorySettings(
  execArgv: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map(flagName);
  return MEMORY_SETTINGS.filter((s) => {
    const name = flagName(s);
    return name.startsWith('--') ? !given.includes(name) : env[s.split('=')[0] as string] === undefined;
  });
}

/** `quire serve`: the comment service. The server itself is imported only when it runs, not for --help. */
export const command: Command = {
  usage: 'quire serve [--data DIR] [--port N] [--host ADDR] [--config FILE] [--admin-password-file FILE]',
  help: `Runs the comment service until SIGTERM or SIGINT, then finishes the requests
in flight and exits 0. The data directory is created on first start. Settings
come from defaults, the JSON file named by --config (or QUIRE_CONFIG), then
environment variables, then these flags:

Options:
  --data DIR       data directory (QUIRE_DATA; default ./quire-data)
  --port N         TCP port, 0 for any free one (QUIRE_PORT; default 8080)
  --host ADDR      address to listen on (QUIRE_HOST; default 127.0.0.1)
  --config FILE    JSON config file (QUIRE_CONFIG)
  --admin-password-file FILE
                   enables the admin API with the password whose hash
                   (from quire hash-password) is in FILE
                   (QUIRE_ADMIN_PASSWORD_FILE, config adminPasswordFile).
                   FILE must be readable by its owner only (chmod 600). A
                   plain password in FILE works too, with a warning.

Environment: ${Object.keys(ENV_VARS).join(', ')},
QUIRE_CONFIG. See docs/comment-service.md for every setting.

Examples:
  quire serve --data ./data --port 8080
  (umask 077; printf '%s' "$PASSWORD" | quire hash-password > admin.hash)
  quire serve --data ./data --admin-password-file admin.hash`,
  options: {
    ...HELP_OPTION,
    data: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    config: { type: 'string' },
    'admin-password-file': { type: 'string' },
  },
  async run(inv) {
    if (inv.operands[0] !== undefined) throw new UsageError(`unexpected argument '${inv.operands[0]}'`);
    const port = count(inv, 'port', undefined);
    if (port !== undefined && port > 65535) throw new UsageError(`${inv.spelled('port')} must be 0-65535`);
    const dataDir = str(inv, 'data');
    const host = str(inv, 'host');
    const config = str(inv, 'config');
    const adminPasswordFile = str(inv, 'admin-password-file');
    const { startServer } = await import('../server/start.js');
    try {
      const server = await startServer({
        ...(dataDir === undefined ? {} : { dataDir }),
        ...(port === undefined ? {} : { port }),
        ...(host === undefined ? {} : { host }),
        ...(config === undefined ? {} : { config }),
        ...(adminPasswordFile === undefined ? {} : { adminPasswordFile }),
        onWarning: (message) => process.stderr.write(`quire serve: warning: ${message}\n`),
      });
      if (server.config.origins.length === 0) process.stderr.write(NO_ORIGINS_WARNING);
      const missing = missingMemorySettings();
      if (missing.length > 0)
        process.stderr.write(
          `quire serve: note: running without ${missing.join(' ')} (about 30 MB more memory); ` +
            'deploy/quire.service sets them (docs/comment-service.md, "Memory")\n',
        );
      process.stderr.write(`quire serve: listening on ${server.url}\n`);
      await server.closed;
      return EXIT.ok;
    } catch (err) {
      // A bad setting is the caller's mistake, but the usage line would not help: one line, exit 2.
      if (err instanceof ConfigError) throw new Failure(err.message, EXIT.usage);
      throw err;
    }
  },
};
