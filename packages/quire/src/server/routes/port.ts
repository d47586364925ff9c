import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EXPORT_FORMATS, type ExportFormat, exportStream } from '../../port/export.js';
import { Type } from '../json-schema.js';
import { ProblemError } from '../problem.js';
import { problemResponses, stringEnum } from '../schemas.js';
import { requireAdmin } from './admin.js';
import type { RoutesOptions, TypedApp } from './plugin.js';
import { AdminImports, MAX_UPLOAD_BYTES } from './port-import.js';

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
  importRoutes(app, new AdminImports(ctx));
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

/**
 * POST /api/admin/import?format=F[&site=ORIGIN][&dryRun=true]: the file as the body (application/octet-stream),
 * imported as `quire import F` would; answers the summary when done. GET /api/admin/import: the running import's
 * counts so far, or the last one's summary.
 */
function importRoutes(app: TypedApp, imports: AdminImports): void {
  // The body is streamed to a temp file by the route, never parsed into memory.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  app.post(
    '/api/admin/import',
    {
      bodyLimit: MAX_UPLOAD_BYTES,
      schema: {
        tags: ['admin'],
        security: [{ bearer: [] }],
        summary: 'Import a Disqus, WordPress, Isso, Remark42 or quire file (the body), as quire import does',
        querystring: Type.Object(
          {
            format: Type.String({ maxLength: 16 }),
            site: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+/?$', maxLength: 300 })),
            dryRun: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: problemResponses(400, 401, 403, 409, 413, 415, 422),
      },
    },
    async (request) => {
      const q = request.query;
      if (!(request.body instanceof Readable)) {
        throw new ProblemError(415, 'unsupported-media-type', 'send the file as application/octet-stream');
      }
      return imports.run(request.body, q.format, q.site, q.dryRun === true);
    },
  );
  app.get(
    '/api/admin/import',
    {
      schema: {
        tags: ['admin'],
        security: [{ bearer: [] }],
        summary: 'The running import (counts so far) or the last one (its summary)',
        response: problemResponses(401, 403),
      },
    },
    async () => imports.current(),
  );
}
