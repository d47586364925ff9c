import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { QuireConfig } from '../../config.js';
import { clientKey } from '../../store/address.js';
import { COMMENT_ID_PATTERN } from '../../store/records.js';
import { clientGone } from '../abort.js';
import type { ServerContext } from '../context.js';
import { cleanEmail, cleanLine, cleanText, cleanWebsite } from '../fields.js';
import { Type } from '../json-schema.js';
import { prepareMarkdown } from '../markdown.js';
import { verifyPassword } from '../password.js';
import { ProblemError } from '../problem.js';
import {
  adminCommentRef,
  commentIdParams,
  moderatorEditBody,
  nullableString,
  oneAdminCommentSchema,
  problemResponses,
  stringEnum,
} from '../schemas.js';
import { adminComment } from '../views.js';
import type { RoutesOptions, TypedApp } from './plugin.js';

const tags = ['admin'];
const security = [{ bearer: [] }];
const oneComment = { 200: oneAdminCommentSchema, ...problemResponses(400, 401, 403, 404, 429) };

export function adminDisabled(): ProblemError {
  return new ProblemError(403, 'admin-disabled', 'no admin password is configured (adminPasswordHash)');
}

/** Throws 403 when no admin password is configured, 401 unless the request has a valid bearer token. */
export function requireAdmin(ctx: ServerContext, request: FastifyRequest): void {
  if (ctx.config.adminPasswordHash === null) throw adminDisabled();
  const h = request.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S{1,512})$/i.exec(h) : null;
  if (m === null || !ctx.adminTokenValid(m[1] as string)) {
    throw new ProblemError(
      401,
      'unauthorized',
      'log in at POST /api/admin/login and send the token as Bearer',
      {
        'www-authenticate': 'Bearer realm="quire"',
      },
    );
  }
}

/** The comment `id` as the site owner sees it, its Markdown rendered within the budget. */
async function answer(ctx: ServerContext, id: string, signal: AbortSignal) {
  const { threadId, stem } = ctx.commentOf(id);
  const m = await ctx.store.moderated(threadId, stem);
  await prepareMarkdown([m.record.text], signal);
  return { comment: adminComment(m) };
}

function listQuery(config: QuireConfig) {
  return Type.Object(
    {
      status: Type.Optional(stringEnum(['pending', 'approved', 'spam', 'deleted', 'all'])),
      uri: Type.Optional(Type.String({ minLength: 1, maxLength: config.limits.uriChars })),
      limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
      after: Type.Optional(Type.String({ maxLength: 120, pattern: COMMENT_ID_PATTERN })),
    },
    { additionalProperties: false },
  );
}

const listAnswer = Type.Object({ comments: Type.Array(adminCommentRef), next: nullableString() });

/** GET /api/admin/comments: the queue, or any comments, newest first. */
function listRoute(admin: TypedApp, ctx: ServerContext): void {
  const { config, store } = ctx;
  admin.get(
    '/api/admin/comments',
    {
      schema: {
        tags,
        security,
        summary: 'Comments of all pages (or one), newest first; default: those awaiting moderation',
        querystring: listQuery(config),
        response: { 200: listAnswer, ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const limit = Math.min(Math.max(q.limit === undefined ? 100 : Number(q.limit), 1), 1000);
      const threadIds = q.uri === undefined ? undefined : [ctx.page(q.uri).threadId];
      // A cursor names the place in the order to go on from, even if its comment has left the list since.
      const after = q.after === undefined ? undefined : ctx.commentOf(q.after);
      const { comments: chosen, more } = await store.moderatedPage({
        status: q.status ?? 'pending',
        limit,
        ...(threadIds === undefined ? {} : { threadIds }),
        ...(after === undefined ? {} : { after }),
      });
      // Only the page asked for is rendered.
      await prepareMarkdown(
        chosen.map((m) => m.record.text),
        clientGone(reply),
      );
      const page = chosen.map(adminComment);
      return { comments: page, next: more ? (page[page.length - 1]?.id ?? null) : null };
    },
  );
}

/** GET /api/admin/comments/:id. */
function oneRoute(admin: TypedApp, ctx: ServerContext): void {
  admin.get(
    '/api/admin/comments/:id',
    {
      schema: {
        tags,
        security,
        summary: 'One comment, all fields',
        params: commentIdParams,
        response: oneComment,
      },
    },
    async (request, reply) => answer(ctx, request.params.id, clientGone(reply)),
  );
}

/** POST /api/admin/comments/:id/approve and /spam. */
function judgeRoutes(admin: TypedApp, ctx: ServerContext): void {
  const { store } = ctx;
  for (const [status, verb, summary] of [
    ['approved', 'approve', 'Approve a comment (it becomes public)'],
    ['spam', 'spam', 'Reject a comment as spam (it stays on disk, hidden)'],
  ] as const) {
    admin.post(
      `/api/admin/comments/:id/${verb}`,
      { schema: { tags, security, summary, params: commentIdParams, response: oneComment } },
      async (request, reply) => {
        const { threadId, stem } = ctx.commentOf(request.params.id);
        await store.judgeComment(threadId, stem, status);
        request.log.info({ comment: request.params.id, status }, 'comment moderated');
        return answer(ctx, request.params.id, clientGone(reply));
      },
    );
  }
}

/** PATCH /api/admin/comments/:id. */
function moderatorEditRoute(admin: TypedApp, ctx: ServerContext): void {
  const { config, store } = ctx;
  admin.patch(
    '/api/admin/comments/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Edit any comment',
        params: commentIdParams,
        body: moderatorEditBody(config),
        response: oneComment,
      },
    },
    async (request, reply) => {
      const { threadId, stem } = ctx.commentOf(request.params.id);
      await store.mayChange(threadId, stem, { by: 'moderator' });
      const b = request.body;
      const changes = {
        text: b.text === undefined ? undefined : cleanText(b.text),
        author: b.author === undefined ? undefined : cleanLine(b.author, 'author'),
        email: b.email === undefined ? undefined : cleanEmail(b.email),
        website: b.website === undefined ? undefined : cleanWebsite(b.website),
      };
      await store.editComment(threadId, stem, changes, { by: 'moderator' });
      return answer(ctx, request.params.id, clientGone(reply));
    },
  );
}

