import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import cors from '@fastify/cors';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ConnectionsConfig } from '../config.js';
import { clientKey, truncateIp } from '../store/address.js';
import type { ServerContext } from './context.js';
import { addRequestDeadline, lockWaitProblem } from './deadlines.js';
import { EDIT_TOKEN_HEADER } from './edit-tokens.js';
import { storageHealth } from './health.js';
import { openApiDocument } from './openapi.js';
import {
  clientErrorHandler,
  errorHandler,
  ProblemError,
  problem,
  problemSchema,
  sendProblem,
  toProblem,
} from './problem.js';
import { adminRoutes } from './routes/admin.js';
import { commentReadRoutes } from './routes/comments-read.js';
import { commentWriteRoutes } from './routes/comments-write.js';
import { feedRoutes } from './routes/feed.js';
import { metaRoutes } from './routes/meta.js';
import { notifyRoutes } from './routes/notify.js';
import { portRoutes } from './routes/port.js';
import { adminSession } from './routes/session.js';
import { staticRoutes } from './routes/static.js';
import { sharedSchemas } from './schemas.js';

export interface LogOptions {
  /** pino level; default the config's logLevel. */
  level?: string;
  /** Where JSON log lines go; default standard output. */
  stream?: { write(line: string): unknown };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

function requestId(req: IncomingMessage): string {
  const h = req.headers['x-request-id'];
  return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
}

/**
 * The page URI in a logged URL is fine to keep (it is public); nothing else in a query is personal, but long
 * URLs are cut so a log line stays a line.
 */
function loggedUrl(url: string): string {
  return url.length > 300 ? `${url.slice(0, 300)}…` : url;
}

class InputError extends Error {
  readonly statusCode = 400;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The HTTP server with tight timeouts: a client has headersTimeoutSeconds to send its headers and
 * requestTimeoutSeconds for the whole request, checked every second (Node checks every 30 s by default, which
 * lets a slow client hold its connection that much longer), so a slow-header flood does not keep descriptors.
 */
function createHttpServer(c: ConnectionsConfig, handler: http.RequestListener): http.Server {
  const headersTimeout = c.headersTimeoutSeconds * 1000;
  const requestTimeout = c.requestTimeoutSeconds * 1000;
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: c.keepAliveTimeoutSeconds * 1000,
      connectionsCheckingInterval: Math.min(1000, headersTimeout),
    },
    handler,
  );
  // An idle socket (no bytes either way) is closed after twice the request timeout.
  server.setTimeout(2 * requestTimeout);
  return server;
}

/** The Fastify instance with the service's server options: logging, limits, timeouts, problem+json errors. */
function createFastify(ctx: ServerContext, log: LogOptions | false): FastifyInstance {
  const { config } = ctx;
  return Fastify({
    logger:
      log === false
        ? false
        : {
            level: log.level ?? config.logLevel,
            ...(log.stream === undefined ? {} : { stream: log.stream }),
            serializers: {
              // Never a whole client address, never a header (tokens travel in headers).
              req: (req: FastifyRequest) => ({
                method: req.method,
                url: loggedUrl(req.url),
                client: truncateIp(req.ip),
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
          },
    genReqId: requestId,
    bodyLimit: config.limits.bodyBytes,
    trustProxy: config.trustProxy,
    serverFactory: (handler) => createHttpServer(config.connections, handler),
    // Requests that arrive while shutting down get a problem+json 503 from the onRequest hook below.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
    clientErrorHandler,
    frameworkErrors: (err, _req, reply) => {
      const { problem: p } = toProblem(err);
      sendProblem(reply, p);
    },
  });
}

/**
 * JSON is the only body type: UTF-8 checked, then parsed (prototype keys never reach handlers because every
 * body schema forbids unknown properties).
 */
function parseJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) {
      done(null, undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(buf);
    } catch {
      done(new InputError('ERR_QUIRE_INVALID_UTF8', 'the body is not valid UTF-8'), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(
        new InputError('ERR_QUIRE_INVALID_JSON', `the body is not JSON: ${(err as Error).message}`),
        undefined,
      );
    }
  });
}

/**
 * What every request passes first: shutdown and the origin check of writes. True if the request counts toward
 * the request limit (all but /healthz).
 */
function checkRequest(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply): boolean {
  reply.header('x-request-id', request.id);
  if (ctx.closing) {
    throw new ProblemError(503, 'shutting-down', 'the server is shutting down; try again shortly', {
      'retry-after': '1',
    });
  }
  if (request.url === '/healthz') return false;
  const method = request.method;
  if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && ctx.config.origins.length > 0) {
    const origin = request.headers.origin;
    if (origin !== undefined && !ctx.writeOrigins.has(origin)) {
      throw new ProblemError(403, 'origin-not-allowed', 'requests from this origin may not change anything');
    }
  }
  return true;
}

