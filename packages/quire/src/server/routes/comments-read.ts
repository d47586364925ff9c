import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { QuireConfig } from '../../config.js';
import { COMMENT_ID_PATTERN, formatCommentId, parseCommentId } from '../../store/records.js';
import type { ThreadView } from '../../store/store.js';
import { clientGone } from '../abort.js';
import { addAvatars } from '../avatars.js';
import type { ServerContext } from '../context.js';
import { editTokens } from '../edit-tokens.js';
import { Type } from '../json-schema.js';
import { prepareMarkdown } from '../markdown.js';
import { PageCache, TOKEN_SLOT } from '../pagecache.js';
import { ProblemError } from '../problem.js';
import { nullableString, problemResponses, publicCommentRef, stringEnum } from '../schemas.js';
import { buildTree, planPage, prepareLayout, renderTree, type Tree, treeTexts } from '../views.js';
import type { RoutesOptions } from './plugin.js';

function listQuery(config: QuireConfig) {
  return Type.Object(
    {
      uri: Type.String({ minLength: 1, maxLength: config.limits.uriChars }),
      limit: Type.Optional(
        Type.String({ pattern: '^[0-9]{1,4}$', description: `1-${config.limits.maxPageSize}` }),
      ),
      after: Type.Optional(
        Type.String({ maxLength: 120, pattern: COMMENT_ID_PATTERN, description: 'cursor: `next`' }),
      ),
      order: Type.Optional(stringEnum(['oldest', 'newest'])),
    },
    { additionalProperties: false },
  );
}

const listAnswer = Type.Object({
  uri: Type.String({ description: 'the normalised page URI' }),
  threadId: Type.String(),
  title: nullableString(),
  total: Type.Integer({ description: 'visible comments in the whole thread' }),
  comments: Type.Array(publicCommentRef),
  next: nullableString({ description: 'pass as `after` for the next page' }),
  formToken: Type.String(),
  moderation: stringEnum(['off', 'all']),
  editWindowSeconds: Type.Optional(Type.Integer()),
  minComposeSeconds: Type.Optional(
    Type.Integer({
      description:
        'spam.minComposeSeconds: a form token is accepted this long after it was issued (0 without form tokens)',
    }),
  ),
});

/** The stems of this thread's comments whose edit tokens the request carries. */
function ownStems(ctx: ServerContext, request: FastifyRequest, threadId: string): Set<string> {
  const mine = new Set<string>();
  for (const t of editTokens(request)) {
    const tok = ctx.readEditToken(t);
    const id = tok === null ? null : parseCommentId(tok.id);
    if (id !== null && id.threadId === threadId) mine.add(id.stem);
  }
  return mine;
}

/** The page size and cursor asked for; a 400 problem if out of range or not a comment of this page. */
function pageQuery(
  config: QuireConfig,
  q: { limit?: string; after?: string },
  threadId: string,
): { limit: number; after: string | null } {
  const limit = q.limit === undefined ? config.limits.pageSize : Number(q.limit);
  if (limit < 1 || limit > config.limits.maxPageSize) {
    throw new ProblemError(400, 'invalid-request', `limit must be 1-${config.limits.maxPageSize}`);
  }
  if (q.after === undefined) return { limit, after: null };
  const parsed = parseCommentId(q.after);
  if (parsed === null || parsed.threadId !== threadId) {
    throw new ProblemError(400, 'invalid-request', 'after is not a comment of this page');
  }
  return { limit, after: parsed.stem };
}

/** The answer of GET /api/comments for a page of `view` (its shape: listAnswer). */
function listBody(
  config: QuireConfig,
  view: ThreadView,
  uri: string,
  tree: Tree,
  formToken: string,
  moderation: 'off' | 'all',
) {
  return {
    uri,
    threadId: view.threadId,
    title: view.meta?.title ?? null,
    total: tree.total,
    comments: tree.comments,
    next: tree.next === null ? null : formatCommentId(view.threadId, tree.next),
    formToken,
    moderation,
    editWindowSeconds: config.editWindowSeconds,
    minComposeSeconds: config.spam.requireFormToken ? config.spam.minComposeSeconds : 0,
  };
}