/** DELETE /api/admin/comments/:id. */
function moderatorDeleteRoute(admin: TypedApp, ctx: ServerContext): void {
  const { config, store } = ctx;
  admin.delete(
    '/api/admin/comments/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a comment (it becomes a tombstone; personal data is erased)',
        description:
          'The erased fields are kept for restoreWindowDays, visible to no one, so that the delete can be undone ' +
          '(POST /api/admin/comments/:id/restore).',
        params: commentIdParams,
        response: oneComment,
      },
    },
    async (request, reply) => {
      const { threadId, stem } = ctx.commentOf(request.params.id);
      const windowMs = config.restoreWindowDays * 86_400_000;
      await store.deleteComment(threadId, stem, { by: 'moderator' }, windowMs);
      request.log.info({ comment: request.params.id }, 'comment deleted by the admin');
      return answer(ctx, request.params.id, clientGone(reply));
    },
  );
}

/** POST /api/admin/comments/:id/restore. */
function restoreRoute(admin: TypedApp, ctx: ServerContext): void {
  const { store } = ctx;
  admin.post(
    '/api/admin/comments/:id/restore',
    {
      schema: {
        tags,
        security,
        summary: 'Undo the delete of a comment within restoreWindowDays: back with its text, in its status',
        params: commentIdParams,
        response: { ...oneComment, ...problemResponses(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const { threadId, stem } = ctx.commentOf(request.params.id);
      await store.restoreComment(threadId, stem);
      request.log.info({ comment: request.params.id }, 'comment restored by the admin');
      return answer(ctx, request.params.id, clientGone(reply));
    },
  );
}

/** The moderation queue and every comment, one at a time: read, approve, reject, edit, delete, restore. */
const moderationRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (admin, { ctx }) => {
  admin.addHook('onRequest', async (request) => requireAdmin(ctx, request));
  listRoute(admin, ctx);
  oneRoute(admin, ctx);
  judgeRoutes(admin, ctx);
  moderatorEditRoute(admin, ctx);
  moderatorDeleteRoute(admin, ctx);
  restoreRoute(admin, ctx);
};

const settingsSchema = Type.Object(
  { moderation: stringEnum(['off', 'all']) },
  { additionalProperties: false },
);

/** Settings that change at run time, kept in the data directory for every instance. */
const settingsRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (admin, { ctx }) => {
  admin.addHook('onRequest', async (request) => requireAdmin(ctx, request));

  admin.get(
    '/api/admin/settings',
    {
      schema: {
        tags,
        security,
        summary: 'Settings that can change at run time',
        response: { 200: settingsSchema, ...problemResponses(401, 403, 429) },
      },
    },
    async () => ({ moderation: await ctx.moderation() }),
  );

  admin.put(
    '/api/admin/settings',
    {
      schema: {
        tags,
        security,
        summary: 'Change run-time settings (kept in DATA/settings.json, shared by every instance)',
        body: settingsSchema,
        response: { 200: settingsSchema, ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      await ctx.store.saveSettings({ moderation: request.body.moderation });
      request.log.info({ moderation: request.body.moderation }, 'settings changed');
      return { moderation: await ctx.moderation() };
    },
  );
};

/** The body of both logins (bearer token here, session cookie in session.ts). */
export const loginBody = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

/**
 * Throws unless `password` is the admin's: 403 with no password configured, 429 when rate limited, 503
 * login-busy when too many checks wait, else 401.
 */
export async function checkPassword(
  ctx: ServerContext,
  request: FastifyRequest,
  password: string,
  signal: AbortSignal,
): Promise<void> {
  if (ctx.config.adminPasswordHash === null) throw adminDisabled();
  await ctx.rateLimit('login', clientKey(request.ip));
  // Besides each address's limit, one for all: a flood from many addresses queues few checks.
  await ctx.rateLimit('loginsTotal', '*');
  // scrypt runs on a worker of its own, one check at a time (LoginBusyError past its queue: 503), never on the
  // threadpool that file I/O uses; a check whose client went away is stopped.
  if (!(await verifyPassword(password, ctx.config.adminPasswordHash, signal))) {
    request.log.warn('admin login failed');
    throw new ProblemError(401, 'bad-password', 'wrong password');
  }
}

/**
 * The site owner's moderation API. Log in with the password whose scrypt hash is in the config; the answer is
 * a session token to send as `Authorization: Bearer <token>`. Without adminPasswordHash every route is 403.
 */
export const adminRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, opts) => {
  const { ctx } = opts;
  app.post(
    '/api/admin/login',
    {
      schema: {
        tags,
        summary: 'Exchange the admin password for a session token',
        body: loginBody,
        response: {
          200: Type.Object({ token: Type.String(), expires: Type.String({ format: 'date-time' }) }),
          ...problemResponses(400, 401, 403, 429, 503),
        },
      },
    },
    async (request, reply) => {
      await checkPassword(ctx, request, request.body.password, clientGone(reply));
      return ctx.adminToken();
    },
  );
  await app.register(moderationRoutes, opts);
  await app.register(settingsRoutes, opts);
};
