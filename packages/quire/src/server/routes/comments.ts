import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  COMMENT_ID_PATTERN,
  type CommentRecord,
  formatCommentId,
  parseCommentId,
  textHashOf,
  tombstone,
} from '../../store/records.js';
import { normaliseUri, threadIdOf } from '../../store/uri.js';
import type { ServerContext } from '../context.js';
import { cleanEmail, cleanLine, cleanText, cleanWebsite } from '../fields.js';
import { clientKey, truncateIp } from '../ip.js';
import { countLinks } from '../markdown.js';
import { PageCache, TOKEN_SLOT } from '../pagecache.js';
import { ProblemError } from '../problem.js';
import {
  commentIdParams,
  createdResponseSchema,
  editBodySchema,
  postBodySchema,
  problemResponses,
} from '../schemas.js';
import { buildTree, publicComment } from '../views.js';

export const EDIT_TOKEN_HEADER = 'x-quire-edit-token';

interface ListQuery {
  uri: string;
  limit?: string;
  after?: string;
  order?: 'oldest' | 'newest';
}

interface PostBody {
  uri: string;
  title?: string;
  text: string;
  author?: string | null;
  email?: string | null;
  website?: string | null;
  parent?: string | null;
  nonce?: string;
  attempt?: number;
  formToken?: string;
  [honeypot: string]: string | number | null | undefined;
}

interface EditBody {
  text?: string;
  author?: string | null;
  website?: string | null;
}

interface IdParams {
  id: string;
}

/** The edit tokens a request carries (X-Quire-Edit-Token, comma-separated or repeated), at most 100. */
function editTokens(request: FastifyRequest): string[] {
  const h = request.headers[EDIT_TOKEN_HEADER];
  const all = (Array.isArray(h) ? h : h === undefined ? [] : [h]).flatMap((v) => v.split(','));
  return all
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .slice(0, 100);
}

export function notFound(): ProblemError {
  return new ProblemError(404, 'not-found', 'there is no such comment');
}