// The hooks that run for every request take a callback rather than return a promise: a promise per hook per
// request is measurable on a GET served from the cache (a few µs of ~100). The request limit, counted in the
// data directory for every instance (ratelimit.ts), is the one wait.
function addRequestHooks(app: FastifyInstance, ctx: ServerContext): void {
  const limited = ctx.config.rateLimits.requests.max > 0;
  app.addHook('onRequest', (request, reply, done) => {
    let counts: boolean;
    try {
      counts = checkRequest(ctx, request, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (!counts || !limited) done();
    else ctx.rateLimit('requests', clientKey(request.ip)).then(() => done(), done);
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    // A request that was in flight when shutdown began ends its connection, so the server can close without
    // waiting out the keep-alive timeout.
    if (ctx.closing) reply.header('connection', 'close');
    done(null, payload);
  });
}

/** The OpenAPI document (GET /api/openapi.json, openapi.ts) and CORS for the configured origins. */
async function registerOpenApiAndCors(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  openApiDocument(app);
  await app.register(cors, {
    origin: ctx.config.origins.length === 0 ? false : ctx.config.origins,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'PUT'],
    allowedHeaders: ['content-type', EDIT_TOKEN_HEADER, 'authorization', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after', 'location'],
    maxAge: 600,
    strictPreflight: false,
  });
}

/** How often tombstones whose restore window has passed lose what they kept. */
const ERASE_EVERY_MS = 3_600_000;

/** While the app runs, erases what expired restore windows kept (the store's eraseExpiredRestores), hourly. */
function scheduleErasure(app: FastifyInstance, ctx: ServerContext): void {
  if (ctx.config.restoreWindowDays <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      ctx.store.eraseExpiredRestores().then(
        (n) => n > 0 && app.log.info({ erased: n }, 'expired restore data erased'),
        (err: unknown) => app.log.error({ err }, 'erasing expired restore data failed'),
      );
    }, ERASE_EVERY_MS);
    timer.unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));
}

/**
 * Builds the Fastify app: JSON only, CORS for the configured origins, a per-client request limit,
 * problem+json for every error, an OpenAPI document from the route schemas, and the routes, each file a plugin.
 */
export async function buildApp(ctx: ServerContext, log: LogOptions | false = {}): Promise<FastifyInstance> {
  const app = createFastify(ctx, log);
  const health = storageHealth(ctx);
  ctx.onLimitError = (err) => app.log.warn({ err }, 'a rate-limit hit could not be counted; let through');
  app.setErrorHandler((err, request, reply) => {
    // A lock wait past its deadline is no failure of the disk: the page was busy.
    const late = lockWaitProblem(ctx, err);
    if (late !== undefined) return errorHandler(late, request, reply);
    // A write that failed on the disk makes /healthz report it until a probe write succeeds.
    health.noteFailure(err);
    return errorHandler(err, request, reply);
  });
  app.setNotFoundHandler((request, reply) => {
    sendProblem(reply, problem(404, 'not-found', `no route ${request.method} ${loggedUrl(request.url)}`));
  });
  parseJsonBodies(app);
  app.addSchema(problemSchema);
  for (const schema of sharedSchemas) app.addSchema(schema);
  await registerOpenApiAndCors(app, ctx);
  addRequestDeadline(app, ctx);
  addRequestHooks(app, ctx);
  // The session plugin's hook turns an admin session cookie into the bearer token the admin routes check, so
  // it must be registered before them.
  await app.register(adminSession, { ctx });
  await app.register(commentReadRoutes, { ctx });
  await app.register(commentWriteRoutes, { ctx });
  await app.register(adminRoutes, { ctx });
  await app.register(portRoutes, { ctx });
  await app.register(notifyRoutes, { ctx });
  await app.register(feedRoutes, { ctx });
  await app.register(metaRoutes, { ctx });
  await app.register(staticRoutes, { ctx });
  scheduleErasure(app, ctx);
  return app;
}
