import { timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EndedSessions } from '../../store/shared-state.js';
import { clientGone } from '../abort.js';
import type { ServerContext } from '../context.js';
import { Type } from '../json-schema.js';
import { ProblemError } from '../problem.js';
import { problemResponses } from '../schemas.js';
import { adminDisabled, checkPassword, loginBody } from './admin.js';
import type { TypedApp } from './plugin.js';

/**
 * Browser sessions for the admin page. POST /api/admin/session exchanges the owner's password for the same
 * signed session token POST /api/admin/login gives API clients, but in a cookie the page's scripts cannot read
 * (HttpOnly, SameSite=Strict, Path=/api/admin, Secure over https), plus a CSRF token that every state-changing
 * request must echo in X-Quire-CSRF. POST /api/admin/logout ends the session: the cookie is cleared and the token
 * is refused from then on, by every instance on the data directory, until it would have expired anyway.
 *
 * The admin routes themselves accept `Authorization: Bearer`; this plugin's onRequest hook turns a valid session
 * cookie (with a valid CSRF token on POST/PUT/PATCH/DELETE) into that header, so they need no change. It is a
 * non-encapsulated plugin for that reason: its hook must see every /api/admin request.
 */

export const SESSION_COOKIE = 'quire_admin';
export const CSRF_HEADER = 'x-quire-csrf';
const COOKIE_PATH = '/api/admin';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Routes of this plugin and the bearer login: the hook leaves them alone. */
const OWN_ROUTES = new Set(['/api/admin/session', '/api/admin/logout', '/api/admin/login']);

export interface SessionOptions {
  ctx: ServerContext;
  /** The session state to use; default a new one. */
  sessions?: AdminSessions;
}

