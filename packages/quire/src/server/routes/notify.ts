import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { ServerContext } from '../context.js';
import { Type } from '../json-schema.js';
import { type LinkAction, readActionToken, readUnsubscribeToken } from '../notify/links.js';
import type { Notifications } from '../notify/service.js';
import { escapeHtml } from '../notify/templates.js';
import { ProblemError } from '../problem.js';
import { problemResponses } from '../schemas.js';
import { requireAdmin } from './admin.js';
import type { RoutesOptions } from './plugin.js';

const linkQuery = Type.Object(
  { t: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

const VERBS: Record<LinkAction, string> = { approve: 'Approve', delete: 'Delete', spam: 'Mark as spam' };
const DONE: Record<LinkAction, string> = { approve: 'approved', delete: 'deleted', spam: 'marked as spam' };

/** A page of our own: no script, no resource from anywhere, forms only back here. */
function sendPage(reply: FastifyReply, title: string, body: string): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .header('referrer-policy', 'no-referrer')
    .send(
      `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:36em;margin:2em auto">` +
        `<h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    );
}

/** A form that POSTs back to this very URL: the confirmation a mail scanner's prefetch (a GET) never gives. */
function confirmForm(label: string): string {
  return `<form method="post"><button type="submit">${escapeHtml(label)}</button></form>`;
}

function notifyOf(ctx: ServerContext): Notifications {
  if (ctx.notify === null) throw new ProblemError(404, 'notifications-off', 'notifications are off');
  return ctx.notify;
}

/** The action of a genuine, unexpired moderator link: 400 link-invalid, 410 link-expired. */
function actionOf(ctx: ServerContext, token: string) {
  const a = readActionToken(ctx.hmacs, token);
  if (a === null) throw new ProblemError(400, 'link-invalid', 'this link is not one this service made');
  if (ctx.now() > a.expires) throw new ProblemError(410, 'link-expired', 'this link has expired');
  return { ...a, ...ctx.commentOf(a.commentId) };
}

/** Spends a link: 410 link-used if it was used before, by any process. */
async function spend(n: Notifications, token: string): Promise<void> {
  if (!(await n.outbox.useLink(token)))
    throw new ProblemError(410, 'link-used', 'this link was used already');
}

/** The one-click links of the mail: each shows a page, and acts only on its form's POST. */
const linkRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { ctx }) => {
  // The confirmation forms and RFC 8058's one-click POST send form bodies; nothing in them is read.
  for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_req, _body, done) => done(null, undefined));
  }
  const schema = (summary: string) => ({
    tags: ['notify'],
    summary,
    querystring: linkQuery,
    response: problemResponses(400, 404, 410, 429),
  });
  app.get(
    '/api/notify/moderate',
    { schema: schema('Confirm page of a one-click moderation link') },
    async (req, reply) => {
      notifyOf(ctx);
      const a = actionOf(ctx, req.query.t);
      const c = await ctx.store.moderated(a.threadId, a.stem);
      const body =
        `<p>${escapeHtml(c.record.author ?? 'Anonymous')} on ${escapeHtml(c.meta?.title ?? c.meta?.uri ?? '')}:</p>` +
        `<blockquote style="white-space:pre-wrap">${escapeHtml(c.record.text)}</blockquote>${confirmForm(VERBS[a.action])}`;
      return sendPage(reply, `${VERBS[a.action]} this comment?`, body);
    },
  );
  app.post(
    '/api/notify/moderate',
    { schema: schema('Carry out a one-click moderation link (once)') },
    async (req, reply) => {
      const n = notifyOf(ctx);
      const a = actionOf(ctx, req.query.t);
      await spend(n, req.query.t);
      if (a.action === 'delete') {
        await ctx.store.deleteComment(
          a.threadId,
          a.stem,
          { by: 'moderator' },
          ctx.config.restoreWindowDays * 86_400_000,
        );
      } else await ctx.store.judgeComment(a.threadId, a.stem, a.action === 'approve' ? 'approved' : 'spam');
      req.log.info({ comment: a.commentId, action: a.action }, 'comment moderated by a mail link');
      return sendPage(reply, `Comment ${DONE[a.action]}`, '<p>Done. This link cannot be used again.</p>');
    },
  );
  app.get(
    '/api/notify/unsubscribe',
    { schema: schema('Confirm page of an unsubscribe link') },
    async (req, reply) => {
      notifyOf(ctx);
      if (readUnsubscribeToken(ctx.hmacs, req.query.t) === null)
        throw new ProblemError(400, 'link-invalid', 'this link is not one this service made');
      return sendPage(reply, 'Stop reply notifications?', confirmForm('Unsubscribe'));
    },
  );
  app.post(
    '/api/notify/unsubscribe',
    { schema: schema('Unsubscribe from reply mail (RFC 8058 one-click; once)') },
    async (req, reply) => {
      const n = notifyOf(ctx);
      const h = readUnsubscribeToken(ctx.hmacs, req.query.t);
      if (h === null) throw new ProblemError(400, 'link-invalid', 'this link is not one this service made');
      await spend(n, req.query.t);
      await n.outbox.unsubscribe(h);
      req.log.info('an address unsubscribed from reply mail');
      return sendPage(reply, 'Unsubscribed', '<p>You will get no more mail about replies.</p>');
    },
  );
};

const outcomeSchema = Type.Object({
  event: Type.String(),
  target: Type.String(),
  outcome: Type.String(),
  attempt: Type.Integer(),
  reason: Type.Optional(Type.String()),
  at: Type.String(),
  pid: Type.Integer(),
});

const statusSchema = Type.Object({
  enabled: Type.Boolean(),
  mail: Type.Boolean(),
  webhooks: Type.Integer(),
  givenUp: Type.Array(
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      comment: Type.String(),
      at: Type.String(),
      targets: Type.Array(
        Type.Object({ target: Type.String(), attempts: Type.Integer(), reason: Type.String() }),
      ),
    }),
  ),
  recent: Type.Array(outcomeSchema),
});

const retryParams = Type.Object(
  {
    id: Type.String({ maxLength: 64, pattern: '^[0-9]{8}T[0-9]{6}Z-[0-9]{1,15}\\.json(~[1-9][0-9]{0,2})?$' }),
  },
  { additionalProperties: false },
);

/** The admin's view of deliveries: whether they are on, what was given up (with a retry), what happened lately. */
const adminNotifyRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { ctx }) => {
  const security = [{ bearer: [] }];
  app.addHook('onRequest', async (request) => requireAdmin(ctx, request));
  app.get(
    '/api/admin/notifications',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Notification status: on or off, deliveries given up, the latest outcomes',
        response: { 200: statusSchema, ...problemResponses(401, 403, 429) },
      },
    },
    async () => {
      const n = ctx.notify;
      if (n === null || !n.enabled)
        return { enabled: false, mail: false, webhooks: 0, givenUp: [], recent: [] };
      const givenUp = (await n.outbox.givenUp(100)).map((g) => ({
        id: g.id,
        type: g.event.type,
        comment: g.event.comment,
        at: g.event.at,
        targets: g.event.targets
          .filter((t) => g.state.finished[t] === 'given-up')
          .map((t) => ({ target: t, attempts: g.state.attempts[t] ?? 0, reason: g.state.reasons[t] ?? '' })),
      }));
      return {
        enabled: true,
        mail: n.mailer !== null,
        webhooks: ctx.config.notify.webhooks.length,
        givenUp,
        recent: await n.outbox.outcomes(50),
      };
    },
  );
  app.post(
    '/api/admin/notifications/:id/retry',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Deliver a given-up event again (its given-up targets, as a new event)',
        params: retryParams,
        response: { 200: Type.Object({ retried: Type.String() }), ...problemResponses(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const retried = await notifyOf(ctx).outbox.retry(request.params.id);
      if (retried === null)
        throw new ProblemError(404, 'not-found', 'no given-up event with this id (or it was retried)');
      request.log.info({ event: request.params.id, retried }, 'delivery retried by the admin');
      return { retried };
    },
  );
};

/** Issue 15's routes: the mail's one-click links and the admin's notifications panel. */
export const notifyRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, opts) => {
  await app.register(linkRoutes, opts);
  await app.register(adminNotifyRoutes, opts);
};
