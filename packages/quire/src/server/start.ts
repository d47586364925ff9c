import type { FastifyInstance } from 'fastify';
import {
  ConfigError,
  configFromEnv,
  ENV_VARS,
  type QuireConfig,
  type QuireConfigInput,
  readConfigFile,
  resolveConfig,
} from '../config.js';
import { CommentStore } from '../store/store.js';
import { buildApp, type LogOptions } from './app.js';
import { ServerContext } from './context.js';
import { hashPassword } from './password.js';

export interface StartOptions {
  /** Overrides config.dataDir (QUIRE_DATA). */
  dataDir?: string;
  /** Overrides config.port (QUIRE_PORT); 0 picks a free port. */
  port?: number;
  /** Overrides config.host (QUIRE_HOST). */
  host?: string;
  /**
   * Settings, or the path of a JSON file with them. Layers, later wins: defaults, the file named by
   * QUIRE_CONFIG, environment variables, this, then dataDir/port/host above.
   */
  config?: QuireConfigInput | string;
  /** Environment to read QUIRE_* from; default process.env. Pass {} to ignore the environment. */
  env?: NodeJS.ProcessEnv;
  /** Epoch milliseconds; default Date.now. Tests move it to expire edit windows and tokens. */
  clock?: () => number;
  /** false: no logs. Default: JSON lines on standard output at config.logLevel. */
  logger?: LogOptions | false;
  /** Close gracefully on SIGTERM and SIGINT (default true). */
  handleSignals?: boolean;
  /** Called with the app before it listens: add routes or hooks of your own. */
  setup?: (app: FastifyInstance) => void | Promise<void>;
}

export interface RunningServer {
  /** `http://host:port`. */
  url: string;
  host: string;
  port: number;
  config: QuireConfig;
  app: FastifyInstance;
  store: CommentStore;
  /** Stops accepting connections, lets in-flight requests finish, then resolves. Idempotent. */
  close(): Promise<void>;
  /** Resolves once the server has closed, however that came about (close() or a signal). */
  closed: Promise<void>;
}

/** The effective config for these options: defaults < QUIRE_CONFIG file < environment < options. */
export function loadConfig(
  opts: Pick<StartOptions, 'config' | 'env' | 'dataDir' | 'port' | 'host'> = {},
): QuireConfig {
  const env = opts.env ?? process.env;
  const fileFromEnv = env.QUIRE_CONFIG ? readConfigFile(env.QUIRE_CONFIG) : undefined;
  const given = typeof opts.config === 'string' ? readConfigFile(opts.config) : opts.config;
  const direct: QuireConfigInput = {
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    ...(opts.port === undefined ? {} : { port: opts.port }),
    ...(opts.host === undefined ? {} : { host: opts.host }),
  };
  return resolveConfig(fileFromEnv, configFromEnv(env), given, direct);
}

/**
 * Starts the comment service: opens (creating on first start) the data directory and its secret, builds the
 * HTTP app and listens. With handleSignals (default), SIGTERM or SIGINT closes it gracefully: no new
 * connections, in-flight requests finish, then `closed` resolves and the process may exit.
 */
export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const config = loadConfig(opts);
  const clock = opts.clock ?? Date.now;
  const store = await CommentStore.open(config.dataDir, { clock, durable: config.durable });
  const ctx = new ServerContext(config, store, clock);
  const app = await buildApp(ctx, opts.logger ?? {});
  if (opts.setup !== undefined) await opts.setup(app);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;

  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    void close();
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ctx.closing = true;
      if (opts.handleSignals !== false) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      try {
        await app.close();
      } finally {
        resolveClosed();
      }
    })();
    return closing;
  };
  if (opts.handleSignals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  app.log.info({ port, dataDir: config.dataDir, moderation: config.moderation }, 'quire is listening');
  return { url: `http://${shownHost}:${port}`, host: config.host, port, config, app, store, close, closed };
}

/**
 * `quire serve`, shaped like the CLI's other commands ({ summary, usage, options, run }), for the CLI to wire in.
 * run() resolves with the exit code once the server has shut down (SIGTERM/SIGINT).
 */
export interface CliCommand {
  summary: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  run(args: string[], values: Record<string, string | boolean | undefined>): Promise<number>;
}

export const serveCommand: CliCommand = {
  summary: 'run the comment service (HTTP)',
  usage: `quire serve [--data DIR] [--port N] [--host ADDR] [--config FILE]

Runs the comment service until SIGTERM or SIGINT, then finishes the requests in flight and exits 0.
The data directory is created on first start. Settings come from defaults, the JSON file named by
--config (or QUIRE_CONFIG), then environment variables, then these flags:
  --data DIR     data directory (QUIRE_DATA; default ./quire-data)
  --port N       TCP port, 0 for any free one (QUIRE_PORT; default 8080)
  --host ADDR    address to listen on (QUIRE_HOST; default 127.0.0.1)
  --config FILE  JSON config file (QUIRE_CONFIG)
Environment: ${Object.keys(ENV_VARS).join(', ')}, QUIRE_CONFIG.
See docs/comment-service.md for every setting.`,
  options: {
    data: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  async run(_args: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
    const port = values.port;
    if (port !== undefined && (typeof port !== 'string' || !/^\d{1,5}$/.test(port))) {
      process.stderr.write(`quire serve: --port needs a number, got ${JSON.stringify(port)}\n`);
      return 2;
    }
    try {
      const server = await startServer({
        ...(typeof values.data === 'string' ? { dataDir: values.data } : {}),
        ...(typeof port === 'string' ? { port: Number(port) } : {}),
        ...(typeof values.host === 'string' ? { host: values.host } : {}),
        ...(typeof values.config === 'string' ? { config: values.config } : {}),
      });
      process.stderr.write(`quire serve: listening on ${server.url}\n`);
      await server.closed;
      return 0;
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`quire serve: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
  },
};

/**
 * `quire hash-password`: reads a password from standard input (one line) and prints the scrypt hash to put in
 * adminPasswordHash / QUIRE_ADMIN_PASSWORD_HASH.
 */
export const hashPasswordCommand: CliCommand = {
  summary: 'print the hash of an admin password (read from standard input)',
  usage: `quire hash-password < password.txt

Reads one line from standard input and prints its scrypt hash for adminPasswordHash in the config
or QUIRE_ADMIN_PASSWORD_HASH. The password itself is never stored.`,
  options: { help: { type: 'boolean', short: 'h' } },
  async run(): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const pw = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    try {
      process.stdout.write(`${await hashPassword(pw)}\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`quire hash-password: ${(err as Error).message}\n`);
      return 2;
    }
  },
};