export function registerCommentRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { config, store } = ctx;
  const tag = ['comments'];
  const pages = new PageCache();
  /** normaliseUri and threadIdOf (pure functions of the URI and the config) of the URIs asked for lately. */
  const seen = new Map<string, { uri: string; threadId: string }>();
  const pageOf = (raw: string) => {
    const hit = seen.get(raw);
    if (hit !== undefined) return hit;
    const uri = normaliseUri(raw, config.uri, config.limits.uriChars);
    const page = { uri, threadId: threadIdOf(uri) };
    if (seen.size >= 1000) seen.clear();
    seen.set(raw, page);
    return page;
  };

  app.get<{ Querystring: ListQuery }>(
    '/api/comments',
    {
      schema: {
        tags: tag,
        summary: "A page's comments: approved ones and the caller's own pending ones, nested by parent",
        description:
          'Pages count top-level comments; replies come with their top-level comment. Send the edit tokens of ' +
          'your own comments in X-Quire-Edit-Token (comma-separated) to see them while they await moderation.',
        querystring: {
          type: 'object',
          required: ['uri'],
          additionalProperties: false,
          properties: {
            uri: { type: 'string', minLength: 1, maxLength: config.limits.uriChars },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: `1-${config.limits.maxPageSize}` },
            after: {
              type: 'string',
              maxLength: 120,
              pattern: COMMENT_ID_PATTERN,
              description: 'cursor: `next`',
            },
            order: { type: 'string', enum: ['oldest', 'newest'] },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['uri', 'threadId', 'title', 'total', 'comments', 'next', 'formToken', 'moderation'],
            properties: {
              uri: { type: 'string', description: 'the normalised page URI' },
              threadId: { type: 'string' },
              title: { type: ['string', 'null'] },
              total: { type: 'integer', description: 'visible comments in the whole thread' },
              comments: { type: 'array', items: { $ref: 'Comment#' } },
              next: { type: ['string', 'null'], description: 'pass as `after` for the next page' },
              formToken: { type: 'string' },
              moderation: { type: 'string', enum: ['off', 'all'] },
              editWindowSeconds: { type: 'integer' },
            },
          },
          ...problemResponses(400, 429),
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const { uri, threadId } = pageOf(q.uri);
      const limit = q.limit === undefined ? config.limits.pageSize : Number(q.limit);
      if (limit < 1 || limit > config.limits.maxPageSize) {
        throw new ProblemError(400, 'invalid-request', `limit must be 1-${config.limits.maxPageSize}`);
      }
      let after: string | null = null;
      if (q.after !== undefined) {
        const parsed = parseCommentId(q.after);
        if (parsed === null || parsed.threadId !== threadId) {
          throw new ProblemError(400, 'invalid-request', 'after is not a comment of this page');
        }
        after = parsed.stem;
      }
      const mine = new Set<string>();
      for (const t of editTokens(request)) {
        const tok = ctx.readEditToken(t);
        const id = tok === null ? null : parseCommentId(tok.id);
        if (id !== null && id.threadId === threadId) mine.add(id.stem);
      }
      // Cached and unchanged, as nearly always: no promise to wait for.
      const cachedView = store.viewCached(threadId);
      const cachedModeration = ctx.moderationCached();
      const [view, moderation] =
        cachedView !== undefined && cachedModeration !== undefined
          ? [cachedView, cachedModeration]
          : await Promise.all([cachedView ?? store.view(threadId), cachedModeration ?? ctx.moderation()]);
      const order = q.order ?? 'oldest';
      const formToken = ctx.formToken().formToken;
      const answer = (token: string) => {
        const tree = buildTree(threadId, view.comments, view.likes, {
          mine,
          maxDepth: config.limits.maxDepth,
          order,
          after,
          limit,
        });
        return {
          uri,
          threadId,
          title: view.meta?.title ?? null,
          total: tree.total,
          comments: tree.comments,
          next: tree.next === null ? null : formatCommentId(threadId, tree.next),
          formToken: token,
          moderation,
          editWindowSeconds: config.editWindowSeconds,
        };
      };
      // Edit tokens change the answer only through pending comments they make visible.
      const pending = [...mine].filter((s) => view.byStem.get(s)?.status === 'pending').sort();
      const key = JSON.stringify([uri, order, after, limit, moderation, pending]);
      let page = pages.get(threadId, view.version, key);
      if (page === undefined) {
        const serialised = reply.serialize(answer(TOKEN_SLOT));
        if (typeof serialised === 'string') page = pages.put(threadId, view.version, key, serialised);
      }
      if (page === undefined) return answer(formToken);
      return reply.type('application/json; charset=utf-8').send(PageCache.answer(page, formToken));
    },
  );

  app.post<{ Body: PostBody }>(
    '/api/comments',
    {
      schema: {
        tags: tag,
        summary: 'Post a comment',
        description:
          '201 with the comment and its edit token, or 202 when it awaits moderation. A retry with the same ' +
          'nonce returns the first comment instead of making a second.',
        body: postBodySchema(config),
        response: {
          201: createdResponseSchema,
          202: createdResponseSchema,
          ...problemResponses(400, 403, 409, 413, 415, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const client = clientKey(request.ip);
      ctx.rateLimit('posts', client);
      const honey = b[config.spam.honeypotField];
      if (typeof honey === 'string' && honey.trim() !== '') {
        throw new ProblemError(400, 'honeypot', 'a field that people leave empty was filled in');
      }
      ctx.checkFormToken(b.formToken);
      const { uri, threadId } = pageOf(b.uri);
      if (config.origins.length > 0 && !config.origins.includes(new URL(uri).origin)) {
        throw new ProblemError(
          400,
          'uri-not-allowed',
          'comments are accepted only for pages of the configured sites',
        );
      }
      const text = cleanText(b.text);
      const author = cleanLine(b.author, 'author');
      const email = cleanEmail(b.email);
      const website = cleanWebsite(b.website);
      const title = cleanLine(b.title, 'title');
      if (config.requireAuthor && author === null) {
        throw new ProblemError(400, 'author-required', 'a name is required');
      }
      if (config.requireEmail && email === null) {
        throw new ProblemError(400, 'email-required', 'an e-mail address is required');
      }
      const links = countLinks(text);
      if (links > config.spam.maxLinks) {
        throw new ProblemError(
          422,
          'too-many-links',
          `a comment may hold at most ${config.spam.maxLinks} links; this one has ${links}`,
        );
      }
      let parent: string | null = null;
      if (b.parent !== undefined && b.parent !== null && b.parent !== '') {
        const p = parseCommentId(b.parent);
        if (p === null || p.threadId !== threadId) {
          throw new ProblemError(
            422,
            'parent-not-found',
            'the comment replied to does not exist on this page',
          );
        }
        parent = p.stem;
      }
      const now = ctx.now();
      const moderation = await ctx.moderation();
      const record: CommentRecord = {
        v: 1,
        parent,
        author,
        email,
        website,
        text,
        status: moderation === 'all' ? 'pending' : 'approved',
        created: new Date(now).toISOString(),
        edited: null,
        deleted: null,
        ip: truncateIp(request.ip),
        ipHash: request.ip === undefined ? null : ctx.keys.hex('ip', request.ip),
        nonce: b.nonce === undefined ? null : ctx.keys.hex('nonce', `${threadId}\0${b.nonce}`),
        textHash: textHashOf(text),
      };
      const result = await store.addComment(threadId, { uri, title, created: record.created }, record, {
        duplicateWindowMs: config.spam.duplicateWindowSeconds * 1000,
        ...(b.attempt === undefined ? {} : { attempt: b.attempt }),
      });
      const id = formatCommentId(threadId, result.stem);
      const editableUntil = Date.parse(result.record.created) + config.editWindowSeconds * 1000;
      const likes = result.created ? 0 : await store.likesOf(threadId, result.stem);
      request.log.info(
        { comment: id, created: result.created, status: result.record.status },
        'comment posted',
      );
      reply.code(result.record.status === 'pending' ? 202 : 201);
      return {
        comment: publicComment(threadId, result.stem, result.record, likes),
        editToken: ctx.editToken(id, editableUntil),
        editableUntil: new Date(editableUntil).toISOString(),
      };
    },
  );

  /** The comment an author's request is about, after checking its edit token and the edit window. */
  const authorise = async (request: FastifyRequest, id: string) => {
    const parsed = parseCommentId(id);
    if (parsed === null) throw notFound();
    const tokens = editTokens(request);
    if (tokens.length === 0) {
      throw new ProblemError(
        401,
        'edit-token-missing',
        `send the comment's edit token in X-Quire-Edit-Token`,
        {
          'www-authenticate': 'X-Quire-Edit-Token',
        },
      );
    }
    const tok = tokens.length === 1 ? ctx.readEditToken(tokens[0] as string) : null;
    if (tok === null || tok.id !== id) {
      throw new ProblemError(403, 'edit-token-invalid', 'the edit token is not valid for this comment');
    }
    ctx.rateLimit('edits', clientKey(request.ip));
    const now = ctx.now();
    const record = await store.comment(parsed.threadId, parsed.stem);
    if (record === null || record.status === 'deleted' || record.status === 'spam') throw notFound();
    const windowEnd = Date.parse(record.created) + config.editWindowSeconds * 1000;
    if (now > tok.expires || now > windowEnd) {
      throw new ProblemError(403, 'edit-window-closed', 'the time to edit or delete this comment is over');
    }
    return parsed;
  };

  app.patch<{ Params: IdParams; Body: EditBody }>(
    '/api/comments/:id',
    {
      schema: {
        tags: tag,
        summary: "Edit one's own comment within the edit window (X-Quire-Edit-Token)",
        params: commentIdParams,
        body: editBodySchema(config, false),
        response: {
          200: { type: 'object', required: ['comment'], properties: { comment: { $ref: 'Comment#' } } },
          ...problemResponses(400, 401, 403, 404, 422, 429),
        },
      },
    },
    async (request) => {
      const { threadId, stem } = await authorise(request, request.params.id);
      const b = request.body;
      const text = b.text === undefined ? undefined : cleanText(b.text);
      const author = b.author === undefined ? undefined : cleanLine(b.author, 'author');
      const website = b.website === undefined ? undefined : cleanWebsite(b.website);
      if (config.requireAuthor && author === null) {
        throw new ProblemError(400, 'author-required', 'a name is required');
      }
      if (text !== undefined && countLinks(text) > config.spam.maxLinks) {
        throw new ProblemError(
          422,
          'too-many-links',
          `a comment may hold at most ${config.spam.maxLinks} links`,
        );
      }
      const now = new Date(ctx.now()).toISOString();
      const updated = await store.updateComment(threadId, stem, (cur) => {
        if (cur.status === 'deleted' || cur.status === 'spam') throw notFound();
        return {
          ...cur,
          ...(text === undefined ? {} : { text, textHash: textHashOf(text) }),
          ...(author === undefined ? {} : { author }),
          ...(website === undefined ? {} : { website }),
          edited: now,
        };
      });
      if (updated === null) throw notFound();
      const likes = await store.likesOf(threadId, stem);
      return { comment: publicComment(threadId, stem, updated, likes) };
    },
  );

  app.delete<{ Params: IdParams }>(
    '/api/comments/:id',
    {
      schema: {
        tags: tag,
        summary: "Delete one's own comment within the edit window (X-Quire-Edit-Token)",
        description:
          'The comment becomes a tombstone: text, name, e-mail, website and address are erased; it keeps its ' +
          'place only while replies hang off it.',
        params: commentIdParams,
        response: {
          200: { type: 'object', required: ['comment'], properties: { comment: { $ref: 'Comment#' } } },
          ...problemResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const { threadId, stem } = await authorise(request, request.params.id);
      const now = new Date(ctx.now()).toISOString();
      const updated = await store.updateComment(threadId, stem, (cur) => {
        if (cur.status === 'deleted' || cur.status === 'spam') throw notFound();
        return tombstone(cur, now);
      });
      if (updated === null) throw notFound();
      request.log.info({ comment: request.params.id }, 'comment deleted by its author');
      return { comment: publicComment(threadId, stem, updated, 0) };
    },
  );

  app.post<{ Params: IdParams }>(
    '/api/comments/:id/like',
    {
      schema: {
        tags: tag,
        summary: 'Like a comment (once per client address)',
        params: commentIdParams,
        response: {
          200: {
            type: 'object',
            required: ['likes', 'counted'],
            properties: {
              likes: { type: 'integer' },
              counted: { type: 'boolean', description: 'false if this client had already liked it' },
            },
          },
          ...problemResponses(400, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const parsed = parseCommentId(request.params.id);
      if (parsed === null) throw notFound();
      const client = clientKey(request.ip);
      ctx.rateLimit('likes', client);
      const record = await store.comment(parsed.threadId, parsed.stem);
      if (record === null || record.status !== 'approved') throw notFound();
      const voter = ctx.keys.hex('vote', `${request.params.id}\0${client}`);
      const counted = await store.vote(parsed.threadId, parsed.stem, voter);
      return { likes: await store.likesOf(parsed.threadId, parsed.stem), counted };
    },
  );
}
