import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { normaliseUri, threadIdOf } from '../store/uri.js';
import type { ServerContext } from './context.js';
import { clientKey, truncateIp } from './ip.js';
import { renderMarkdown } from './markdown.js';
import {
  clientErrorHandler,
  errorHandler,
  ProblemError,
  problem,
  problemSchema,
  sendProblem,
  toProblem,
} from './problem.js';
import { registerAdminRoutes } from './routes/admin.js';
import { EDIT_TOKEN_HEADER, registerCommentRoutes } from './routes/comments.js';
import { registerFeedRoutes } from './routes/feed.js';
import { adminSession } from './routes/session.js';
import { staticRoutes } from './routes/static.js';
import { adminCommentSchema, problemResponses, publicCommentSchema } from './schemas.js';

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
 * Builds the Fastify app: JSON only (UTF-8 checked, parsed without prototype keys reaching handlers because
 * every body schema forbids unknown properties), CORS for the configured origins, a per-client request limit,
 * problem+json for every error, and an OpenAPI document from the route schemas.
 */
export async function buildApp(ctx: ServerContext, log: LogOptions | false = {}): Promise<FastifyInstance> {
  const { config, store } = ctx;
  const app = Fastify({
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
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
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

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    sendProblem(reply, problem(404, 'not-found', `no route ${request.method} ${loggedUrl(request.url)}`));
  });

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

  app.addSchema(problemSchema);
  app.addSchema(publicCommentSchema);
  app.addSchema(adminCommentSchema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'quire comments',
        version: '0.1.0',
        description:
          'Self-hosted blog comments stored as plain files. Errors are RFC 9457 application/problem+json ' +
          'with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'from POST /api/admin/login' },
        },
      },
    },
  });

  await app.register(cors, {
    origin: config.origins.length === 0 ? false : config.origins,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'PUT'],
    allowedHeaders: ['content-type', EDIT_TOKEN_HEADER, 'authorization', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after', 'location'],
    maxAge: 600,
    strictPreflight: false,
  });

  const checkRequest = (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id);
    if (ctx.closing) {
      throw new ProblemError(503, 'shutting-down', 'the server is shutting down; try again shortly', {
        'retry-after': '1',
      });
    }
    if (request.url === '/healthz') return;
    ctx.rateLimit('requests', clientKey(request.ip));
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && config.origins.length > 0) {
      const origin = request.headers.origin;
      if (origin !== undefined && !ctx.writeOrigins.has(origin)) {
        throw new ProblemError(
          403,
          'origin-not-allowed',
          'requests from this origin may not change anything',
        );
      }
    }
  };

  // The hooks that run for every request take a callback rather than return a promise: they do no I/O, and a
  // promise per hook per request is measurable on a GET served from the cache (a few µs of ~100).
  app.addHook('onRequest', (request, reply, done) => {
    try {
      checkRequest(request, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    // A request that was in flight when shutdown began ends its connection, so the server can close without
    // waiting out the keep-alive timeout.
    if (ctx.closing) reply.header('connection', 'close');
    done(null, payload);
  });

  // The session plugin's hook turns an admin session cookie into the bearer token the admin routes check, so
  // it must be registered before them.
  await app.register(adminSession, { ctx });
  registerCommentRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerFeedRoutes(app, ctx);
  await app.register(staticRoutes, { ctx });

  app.get<{ Querystring: { uri: string | string[] } }>(
    '/api/counts',
    {
      schema: {
        tags: ['comments'],
        summary: 'Numbers of public comments of several pages (?uri=a&uri=b)',
        querystring: {
          type: 'object',
          required: ['uri'],
          additionalProperties: false,
          properties: {
            uri: {
              anyOf: [
                { type: 'string', minLength: 1, maxLength: config.limits.uriChars },
                {
                  type: 'array',
                  minItems: 1,
                  maxItems: config.limits.countsUris,
                  items: { type: 'string', minLength: 1, maxLength: config.limits.uriChars },
                },
              ],
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['counts'],
            properties: {
              counts: {
                type: 'object',
                description: 'keyed by each uri as given',
                additionalProperties: { type: 'integer' },
              },
            },
          },
          ...problemResponses(400, 429),
        },
      },
    },
    async (request) => {
      const uris = Array.isArray(request.query.uri) ? request.query.uri : [request.query.uri];
      const counts = await Promise.all(
        uris.map(async (u) => {
          const threadId = threadIdOf(normaliseUri(u, config.uri, config.limits.uriChars));
          const comments = await store.comments(threadId);
          return [u, comments.filter((c) => c.record.status === 'approved').length] as const;
        }),
      );
      return { counts: Object.fromEntries(counts) };
    },
  );

  app.post<{ Body: { text: string } }>(
    '/api/preview',
    {
      schema: {
        tags: ['comments'],
        summary: 'Render Markdown as a comment would be rendered',
        body: {
          type: 'object',
          required: ['text'],
          additionalProperties: false,
          properties: { text: { type: 'string', maxLength: config.limits.textChars } },
        },
        response: {
          200: { type: 'object', required: ['html'], properties: { html: { type: 'string' } } },
          ...problemResponses(400, 413, 415, 429),
        },
      },
    },
    async (request) => ({ html: renderMarkdown(request.body.text) }),
  );

  app.get(
    '/api/form-token',
    {
      schema: {
        tags: ['comments'],
        summary: 'A signed form token for POST /api/comments',
        description: 'Accepted from `notBefore` (the minimum compose time) until `expires`.',
        response: {
          200: {
            type: 'object',
            required: ['formToken', 'notBefore', 'expires'],
            properties: {
              formToken: { type: 'string' },
              notBefore: { type: 'string', format: 'date-time' },
              expires: { type: 'string', format: 'date-time' },
            },
          },
          ...problemResponses(429),
        },
      },
    },
    async () => ctx.formToken(),
  );

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['meta'],
        summary: 'Liveness: 200 when the data directory is readable and writable',
        response: {
          200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } },
          ...problemResponses(503),
        },
      },
    },
    async () => {
      try {
        await fs.promises.access(store.threadsDir, fs.constants.R_OK | fs.constants.W_OK);
      } catch {
        throw new ProblemError(503, 'data-unavailable', 'the data directory is not accessible');
      }
      return { status: 'ok' };
    },
  );

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app;
}
