import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { EXPORT_FORMATS, type ExportFormat, exportStream } from '../../port/export.js';
import { ProblemError } from '../problem.js';
import { problemResponses, stringEnum } from '../schemas.js';
import { requireAdmin } from './admin.js';
import type { RoutesOptions } from './plugin.js';

const TYPES: Readonly<Record<ExportFormat, string>> = {
  quire: 'application/x-ndjson; charset=utf-8',
  disqus: 'application/xml; charset=utf-8',
};

/**
 * GET /api/admin/export: `quire export` for moderators, streamed as it is read (docs/migrating.md). One export
 * at a time per process: a second one while the first runs is told 503 'export-busy', so the cost of exports
 * is bounded whoever asks.
 */
export const portRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, opts) => {
  const { ctx } = opts;
  let running = false;
  app.addHook('onRequest', async (request) => requireAdmin(ctx, request));
  app.get(
    '/api/admin/export',
    {
      schema: {
        tags: ['admin'],
        security: [{ bearer: [] }],
        summary: 'Every thread and comment, as quire JSON Lines (default) or Disqus XML, streamed',
        querystring: Type.Object(
          { format: Type.Optional(stringEnum([...EXPORT_FORMATS])) },
          { additionalProperties: false },
        ),
        response: { ...problemResponses(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      if (running) {
        throw new ProblemError(503, 'export-busy', 'an export is running; try again when it is done', {
          'retry-after': '10',
        });
      }
      const format = request.query.format ?? 'quire';
      running = true;
      const body = Readable.from(exportStream(ctx.store, format));
      body.once('close', () => {
        running = false;
      });
      const ext = format === 'quire' ? 'jsonl' : 'xml';
      return reply
        .type(TYPES[format])
        .header('content-disposition', `attachment; filename="quire-export.${ext}"`)
        .header('cache-control', 'no-store')
        .send(body);
    },
  );
};
