/** `quire export`: round trip through an empty directory, a running server, a POST storm. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { quire, tempDir, text } from './fixtures/cli-helpers.js';
import {
  adminLogin,
  adminPasswordHash,
  request,
  spawnServer,
  startTestServer,
} from './fixtures/srv-helpers.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'port');

async function ok(t: TestContext, args: string[]): Promise<string> {
  const r = await quire(t, args);
  assert.equal(r.code, 0, r.stderr);
  return text(r);
}

/** A data directory with every fixture imported: every state, nesting, likes. */
async function filled(t: TestContext): Promise<string> {
  const data = tempDir(t);
  await ok(t, ['import', 'disqus', path.join(FIX, 'disqus.xml'), '--data', data]);
  await ok(t, ['import', 'wordpress', path.join(FIX, 'wordpress.xml'), '--data', data]);
  const gz = path.join(tempDir(t), 'r.gz');
  fs.writeFileSync(gz, gzipSync(fs.readFileSync(path.join(FIX, 'remark42.jsonl'))));
  await ok(t, ['import', 'remark42', gz, '--data', data]);
  return data;
}

test('round trip: export, import into an empty directory, export again: the same bytes; twice: nothing new', async (t) => {
  const a = await filled(t);
  const first = await ok(t, ['export', '--data', a]);
  const lines = first.trim().split('\n');
  assert.deepEqual(JSON.parse(lines[0] as string), { format: 'quire-export', version: 1 });
  assert.equal(lines.filter((l) => l.includes('"type":"comment"')).length, 19);
  assert.ok(
    lines.some((l) => l.includes('"votes":[{"voter"')),
    'likes are exported',
  );
  const file = path.join(tempDir(t), 'all.jsonl');
  fs.writeFileSync(file, first);
  const b = tempDir(t);
  await ok(t, ['import', 'quire', file, '--data', b]);
  assert.equal(await ok(t, ['export', '--data', b]), first);
  const again = JSON.parse(await ok(t, ['import', 'quire', file, '--data', b, '--json'])) as {
    created: number;
  };
  assert.equal(again.created, 0);
  assert.equal(await ok(t, ['export', '--data', b]), first);
  // A line that is not JSON stops the import, naming the line.
  fs.writeFileSync(file, `${lines.slice(0, 3).join('\n')}\n{oops\n`);
  const r = await quire(t, ['import', 'quire', file, '--data', tempDir(t)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^quire import: .*line 4: not JSON/);
});

test('disqus export: well-formed, every public comment, importable by our own disqus import', async (t) => {
  const a = await filled(t);
  const xml = await ok(t, ['export', '--data', a, '--format', 'disqus']);
  assert.match(xml, /^<\?xml version="1.0" encoding="utf-8"\?>\n<disqus /);
  const file = path.join(tempDir(t), 'out.xml');
  fs.writeFileSync(file, xml);
  const b = tempDir(t);
  const s = JSON.parse(await ok(t, ['import', 'disqus', file, '--data', b, '--json'])) as {
    byState: Record<string, number>;
    skipped: number;
  };
  assert.equal(s.skipped, 0);
  // Pending comments are left out of a Disqus file; everything else comes back in its state.
  assert.equal(s.byState.pending, 0);
  assert.equal(s.byState.spam, 2);
  assert.equal(s.byState.approved, 13);
});

test('a running quire serve sees imported comments without a restart; export under a POST storm', async (t) => {
  const data = tempDir(t);
  // The service in a process of its own (the fixture server: test config, no rate limits).
  const { url, child } = await spawnServer(t, data);
  const page = 'https://wp.example/2014/03/tea';
  const list = async () => {
    const r = await request(url, 'GET', `/api/comments?uri=${encodeURIComponent(page)}`);
    assert.equal(r.status, 200);
    return (r.body as { comments?: unknown[]; total?: number }) ?? {};
  };
  const before = JSON.stringify(await list());
  await ok(t, ['import', 'wordpress', path.join(FIX, 'wordpress.xml'), '--data', data]);
  const after = JSON.stringify(await list());
  assert.notEqual(after, before);
  assert.match(after, /Green tea/);
  // Posts keep arriving while the export runs: each exported comment is whole, the count between the two ends.
  let posted = 0;
  let stop = false;
  let twenty = () => {};
  const warmedUp = new Promise<void>((resolve) => {
    twenty = resolve;
  });
  const poster = async (n: number) => {
    const storm = 'https://storm.example/p';
    while (!stop) {
      const tokenUrl = `/api/form-token?uri=${encodeURIComponent(storm)}`;
      const formToken = (await request(url, 'GET', tokenUrl)).body.formToken as string;
      const r = await request(url, 'POST', '/api/comments', {
        uri: storm,
        text: `storm ${n} ${posted}`,
        formToken,
      });
      assert.equal(r.status, 201, r.text);
      if (++posted === 20) twenty();
    }
  };
  const storm = Promise.all([poster(1), poster(2), poster(3), poster(4)]);
  // A failed post ends the wait too.
  await Promise.race([warmedUp, storm]);
  const atStart = posted;
  const out = await ok(t, ['export', '--data', data]);
  const atEnd = posted;
  stop = true;
  await storm;
  const comments = out
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => JSON.parse(l) as { type: string; record?: { text: string } })
    .filter((o) => o.type === 'comment' && o.record?.text.startsWith('storm'));
  assert.ok(
    comments.length >= atStart && comments.length <= atEnd,
    `${atStart} <= ${comments.length} <= ${atEnd}`,
  );
  child.kill('SIGTERM');
});

