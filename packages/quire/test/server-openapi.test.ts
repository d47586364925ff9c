/** The OpenAPI document is made on its first request: @fastify/swagger and yaml are not loaded before. */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { startTestServer } from './fixtures/srv-helpers.js';

const cache = createRequire(import.meta.url).cache;
const loaded = (pkg: string) => Object.keys(cache).some((file) => file.includes(`/node_modules/${pkg}/`));

test('the server starts without @fastify/swagger and yaml; the first GET /api/openapi.json loads them once', async (t) => {
  const s = await startTestServer(t);
  assert.equal((await s.request('GET', '/healthz')).status, 200);
  assert.equal(loaded('@fastify/swagger'), false, '@fastify/swagger loaded at start');
  assert.equal(loaded('yaml'), false, 'yaml loaded at start');
  const [a, b] = await Promise.all([
    s.request('GET', '/api/openapi.json'),
    s.request('GET', '/api/openapi.json'),
  ]);
  assert.equal(a.status, 200);
  assert.equal(a.text, b.text, 'two concurrent first requests get one document');
  assert.equal(loaded('@fastify/swagger'), true);
  const doc = a.body as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
  // Made from the routes as registered: a route's body schema is in it, hidden routes and HEAD are not.
  assert.ok(doc.paths['/api/comments']?.post?.requestBody, 'POST /api/comments has its body schema');
  assert.equal(doc.paths['/api/openapi.json'], undefined, 'the document hides itself');
  assert.ok(
    Object.values(doc.paths).every((ops) => !('head' in ops)),
    'no HEAD routes',
  );
  const again = await s.request('GET', '/api/openapi.json');
  assert.equal(again.text, a.text, 'kept');
});
