import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox, Static } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { clientKey } from '../../store/address.js';
import { type CommentDraft, type CommentRecord, formatCommentId } from '../../store/records.js';
import type { Actor } from '../../store/store.js';
import { clientGone } from '../abort.js';
import { addAvatars } from '../avatars.js';
import { formTokenInvalid, type ServerContext } from '../context.js';
import { editTokens } from '../edit-tokens.js';
import { checkNotReserved, cleanEmail, cleanLine, cleanName, cleanText, cleanWebsite } from '../fields.js';
import { Type } from '../json-schema.js';
import { countLinks, renderMarkdownAsync } from '../markdown.js';
import { admitNewThread, checkOrigin } from '../new-thread.js';
import { ProblemError } from '../problem.js';
import {
  authorEditBody,
  commentIdParams,
  createdResponseSchema,
  honeypotValue,
  oneCommentSchema,
  postBodySchema,
  problemResponses,
} from '../schemas.js';
import { publicComment } from '../views.js';
import type { RoutesOptions, TypedApp } from './plugin.js';

type PostBody = Static<ReturnType<typeof postBodySchema>>;

/**
 * Renders `text` within the Markdown budget (422 markdown-too-complex past it, 503 markdown-busy), so that its
 * links are counted exactly and its page view finds it rendered; then throws 422 too-many-links when it has more
 * links than the config allows.
 */
async function checkLinks(ctx: ServerContext, text: string, sayHowMany: boolean, signal: AbortSignal) {
  await renderMarkdownAsync(text, signal);
  const max = ctx.config.spam.maxLinks;
  const links = countLinks(text);
  if (links <= max) return;
  const detail = `a comment may hold at most ${max} links`;
  throw new ProblemError(422, 'too-many-links', sayHowMany ? `${detail}; this one has ${links}` : detail);
}

/**
 * The spam checks a post passes before anything else: the honeypot and the form token (bound to the page and
 * the client's network). A filled honeypot gets the refusal of an invalid form token, word for word.
 */
function checkNotSpam(ctx: ServerContext, request: FastifyRequest, body: PostBody, threadId: string): void {
  const honey = honeypotValue(body, ctx.config.spam.honeypotField);
  if (honey !== undefined && honey.trim() !== '') {
    request.log.info('honeypot filled');
    throw formTokenInvalid();
  }
  ctx.checkFormToken(body.formToken, threadId, request.ip);
}

/** An author name as others will see it (cleanName), refused if it reads as a moderator's. */
function authorName(ctx: ServerContext, v: string | null | undefined): string | null {
  const name = cleanName(v, 'author');
  checkNotReserved(name, ctx.config.moderatorNames);
  return name;
}

/** The stem of the comment replied to, which must be in the same thread; null at top level. */
function parentStem(ctx: ServerContext, parent: string | null | undefined, threadId: string): string | null {
  if (parent === undefined || parent === null || parent === '') return null;
  const p = ctx.commentOf(parent);
  if (p.threadId !== threadId) {
    throw new ProblemError(422, 'parent-not-found', 'the comment replied to does not exist on this page');
  }
  return p.stem;
}

/** The draft of a new comment from a POST body, and the page title, every field checked and cleaned. */
async function draftOf(
  ctx: ServerContext,
  request: FastifyRequest,
  body: PostBody,
  threadId: string,
  signal: AbortSignal,
): Promise<{ draft: Omit<CommentDraft, 'status'>; title: string | null }> {
  const { config } = ctx;
  const text = cleanText(body.text);
  const author = authorName(ctx, body.author);
  const email = cleanEmail(body.email);
  const website = cleanWebsite(body.website);
  const title = cleanLine(body.title, 'title');
  if (config.requireAuthor && author === null)
    throw new ProblemError(400, 'author-required', 'a name is required');
  if (config.requireEmail && email === null) {
    throw new ProblemError(400, 'email-required', 'an e-mail address is required');
  }
  // Issue 15: reply mail goes to the address given with the comment; without one there is nowhere to send it.
  if (body.notify === true && email === null) {
    throw new ProblemError(400, 'notify-needs-email', 'notify: true needs an e-mail address in `email`');
  }
  await checkLinks(ctx, text, true, signal);
  const parent = parentStem(ctx, body.parent, threadId);
  const notify = body.notify === true;
  const draft = {
    parent,
    author,
    email,
    notify,
    website,
    text,
    address: request.ip,
    nonce: body.nonce,
  };
  return { draft, title };
}