test('GET /api/admin/export: moderators only; the same bytes as quire export, in both formats', async (t) => {
  const data = await filled(t);
  const cli = await ok(t, ['export', '--data', data]);
  const cliXml = await ok(t, ['export', '--data', data, '--format', 'disqus']);
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() }, { dataDir: data });
  assert.equal((await fetch(`${s.url}/api/admin/export`)).status, 401);
  const auth = await adminLogin(s);
  const r = await fetch(`${s.url}/api/admin/export`, { headers: auth });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /ndjson/);
  assert.equal(await r.text(), cli);
  const x = await fetch(`${s.url}/api/admin/export?format=disqus`, { headers: auth });
  assert.equal(await x.text(), cliXml);
  const bad = await fetch(`${s.url}/api/admin/export?format=csv`, { headers: auth });
  assert.equal(bad.status, 400);
});

test('POST /api/admin/import: the upload imported as quire import does; a second run finds everything', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  const body = fs.readFileSync(path.join(FIX, 'disqus.xml'));
  const post = (headers: Record<string, string>, query = 'format=disqus&site=https://new.example') =>
    fetch(`${s.url}/api/admin/import?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...headers },
      body,
    });
  assert.equal((await post({})).status, 401);
  const auth = await adminLogin(s);
  const r = await post(auth);
  assert.equal(r.status, 200, await r.clone().text());
  const answer = (await r.json()) as { status: string; summary: { created: number; skipped: number } };
  assert.equal(answer.status, 'done');
  assert.equal(answer.summary.created, 9);
  assert.equal(answer.summary.skipped, 3);
  const again = (await (await post(auth)).json()) as { summary: { created: number; existing: number } };
  assert.deepEqual([again.summary.created, again.summary.existing], [0, 9]);
  const state = (await (await fetch(`${s.url}/api/admin/import`, { headers: auth })).json()) as {
    status: string;
  };
  assert.equal(state.status, 'done');
  const list = await s.request(
    'GET',
    `/api/comments?uri=${encodeURIComponent('https://new.example/2013/01/hello')}`,
  );
  assert.match(list.text, /Bob replies/);
  // A malformed file: 422 with the line, and the state says so.
  const bad = await fetch(`${s.url}/api/admin/import?format=disqus`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...auth },
    body: '<disqus><post',
  });
  assert.equal(bad.status, 422);
  assert.match(await bad.text(), /import-malformed/);
  assert.equal((await post(auth, 'format=blogger')).status, 400);
});