/** The value of cookie `name` in the request, or null. */
export function readCookie(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The CSRF token of a session: an HMAC of its token, so it needs no storage and dies with the session. */
export function csrfToken(ctx: ServerContext, sessionToken: string): string {
  return ctx.hmacs.hex('admin', `csrf\0${sessionToken}`, 64);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Epoch ms at which a session token (`a1-<expiry base 36>.<sig>`) expires; NaN if it has no such payload. */
function expiryOf(token: string): number {
  const m = /^a1-([0-9a-z]{1,12})\./.exec(token);
  return m === null ? Number.NaN : Number.parseInt(m[1] as string, 36);
}

function unauthorized(detail: string): ProblemError {
  return new ProblemError(401, 'unauthorized', detail, { 'www-authenticate': 'Bearer realm="quire"' });
}

const sessionAnswer = Type.Object({
  csrfToken: Type.String({ description: `send as ${CSRF_HEADER} with every POST, PUT, PATCH and DELETE` }),
  expires: Type.String({ format: 'date-time' }),
});

/**
 * The session state and checks, shared by the plugin's routes and its onRequest hook. Sessions ended by
 * logging out are kept in the data directory (store/shared-state.ts), so a logout on one instance ends the
 * session on every instance.
 */
export class AdminSessions {
  private readonly ended: EndedSessions;

  constructor(readonly ctx: ServerContext) {
    this.ended = new EndedSessions(ctx.store.dataDir, ctx.hmacs);
  }

  /** Whether `token` was ended by a logout (anywhere); a token without an expiry was never issued. */
  isEnded(token: string): Promise<boolean> {
    const expires = expiryOf(token);
    return Number.isSafeInteger(expires) ? this.ended.isEnded(token, expires) : Promise.resolve(false);
  }

  end(token: string): Promise<void> {
    return this.ended.end(token, expiryOf(token), this.ctx.now());
  }

  /** A session token that is genuine, unexpired and not logged out. */
  async live(token: string | null): Promise<boolean> {
    return token !== null && this.ctx.adminTokenValid(token) && !(await this.isEnded(token));
  }

  /** Throws 403 csrf-token-invalid unless the request carries the CSRF token of this session. */
  checkCsrf(request: FastifyRequest, token: string): void {
    const given = request.headers[CSRF_HEADER];
    if (typeof given !== 'string' || !sameText(given, csrfToken(this.ctx, token))) {
      throw new ProblemError(
        403,
        'csrf-token-invalid',
        `send the session's CSRF token (from POST /api/admin/session) in ${CSRF_HEADER}`,
      );
    }
  }

  /**
   * The onRequest hook: on /api/admin routes, a live session cookie (with its CSRF token unless the method is
   * GET/HEAD/OPTIONS) becomes `Authorization: Bearer <token>` for the admin routes' check; a bearer token ended
   * by logging out is refused.
   */
  readonly onRequest = async (request: FastifyRequest): Promise<void> => {
    const path = request.url.split('?', 1)[0] as string;
    if (!path.startsWith('/api/admin/') || OWN_ROUTES.has(path)) return;
    const auth = request.headers.authorization;
    if (typeof auth === 'string') {
      const m = /^Bearer\s+(\S{1,512})$/i.exec(auth);
      if (m !== null && (await this.isEnded(m[1] as string)))
        throw unauthorized('this session was ended by logging out');
      return;
    }
    const token = readCookie(request, SESSION_COOKIE);
    if (token === null || !(await this.live(token))) return; // the admin routes answer 401
    if (!SAFE_METHODS.has(request.method)) this.checkCsrf(request, token);
    request.headers = { authorization: `Bearer ${token}` };
  };
}

function setCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number): void {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header(
    'set-cookie',
    `${SESSION_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`,
  );
}

const tags = ['admin'];

/** POST /api/admin/session: the password for a session cookie and its CSRF token. */
function loginRoute(app: TypedApp, ctx: ServerContext): void {
  const { config } = ctx;
  app.post(
    '/api/admin/session',
    {
      schema: {
        tags,
        summary: 'Log in to the admin page: a session cookie (HttpOnly, SameSite=Strict) and a CSRF token',
        body: loginBody,
        response: { 200: sessionAnswer, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) => {
      await checkPassword(ctx, request, request.body.password, clientGone(reply));
      const { token, expires } = ctx.adminToken();
      setCookie(request, reply, token, config.adminSessionSeconds);
      request.log.info('admin logged in');
      return { csrfToken: csrfToken(ctx, token), expires };
    },
  );
}

/** GET /api/admin/session: the current session's CSRF token. */
function sessionRoute(app: TypedApp, ctx: ServerContext, sessions: AdminSessions): void {
  app.get(
    '/api/admin/session',
    {
      schema: {
        tags,
        summary: "The current admin session's CSRF token and expiry (401 when not logged in)",
        response: { 200: sessionAnswer, ...problemResponses(401, 403, 429) },
      },
    },
    async (request) => {
      if (ctx.config.adminPasswordHash === null) throw adminDisabled();
      const token = readCookie(request, SESSION_COOKIE);
      if (token === null || !(await sessions.live(token))) throw unauthorized('not logged in');
      return { csrfToken: csrfToken(ctx, token), expires: new Date(expiryOf(token)).toISOString() };
    },
  );
}

/** POST /api/admin/logout: ends the cookie's session or the bearer token's. */
function logoutRoute(app: TypedApp, sessions: AdminSessions): void {
  app.post(
    '/api/admin/logout',
    {
      schema: {
        tags,
        summary: 'End the admin session (cookie with its CSRF token, or a bearer token)',
        response: {
          200: Type.Object({ loggedOut: Type.Boolean() }),
          ...problemResponses(403, 429),
        },
      },
    },
    async (request, reply) => {
      const token = readCookie(request, SESSION_COOKIE);
      let loggedOut = false;
      if (token !== null && (await sessions.live(token))) {
        sessions.checkCsrf(request, token);
        await sessions.end(token);
        loggedOut = true;
      }
      const auth = request.headers.authorization;
      const m = typeof auth === 'string' ? /^Bearer\s+(\S{1,512})$/i.exec(auth) : null;
      if (m !== null && (await sessions.live(m[1] as string))) {
        await sessions.end(m[1] as string);
        loggedOut = true;
      }
      setCookie(request, reply, '', 0);
      if (loggedOut) request.log.info('admin logged out');
      return { loggedOut };
    },
  );
}

const plugin: FastifyPluginAsyncTypebox<SessionOptions> = async (app, opts) => {
  const sessions = opts.sessions ?? new AdminSessions(opts.ctx);
  // A callback hook, so that the requests it does not concern (all but /api/admin/) cost no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!request.url.startsWith('/api/admin/')) {
      done();
      return;
    }
    sessions.onRequest(request).then(() => done(), done);
  });
  loginRoute(app, opts.ctx);
  sessionRoute(app, opts.ctx, sessions);
  logoutRoute(app, sessions);
};

// Not encapsulated (what fastify-plugin does): the hook must apply to the admin routes registered elsewhere.
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'quire-admin-session';

/** Fastify plugin: `await app.register(adminSession, { ctx })`, before the admin routes. */
export const adminSession = plugin;
