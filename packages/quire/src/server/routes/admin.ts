import type {} from '@fastify/swagger';
import { compareNames } from '@quire/fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  COMMENT_ID_PATTERN,
  type CommentStatus,
  parseCommentId,
  textHashOf,
  tombstone,
} from '../../store/records.js';
import { normaliseUri, threadIdOf } from '../../store/uri.js';
import type { ServerContext } from '../context.js';
import { cleanEmail, cleanLine, cleanText, cleanWebsite } from '../fields.js';
import { clientKey } from '../ip.js';
import { verifyPassword } from '../password.js';
import { ProblemError } from '../problem.js';
import { commentIdParams, editBodySchema, problemResponses } from '../schemas.js';
import { type AdminComment, adminComment } from '../views.js';
import { notFound } from './comments.js';

interface IdParams {
  id: string;
}

interface ListQuery {
  status?: CommentStatus | 'all';
  uri?: string;
  limit?: string;
  after?: string;
}

interface AdminEditBody {
  text?: string;
  author?: string | null;
  email?: string | null;
  website?: string | null;
}

const oneComment = {
  200: { type: 'object', required: ['comment'], properties: { comment: { $ref: 'AdminComment#' } } },
  ...problemResponses(400, 401, 403, 404, 429),
};

/** Newest first: by record name, then thread. */
function newestFirst(a: AdminComment, b: AdminComment): number {
  const sa = a.id.slice(a.id.lastIndexOf('_') + 1);
  const sb = b.id.slice(b.id.lastIndexOf('_') + 1);
  const c = compareNames(`${sb}.json`, `${sa}.json`);
  return c !== 0 ? c : a.threadId < b.threadId ? -1 : a.threadId > b.threadId ? 1 : 0;
}

/**
 * The site owner's moderation API. Log in with the password whose scrypt hash is in the config; the answer is
 * a session token to send as `Authorization: Bearer <token>`. Without adminPasswordHash every route is 403.
 */