/** Whoever sends a genuine edit token for `id` is its author, until the token or the edit window ends. */
function authorOf(ctx: ServerContext, request: FastifyRequest, id: string): Actor {
  const tokens = editTokens(request);
  if (tokens.length === 0) {
    throw new ProblemError(401, 'edit-token-missing', `send the comment's edit token in X-Quire-Edit-Token`, {
      'www-authenticate': 'X-Quire-Edit-Token',
    });
  }
  const tok = tokens.length === 1 ? ctx.readEditToken(tokens[0] as string) : null;
  if (tok === null || tok.id !== id) {
    throw new ProblemError(403, 'edit-token-invalid', 'the edit token is not valid for this comment');
  }
  return { by: 'author', tokenExpiresMs: tok.expires, editWindowMs: ctx.config.editWindowSeconds * 1000 };
}

/** The author of the comment `id`, allowed by the store to change it now (else its refusal). */
async function authorise(ctx: ServerContext, request: FastifyRequest, id: string) {
  const comment = ctx.commentOf(id);
  const actor = authorOf(ctx, request, id);
  await ctx.rateLimit('edits', clientKey(request.ip));
  await ctx.store.mayChange(comment.threadId, comment.stem, actor);
  return { ...comment, actor };
}

/** A comment as the public sees it, with its avatar keys (avatars.ts). */
function shown(ctx: ServerContext, threadId: string, stem: string, r: CommentRecord, likes: number) {
  const c = publicComment(threadId, stem, r, likes);
  addAvatars({ hmacs: ctx.hmacs, gravatar: ctx.config.avatars.gravatar }, [c], () => r);
  return c;
}

/** POST /api/comments: a new comment (or, for a retried nonce, the first one). */
async function postComment(ctx: ServerContext, request: FastifyRequest, body: PostBody, signal: AbortSignal) {
  const { config, store } = ctx;
  // The setting's stat runs on the threadpool while the limit is counted and the draft is checked and made
  // (CPU): a post waits for it only where its status is set, and only if it takes longer than all that.
  const moderation = ctx.moderation();
  // Awaited below, or never if the post is refused first: its failure must not go unhandled meanwhile.
  moderation.catch(() => {});
  await ctx.rateLimit('posts', clientKey(request.ip));
  const page = ctx.page(body.uri);
  const { uri, threadId } = page;
  checkOrigin(config, uri);
  checkNotSpam(ctx, request, body, threadId);
  const { draft, title: clientTitle } = await draftOf(ctx, request, body, threadId, signal);
  const title = await admitNewThread(ctx, request, page, clientTitle, draft.parent, signal);
  const status = (await moderation) === 'all' ? 'pending' : 'approved';
  const result = await store.postComment(
    threadId,
    { uri, title },
    { ...draft, status },
    {
      duplicateWindowMs: config.spam.duplicateWindowSeconds * 1000,
      ...(body.attempt === undefined ? {} : { attempt: body.attempt }),
    },
  );
  const id = formatCommentId(threadId, result.stem);
  const editableUntil = Date.parse(result.record.created) + config.editWindowSeconds * 1000;
  const likes = result.created ? 0 : await store.likesOf(threadId, result.stem);
  request.log.info({ comment: id, created: result.created, status: result.record.status }, 'comment posted');
  return {
    status: result.record.status === 'pending' ? 202 : 201,
    answer: {
      comment: shown(ctx, threadId, result.stem, result.record, likes),
      editToken: ctx.editToken(id, editableUntil),
      editableUntil: new Date(editableUntil).toISOString(),
    },
  } as const;
}

