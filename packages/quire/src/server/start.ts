import type { FastifyInstance } from 'fastify';
import {
  ConfigError,
  configFromEnv,
  type QuireConfig,
  type QuireConfigInput,
  readAdminPasswordFile,
  readConfigFile,
  resolveConfig,
} from '../config.js';
import { CommentStore } from '../store/store.js';
import { buildApp, type LogOptions } from './app.js';
import {
  connectionCapFor,
  limitConnections,
  MAX_CONNECTIONS,
  RESERVED_FDS,
  raiseOpenFileLimit,
} from './connections.js';
import { ServerContext } from './context.js';
import { setMarkdownBudget, setMarkdownCacheBytes } from './markdown.js';
import { Notifications } from './notify/service.js';
import { hashPassword } from './password.js';
import { trustedProxies } from './trusted-proxies.js';

export interface StartOptions {
  /** Overrides config.dataDir (QUIRE_DATA). */
  dataDir?: string;
  /** Overrides config.port (QUIRE_PORT); 0 picks a free port. */
  port?: number;
  /** Overrides config.host (QUIRE_HOST). */
  host?: string;
  /** Overrides config.adminPasswordFile (QUIRE_ADMIN_PASSWORD_FILE). */
  adminPasswordFile?: string;
  /** Told what is allowed but unwise, e.g. a plain password in adminPasswordFile. Default: process.emitWarning. */
  onWarning?: (message: string) => void;
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
  opts: Pick<StartOptions, 'config' | 'env' | 'dataDir' | 'port' | 'host' | 'adminPasswordFile'> = {},
): QuireConfig {
  const env = opts.env ?? process.env;
  const fileFromEnv = env.QUIRE_CONFIG ? readConfigFile(env.QUIRE_CONFIG) : undefined;
  const given = typeof opts.config === 'string' ? readConfigFile(opts.config) : opts.config;
  const direct: QuireConfigInput = {
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    ...(opts.port === undefined ? {} : { port: opts.port }),
    ...(opts.host === undefined ? {} : { host: opts.host }),
    ...(opts.adminPasswordFile === undefined ? {} : { adminPasswordFile: opts.adminPasswordFile }),
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
  config.adminPasswordHash = await adminPasswordHash(
    config,
    opts.onWarning ?? ((m) => process.emitWarning(m)),
  );
  const clock = opts.clock ?? Date.now;
  const store = await CommentStore.open(config.dataDir, {
    clock,
    durable: config.durable,
    lockWaitMs: config.deadlines.lockWaitMs,
    viewListAfterMs: config.freshness.viewListAfterMs,
    cache: config.cache,
  });
  const ctx = new ServerContext(config, store, clock);
  ctx.notify = await Notifications.open(config, store, clock);
  setMarkdownBudget(config.markdown);
  setMarkdownCacheBytes(config.cache.markdownBytes);
  const app = await buildApp(ctx, opts.logger ?? {});
  app.addHook('onClose', async () => ctx.notify?.close());
  // The recent-comments notes of the last requests, written after their answers, and this process's writer mark
  // removed: a clean end (store/recent.ts).
  app.addHook('onClose', () => store.recent.close());
  const connectionCap = guardConnections(app, config);
  if (opts.setup !== undefined) await opts.setup(app);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  await ctx.notify.start(`http://${shownHost}:${port}`, app.log);

  const { close, closed } = closeOnSignals(
    app,
    ctx,
    config.shutdownGraceSeconds,
    opts.handleSignals !== false,
  );
  // Builds the recent-comments index now if it must be (a data directory from before it), not in a feed request.
  store.newestApproved(1).catch((err: unknown) => app.log.warn({ err }, 'the recent-comments index failed'));
  // The same for the status index (store/status-index.ts: the moderation queue): built once per data directory.
  store.statusIndex.ready().catch((err: unknown) => app.log.warn({ err }, 'the status index failed'));
  // The effective setting: settings.json (changed through the admin API) overrides the config's.
  const moderation = await ctx.moderation();
  app.log.info({ port, dataDir: config.dataDir, moderation, connectionCap }, 'quire is listening');
  return { url: `http://${shownHost}:${port}`, host: config.host, port, config, app, store, close, closed };
}

/**
 * The service's close(): no new connections, requests in flight finish, then `closed` resolves. With `signals`,
 * SIGTERM and SIGINT call it, and past `graceSeconds` whatever is still open is cut and the process exits.
 */
function closeOnSignals(
  app: FastifyInstance,
  ctx: ServerContext,
  graceSeconds: number,
  signals: boolean,
): { close: () => Promise<void>; closed: Promise<void> } {
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const graceMs = graceSeconds * 1000;
  const onSignal = (signal: NodeJS.Signals) => {
    app.log.info({ signal, graceSeconds }, 'shutting down: finishing requests in flight');
    // Past the grace period, connections still open are cut and the process exits however much work is queued
    // (reads and writes the threadpool has yet to run, a render): the store is crash-safe, so this is a crash at
    // worst, and nothing acknowledged is lost.
    const grace = setTimeout(() => {
      app.log.warn('grace period over: closing every connection');
      app.server.closeAllConnections();
      resolveClosed();
      exitSoon();
    }, graceMs);
    void close().finally(() => {
      clearTimeout(grace);
      exitSoon();
    });
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ctx.closing = true;
      if (signals) {
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
  if (signals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  return { close, closed };
}

/**
 * After a signal's shutdown: whatever still keeps the process alive (queued file I/O, a worker busy for a client
 * gone) gets a moment, then the process exits with the exit code set by then (0 if none).
 */
function exitSoon(): void {
  setTimeout(() => process.exit(), EXIT_AFTER_CLOSE_MS).unref();
}

const EXIT_AFTER_CLOSE_MS = 1000;

/**
 * Connection caps on the app's server: per client (trusted proxies exempt), and in total below the descriptor
 * limit, raised at start as far as the hard limit allows. Returns the total cap.
 */
function guardConnections(app: FastifyInstance, config: QuireConfig): number {
  const c = config.connections;
  const total = c.total > 0 ? c.total : connectionCapFor(raiseOpenFileLimit(MAX_CONNECTIONS + RESERVED_FDS));
  limitConnections(app.server, {
    perClient: c.perClient,
    total,
    exempt: trustedProxies(config.trustProxy),
  });
  return total;
}

/** The admin password hash: the config's, or from adminPasswordFile (hashing a plain password, with a warning). */
async function adminPasswordHash(
  config: QuireConfig,
  warn: (message: string) => void,
): Promise<string | null> {
  if (config.adminPasswordFile === null) return config.adminPasswordHash;
  const content = readAdminPasswordFile(config.adminPasswordFile);
  if ('hash' in content) return content.hash;
  warn(
    `admin password file ${config.adminPasswordFile} holds a plain password; ` +
      'put its hash there instead (quire hash-password < FILE prints it)',
  );
  return hashPassword(content.password).catch((err: unknown) => {
    throw new ConfigError(`admin password file ${config.adminPasswordFile}: ${(err as Error).message}`);
  });
}
