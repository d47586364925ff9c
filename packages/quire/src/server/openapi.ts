/**
 * GET /api/openapi.json: the OpenAPI document made from the route schemas, by @fastify/swagger, but only when it
 * is first asked for. Loading @fastify/swagger at start loads `yaml` with it, ~12 MB of RSS for a document most
 * servers never serve (measured: `import('@fastify/swagger')` +2.4 MB, `import('yaml')` +9.7 MB). So the app
 * only records its routes as they are registered; the first request for the document registers the same routes
 * and shared schemas, with handlers that never run and no validation compiled, on a Fastify instance of its own
 * with @fastify/swagger, reads the document from it and keeps it (a few hundred KB at most, once).
 */
import type {} from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';

const DOCUMENT = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'quire comments',
      version: '0.1.0',
      description:
        'Self-hosted blog comments stored as plain files. Errors are RFC 9457 application/problem+json ' +
        'with a stable `code`.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'from POST /api/admin/login' },
      },
    },
  },
} as const;

/** A route as the document needs it. HEAD routes are left out (Fastify adds one per GET; swagger hides them). */
type Recorded = Pick<RouteOptions, 'method' | 'url' | 'schema'>;

/** The document, made on a Fastify instance of its own from the recorded routes and `app`'s shared schemas. */
async function makeDocument(app: FastifyInstance, routes: readonly Recorded[]): Promise<unknown> {
  const [{ default: Fastify }, { default: swagger }] = await Promise.all([
    import('fastify'),
    import('@fastify/swagger'),
  ]);
  const shadow = Fastify({ exposeHeadRoutes: false });
  // Nothing is validated or serialised here: compiling every schema again would cost CPU for nothing.
  shadow.setValidatorCompiler(() => () => true);
  shadow.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await shadow.register(swagger, DOCUMENT);
  for (const schema of Object.values(app.getSchemas())) shadow.addSchema(schema);
  for (const r of routes) shadow.route({ ...r, handler: async () => null });
  try {
    await shadow.ready();
    return shadow.swagger();
  } finally {
    await shadow.close();
  }
}

/**
 * Records the routes registered on `app` from now on (call it before the routes) and serves their OpenAPI
 * document at GET /api/openapi.json, made on the first request (see above) and kept.
 */
export function openApiDocument(app: FastifyInstance): void {
  const routes: Recorded[] = [];
  app.addHook('onRoute', (r) => {
    if (r.method !== 'HEAD') routes.push({ method: r.method, url: r.url, schema: r.schema });
  });
  let document: Promise<unknown> | undefined;
  app.get('/api/openapi.json', { schema: { hide: true } }, () => {
    document ??= makeDocument(app, routes).catch((err: unknown) => {
      document = undefined;
      throw err;
    });
    return document;
  });
}