/** Sends JSON serialised already (a cached page): no schema applies to its bytes. */
function sendSerialised(reply: FastifyReply, body: Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(body);
}

/**
 * GET /api/comments: a page's comments as the public (and an author, their pending ones) sees them. Answers
 * for callers without pending comments of their own are kept serialised (pagecache.ts).
 */
export const commentReadRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { ctx }) => {
  const { config } = ctx;
  const pages = new PageCache(config.cache.pageBytes);
  const avatars = { hmacs: ctx.hmacs, gravatar: config.avatars.gravatar };

  app.get(
    '/api/comments',
    {
      schema: {
        tags: ['comments'],
        summary: "A page's comments: approved ones and the caller's own pending ones, nested by parent",
        description:
          'Pages count top-level comments; replies come with their top-level comment. Send the edit tokens of ' +
          'your own comments in X-Quire-Edit-Token (comma-separated) to see them while they await moderation.',
        querystring: listQuery(config),
        response: { 200: listAnswer, ...problemResponses(400, 429) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const { uri, threadId } = ctx.page(q.uri);
      const { limit, after } = pageQuery(config, q, threadId);
      const mine = ownStems(ctx, request, threadId);
      // Without edit tokens the answer depends on the thread's version alone: one kept for it needs no index.
      const [head, moderation] = await Promise.all([
        mine.size === 0 ? ctx.store.viewHead(threadId) : undefined,
        ctx.moderation(),
      ]);
      const order = q.order ?? 'oldest';
      // Bound to this page and the client's network (context.ts).
      const formToken = ctx.formToken(threadId, request.ip).formToken;
      const keyOf = (pending: string[]) => JSON.stringify([uri, order, after, limit, moderation, pending]);
      const kept = head === undefined ? undefined : pages.get(threadId, head.version, keyOf([]));
      if (kept !== undefined) return sendSerialised(reply, PageCache.answer(kept, formToken));
      const view =
        head !== undefined && 'entries' in head ? (head as ThreadView) : await ctx.store.view(threadId);
      const opts = { mine, maxDepth: config.limits.maxDepth, order, after, limit };
      // The page is laid out from the thread's index; only the comments it shows are read (O(page)).
      const tree = async () => {
        await prepareLayout(view.entries);
        const plan = planPage(view.entries, opts);
        const records = await ctx.store.pageRecords(view, plan.stems);
        const built = buildTree(threadId, plan, records, view.entries, opts.maxDepth);
        addAvatars(avatars, built.comments, (id) => records.get(id.slice(id.lastIndexOf('_') + 1)));
        return built;
      };
      const answer = (tree: Tree, token: string) => listBody(config, view, uri, tree, token, moderation);
      // Edit tokens change the answer only through pending comments they make visible.
      const key = keyOf([...mine].filter((s) => view.entries.get(s)?.status === 'pending').sort());
      // Only this page's texts are rendered, long ones on workers; a page with a text shown escaped for now
      // (the renderer busy, the client gone) is not kept: answered to this request alone.
      let own: Tree | undefined;
      const page = await pages.make(threadId, view.version, key, async () => {
        const built = await tree();
        await prepareMarkdown(treeTexts(built.comments), clientGone(reply));
        const serialised = renderTree(built.comments)
          ? reply.serialize(answer(built, TOKEN_SLOT))
          : undefined;
        if (typeof serialised === 'string') return serialised;
        own = built;
        return undefined;
      });
      if (page !== undefined) return sendSerialised(reply, PageCache.answer(page, formToken));
      if (own === undefined) {
        own = await tree();
        renderTree(own.comments);
      }
      return answer(own, formToken);
    },
  );
};
