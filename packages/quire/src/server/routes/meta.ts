import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { clientKey } from '../../store/address.js';
import { clientGone } from '../abort.js';
import type { ServerContext } from '../context.js';
import { storageHealth } from '../health.js';
import { Type } from '../json-schema.js';
import { renderMarkdownAsync } from '../markdown.js';
import { ProblemError } from '../problem.js';
import { problemResponses } from '../schemas.js';
import type { RoutesOptions, TypedApp } from './plugin.js';

const formTokenAnswer = Type.Object({
  formToken: Type.String(),
  notBefore: Type.String({ format: 'date-time' }),
  expires: Type.String({ format: 'date-time' }),
});

/** GET /api/counts. */
function countsRoute(app: TypedApp, ctx: ServerContext): void {
  const { config, store } = ctx;
  // Counted by each load of a thread's index: a count costs a lookup.
  const approvedCount = async (threadId: string): Promise<number> => (await store.view(threadId)).approved;
  const uriString = Type.String({ minLength: 1, maxLength: config.limits.uriChars });
  app.get(
    '/api/counts',
    {
      schema: {
        tags: ['comments'],
        summary: 'Numbers of public comments of several pages (?uri=a&uri=b)',
        querystring: Type.Object(
          {
            uri: Type.Union([
              uriString,
              Type.Array(uriString, { minItems: 1, maxItems: config.limits.countsUris }),
            ]),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            counts: Type.Record(Type.String(), Type.Integer(), { description: 'keyed by each uri as given' }),
          }),
          ...problemResponses(400, 429),
        },
      },
    },
    async (request) => {
      const uris = Array.isArray(request.query.uri) ? request.query.uri : [request.query.uri];
      const counts = await Promise.all(
        uris.map(async (u) => [u, await approvedCount(ctx.page(u).threadId)] as const),
      );
      return { counts: Object.fromEntries(counts) };
    },
  );
}

/** POST /api/preview. */
function previewRoute(app: TypedApp, ctx: ServerContext): void {
  const { config } = ctx;
  app.post(
    '/api/preview',
    {
      schema: {
        tags: ['comments'],
        summary: 'Render Markdown as a comment would be rendered',
        body: Type.Object(
          { text: Type.String({ maxLength: config.limits.textChars }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ html: Type.String() }),
          ...problemResponses(400, 413, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      await ctx.rateLimit('previews', clientKey(request.ip));
      return { html: await renderMarkdownAsync(request.body.text, clientGone(reply), 'preview') };
    },
  );
}

/** GET /api/form-token. */
function formTokenRoute(app: TypedApp, ctx: ServerContext): void {
  app.get(
    '/api/form-token',
    {
      schema: {
        tags: ['comments'],
        summary: 'A signed form token for POST /api/comments to the page `uri`',
        description:
          'Accepted from `notBefore` (the minimum compose time) until `expires`, for the page `uri` only, ' +
          "from the client's network (/24, /48) only.",
        querystring: Type.Object(
          { uri: Type.String({ minLength: 1, maxLength: ctx.config.limits.uriChars }) },
          { additionalProperties: false },
        ),
        response: { 200: formTokenAnswer, ...problemResponses(400, 429) },
      },
    },
    // Issue 12 (rules): the token is bound to the page's thread and the client's network.
    async (request) => ctx.formToken(ctx.page(request.query.uri).threadId, request.ip),
  );
}

/** GET /healthz. */
function healthRoute(app: TypedApp, ctx: ServerContext): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['meta'],
        summary:
          'Health: 200 while the data directory can be written (a probe write), else 503 with the reason',
        response: { 200: Type.Object({ status: Type.String() }), ...problemResponses(503) },
      },
    },
    async () => {
      const report = await storageHealth(ctx).check();
      if (!report.ok) {
        const { code, detail, retryAfterSeconds } = report.fault;
        throw new ProblemError(503, code, detail, { 'retry-after': String(retryAfterSeconds) });
      }
      return { status: 'ok' };
    },
  );
}

/** Counts of several pages, Markdown previews, form tokens and the health check. */
export const metaRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { ctx }) => {
  countsRoute(app, ctx);
  previewRoute(app, ctx);
  formTokenRoute(app, ctx);
  healthRoute(app, ctx);
};