/** POST /api/comments. */
function postRoute(app: TypedApp, ctx: ServerContext): void {
  const { config } = ctx;
  app.post(
    '/api/comments',
    {
      schema: {
        tags: ['comments'],
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
      const { status, answer } = await postComment(ctx, request, request.body, clientGone(reply));
      return reply.code(status).send(answer);
    },
  );
}

/** PATCH /api/comments/:id: an author's edit. */
function authorEditRoute(app: TypedApp, ctx: ServerContext): void {
  const { config, store } = ctx;
  app.patch(
    '/api/comments/:id',
    {
      schema: {
        tags: ['comments'],
        summary: "Edit one's own comment within the edit window (X-Quire-Edit-Token)",
        params: commentIdParams,
        body: authorEditBody(config),
        response: { 200: oneCommentSchema, ...problemResponses(400, 401, 403, 404, 422, 429) },
      },
    },
    async (request, reply) => {
      const { threadId, stem, actor } = await authorise(ctx, request, request.params.id);
      const b = request.body;
      const text = b.text === undefined ? undefined : cleanText(b.text);
      const author = b.author === undefined ? undefined : authorName(ctx, b.author);
      const website = b.website === undefined ? undefined : cleanWebsite(b.website);
      if (config.requireAuthor && author === null)
        throw new ProblemError(400, 'author-required', 'a name is required');
      if (text !== undefined) await checkLinks(ctx, text, false, clientGone(reply));
      // Under moderation: all, an edit of an approved comment goes back to the queue (rules.ts, edited).
      const review = (await ctx.moderation()) === 'all';
      const updated = await store.editComment(threadId, stem, { text, author, website }, actor, review);
      if (updated.status === 'pending')
        request.log.info({ comment: request.params.id }, 'edit awaits review');
      const likes = await store.likesOf(threadId, stem);
      return { comment: shown(ctx, threadId, stem, updated, likes) };
    },
  );
}

/** DELETE /api/comments/:id: an author's delete. */
function authorDeleteRoute(app: TypedApp, ctx: ServerContext): void {
  const { config, store } = ctx;
  app.delete(
    '/api/comments/:id',
    {
      schema: {
        tags: ['comments'],
        summary: "Delete one's own comment within the edit window (X-Quire-Edit-Token)",
        description:
          'The comment becomes a tombstone: text, name, e-mail, website and address are erased; it keeps its ' +
          'place only while replies hang off it.',
        params: commentIdParams,
        response: { 200: oneCommentSchema, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const { threadId, stem, actor } = await authorise(ctx, request, request.params.id);
      const updated = await store.deleteComment(threadId, stem, actor, config.restoreWindowDays * 86_400_000);
      request.log.info({ comment: request.params.id }, 'comment deleted by its author');
      return { comment: publicComment(threadId, stem, updated, 0) };
    },
  );
}

/**
 * POST /api/comments/:id/like, and DELETE of it (issue 15: unlike): one client's like, given or taken back.
 * Both cost one file created or removed and share the `likes` rate limit; a client can only take back its own
 * like, because the vote file's name is the HMAC of the comment and the client's network (store.like).
 */
function likeRoutes(app: TypedApp, ctx: ServerContext): void {
  const { store } = ctx;
  for (const withdraw of [false, true]) {
    const answer = Type.Object({
      likes: Type.Integer(),
      counted: Type.Boolean({
        description: withdraw
          ? 'false if this client had no like to take back'
          : 'false if this client had already liked it',
      }),
    });
    app.route({
      method: withdraw ? 'DELETE' : 'POST',
      url: '/api/comments/:id/like',
      schema: {
        tags: ['comments'],
        summary: withdraw
          ? "Take back this client's like of a comment (unlike)"
          : 'Like a comment (once per client address)',
        params: commentIdParams,
        response: { 200: answer, ...problemResponses(400, 403, 404, 429) },
      },
      handler: async (request) => {
        const { threadId, stem } = ctx.commentOf(request.params.id);
        await ctx.rateLimit('likes', clientKey(request.ip));
        return store.like(threadId, stem, request.ip, withdraw);
      },
    });
  }
}

/** Posting, and an author's edits, deletes and everyone's likes. */
export const commentWriteRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { ctx }) => {
  postRoute(app, ctx);
  authorEditRoute(app, ctx);
  authorDeleteRoute(app, ctx);
  likeRoutes(app, ctx);
};
