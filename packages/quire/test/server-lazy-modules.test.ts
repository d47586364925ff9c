/** Modules only a rare route needs are loaded by its first request, not at start: the XML parser of imports. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { adminLogin, adminPasswordHash, startTestServer } from './fixtures/srv-helpers.js';

const cache = createRequire(import.meta.url).cache;
const loaded = (pkg: string) => Object.keys(cache).some((file) => file.includes(`/node_modules/${pkg}/`));
const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'port');

test('the server starts, and exports, without the XML parser; the first import loads it', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  assert.equal((await s.request('GET', '/healthz')).status, 200);
  const auth = await adminLogin(s);
  const exported = await fetch(`${s.url}/api/admin/export?format=quire`, { headers: auth });
  assert.equal(exported.status, 200);
  await exported.text();
  assert.equal(loaded('saxes'), false, 'saxes loaded before any import');
  const r = await fetch(`${s.url}/api/admin/import?format=disqus&site=https://new.example`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...auth },
    body: fs.readFileSync(path.join(FIX, 'disqus.xml')),
  });
  assert.equal(r.status, 200, await r.clone().text());
  assert.equal(((await r.json()) as { summary: { created: number } }).summary.created, 9);
  assert.equal(loaded('saxes'), true);
});