export function registerAdminRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { config, store } = ctx;
  const tags = ['admin'];
  const security = [{ bearer: [] }];

  const requireAdmin = async (request: FastifyRequest) => {
    if (config.adminPasswordHash === null) {
      throw new ProblemError(403, 'admin-disabled', 'no admin password is configured (adminPasswordHash)');
    }
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
  };

  app.post<{ Body: { password: string } }>(
    '/api/admin/login',
    {
      schema: {
        tags,
        summary: 'Exchange the admin password for a session token',
        body: {
          type: 'object',
          required: ['password'],
          additionalProperties: false,
          properties: { password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['token', 'expires'],
            properties: { token: { type: 'string' }, expires: { type: 'string', format: 'date-time' } },
          },
          ...problemResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      if (config.adminPasswordHash === null) {
        throw new ProblemError(403, 'admin-disabled', 'no admin password is configured (adminPasswordHash)');
      }
      ctx.rateLimit('login', clientKey(request.ip));
      if (!(await verifyPassword(request.body.password, config.adminPasswordHash))) {
        request.log.warn('admin login failed');
        throw new ProblemError(401, 'bad-password', 'wrong password');
      }
      return ctx.adminToken();
    },
  );

  app.register(async (admin) => {
    admin.addHook('onRequest', async (request) => {
      await requireAdmin(request);
    });

    admin.get<{ Querystring: ListQuery }>(
      '/api/admin/comments',
      {
        schema: {
          tags,
          security,
          summary: 'Comments of all pages (or one), newest first; default: those awaiting moderation',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              status: { type: 'string', enum: ['pending', 'approved', 'spam', 'deleted', 'all'] },
              uri: { type: 'string', minLength: 1, maxLength: config.limits.uriChars },
              limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
              after: { type: 'string', maxLength: 120, pattern: COMMENT_ID_PATTERN },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['comments', 'next'],
              properties: {
                comments: { type: 'array', items: { $ref: 'AdminComment#' } },
                next: { type: ['string', 'null'] },
              },
            },
            ...problemResponses(400, 401, 403, 429),
          },
        },
      },
      async (request) => {
        const q = request.query;
        const status = q.status ?? 'pending';
        const limit = Math.min(Math.max(q.limit === undefined ? 100 : Number(q.limit), 1), 1000);
        const threads =
          q.uri === undefined
            ? await store.threadIds()
            : [threadIdOf(normaliseUri(q.uri, config.uri, config.limits.uriChars))];
        const all: AdminComment[] = [];
        for (const threadId of threads) {
          const comments = await store.comments(threadId);
          const wanted = comments.filter((c) => status === 'all' || c.record.status === status);
          if (wanted.length === 0) continue;
          const [meta, likes] = await Promise.all([store.threadMeta(threadId), store.likes(threadId)]);
          for (const c of wanted)
            all.push(adminComment(threadId, meta, c.stem, c.record, likes.get(c.stem) ?? 0));
        }
        all.sort(newestFirst);
        let start = 0;
        if (q.after !== undefined) {
          const i = all.findIndex((c) => c.id === q.after);
          start = i >= 0 ? i + 1 : 0;
        }
        const page = all.slice(start, start + limit);
        const more = start + limit < all.length;
        return { comments: page, next: more ? (page[page.length - 1]?.id ?? null) : null };
      },
    );

    const load = async (id: string) => {
      const p = parseCommentId(id);
      if (p === null) throw notFound();
      const record = await store.comment(p.threadId, p.stem);
      if (record === null) throw notFound();
      return { ...p, record };
    };

    const answer = async (threadId: string, stem: string) => {
      const record = await store.comment(threadId, stem);
      if (record === null) throw notFound();
      const [meta, likes] = await Promise.all([store.threadMeta(threadId), store.likesOf(threadId, stem)]);
      return { comment: adminComment(threadId, meta, stem, record, likes) };
    };

    admin.get<{ Params: IdParams }>(
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
      async (request) => {
        const { threadId, stem } = await load(request.params.id);
        return answer(threadId, stem);
      },
    );

    const setStatus = (status: 'approved' | 'spam', summary: string) =>
      admin.post<{ Params: IdParams }>(
        `/api/admin/comments/:id/${status === 'approved' ? 'approve' : 'spam'}`,
        { schema: { tags, security, summary, params: commentIdParams, response: oneComment } },
        async (request) => {
          const { threadId, stem } = await load(request.params.id);
          const updated = await store.updateComment(threadId, stem, (cur) => {
            if (cur.status === 'deleted') {
              throw new ProblemError(
                409,
                'comment-deleted',
                'a deleted comment cannot be approved or marked',
              );
            }
            return cur.status === status ? undefined : { ...cur, status };
          });
          if (updated === null) throw notFound();
          request.log.info({ comment: request.params.id, status }, 'comment moderated');
          return answer(threadId, stem);
        },
      );
    setStatus('approved', 'Approve a comment (it becomes public)');
    setStatus('spam', 'Reject a comment as spam (it stays on disk, hidden)');

    admin.patch<{ Params: IdParams; Body: AdminEditBody }>(
      '/api/admin/comments/:id',
      {
        schema: {
          tags,
          security,
          summary: 'Edit any comment',
          params: commentIdParams,
          body: editBodySchema(config, true),
          response: oneComment,
        },
      },
      async (request) => {
        const { threadId, stem } = await load(request.params.id);
        const b = request.body;
        const text = b.text === undefined ? undefined : cleanText(b.text);
        const author = b.author === undefined ? undefined : cleanLine(b.author, 'author');
        const email = b.email === undefined ? undefined : cleanEmail(b.email);
        const website = b.website === undefined ? undefined : cleanWebsite(b.website);
        const now = new Date(ctx.now()).toISOString();
        const updated = await store.updateComment(threadId, stem, (cur) => {
          if (cur.status === 'deleted') {
            throw new ProblemError(409, 'comment-deleted', 'a deleted comment cannot be edited');
          }
          return {
            ...cur,
            ...(text === undefined ? {} : { text, textHash: textHashOf(text) }),
            ...(author === undefined ? {} : { author }),
            ...(email === undefined ? {} : { email }),
            ...(website === undefined ? {} : { website }),
            edited: now,
          };
        });
        if (updated === null) throw notFound();
        return answer(threadId, stem);
      },
    );

    admin.delete<{ Params: IdParams }>(
      '/api/admin/comments/:id',
      {
        schema: {
          tags,
          security,
          summary: 'Delete a comment (it becomes a tombstone; personal data is erased)',
          params: commentIdParams,
          response: oneComment,
        },
      },
      async (request) => {
        const { threadId, stem } = await load(request.params.id);
        const now = new Date(ctx.now()).toISOString();
        await store.updateComment(threadId, stem, (cur) =>
          cur.status === 'deleted' ? undefined : tombstone(cur, now),
        );
        request.log.info({ comment: request.params.id }, 'comment deleted by the admin');
        return answer(threadId, stem);
      },
    );

    const settingsSchema = {
      type: 'object',
      required: ['moderation'],
      additionalProperties: false,
      properties: { moderation: { type: 'string', enum: ['off', 'all'] } },
    } as const;

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

    admin.put<{ Body: { moderation: 'off' | 'all' } }>(
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
        await store.saveSettings({ moderation: request.body.moderation });
        request.log.info({ moderation: request.body.moderation }, 'settings changed');
        return { moderation: await ctx.moderation() };
      },
    );
  });
}
