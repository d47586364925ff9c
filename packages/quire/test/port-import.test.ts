/** `quire import` and `quire export`: every format's fixture, idempotence, resume after SIGKILL, hostile input. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { requireOrSkip } from '@quire/testkit';
import { quire, start, tempDir, text } from './fixtures/cli-helpers.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'port');

interface Rec {
  parent: string | null;
  text: string;
  status: string;
  author: string | null;
  created: string;
}

/** Every record of a data directory: `thread/stem` → record. */
function records(data: string): Map<string, Rec> {
  const out = new Map<string, Rec>();
  const threads = path.join(data, 'threads');
  if (!fs.existsSync(threads)) return out;
  for (const t of fs.readdirSync(threads).sort()) {
    for (const f of fs.readdirSync(path.join(threads, t)).sort()) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      out.set(`${t}/${f.slice(0, -5)}`, JSON.parse(fs.readFileSync(path.join(threads, t, f), 'utf8')) as Rec);
    }
  }
  return out;
}

function byText(recs: Map<string, Rec>, needle: string): [string, Rec] {
  const hit = [...recs].find(([, r]) => r.text.includes(needle));
  assert.ok(hit, `no record with ${needle}`);
  return hit;
}

async function importOk(t: TestContext, args: string[]): Promise<Record<string, unknown>> {
  const r = await quire(t, ['import', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(text(r)) as Record<string, unknown>;
}

test('disqus: states, nesting out of order, tombstones, orphans, bad records, --site, sanitised HTML', async (t) => {
  const data = tempDir(t);
  const file = path.join(FIX, 'disqus.xml');
  const s = await importOk(t, ['disqus', file, '--data', data, '--site', 'https://new.example']);
  assert.deepEqual(s.byState, { approved: 7, pending: 0, spam: 1, deleted: 1 });
  assert.equal(s.orphans, 1);
  assert.equal(s.droppedDeleted, 1);
  assert.deepEqual(s.skippedByReason, { 'empty text': 1, 'impossible date': 1, 'unknown thread 777': 1 });
  const recs = records(data);
  assert.equal(recs.size, 9);
  const [aliceId, alice] = byText(recs, 'First!');
  assert.match(aliceId, /^new-example-2013-01-hello-[0-9a-f]{32}\/20130101T100000Z-0$/);
  assert.equal(alice.text, 'First! See [this](https://example.org/x), **really**.\n\nSecond paragraph');
  const [bobId, bob] = byText(recs, 'Bob replies');
  assert.equal(bob.parent, aliceId.split('/')[1]);
  assert.equal(byText(recs, 'Reply to Bob')[1].parent, bobId.split('/')[1]);
  const [tombId, tomb] = [...recs].find(([, r]) => r.status === 'deleted') as [string, Rec];
  assert.equal(tomb.text, '');
  assert.equal(byText(recs, 'Reply to a comment that was deleted')[1].parent, tombId.split('/')[1]);
  const spam = byText(recs, 'Cheap pills')[1];
  assert.equal(spam.status, 'spam');
  assert.doesNotMatch(spam.text, /javascript|\]\(/);
  assert.equal(byText(recs, 'My parent was lost')[1].parent, null);
  // One second's comments keep the file's order: -0 before -N.
  const first = byText(recs, 'Same second, first')[0].split('-').pop();
  const second = byText(recs, 'Same second, second')[0].split('-').pop();
  assert.ok(Number(first) < Number(second), `${first} ${second}`);
  for (const r of recs.values()) assert.doesNotMatch(r.text, /<script|alert/);
  // Again: nothing new, every comment found.
  const again = await importOk(t, ['disqus', file, '--data', data, '--site', 'https://new.example']);
  assert.equal(again.created, 0);
  assert.equal(again.existing, 9);
  assert.deepEqual(records(data), recs);
});

test('--dry-run reports the same and writes nothing; a bad FORMAT is a usage error', async (t) => {
  const data = tempDir(t);
  const s = await importOk(t, ['disqus', path.join(FIX, 'disqus.xml'), '--data', data, '--dry-run']);
  assert.equal(s.comments, 9);
  assert.equal(records(data).size, 0);
  const r = await quire(t, ['import', 'blogger', path.join(FIX, 'disqus.xml'), '--data', data]);
  assert.equal(r.code, 2);
});

test('a reply finds its parent imported by an earlier run; a parent on another page leaves it an orphan', async (t) => {
  const data = tempDir(t);
  const line = (id: string, pid: string, page: string, time: string, text: string) =>
    `${JSON.stringify({ id, pid, text: `<p>${text}</p>`, user: { name: 'A', id: 'a' }, locator: { site: 'r', url: `https://r42.example/${page}/` }, score: 0, time })}\n`;
  const file = (name: string, ...lines: string[]) => {
    const f = path.join(tempDir(t), name);
    fs.writeFileSync(f, gzipSync(`{"version":1,"users":[],"posts":[]}\n${lines.join('')}`));
    return f;
  };
  const first = file('first.gz', line('p1', '', 'one', '2020-01-01T00:00:00Z', 'The parent'));
  const second = file(
    'second.gz',
    line('p2', '', 'two', '2020-01-01T00:00:01Z', 'Elsewhere'),
    line('r1', 'p1', 'one', '2020-01-02T00:00:00Z', 'Late reply'),
    line('r2', 'p2', 'one', '2020-01-02T00:00:01Z', 'Across pages'),
  );
  await importOk(t, ['remark42', first, '--data', data]);
  const s = await importOk(t, ['remark42', second, '--data', data]);
  assert.equal(s.created, 3);
  assert.equal(s.orphans, 1);
  const recs = records(data);
  assert.equal(byText(recs, 'Late reply')[1].parent, byText(recs, 'The parent')[0].split('/')[1]);
  assert.equal(byText(recs, 'Across pages')[1].parent, null);
});

test('wordpress: approved, pending, spam, trash with a reply, pingbacks left out', async (t) => {
  const data = tempDir(t);
  const s = await importOk(t, ['wordpress', path.join(FIX, 'wordpress.xml'), '--data', data]);
  assert.deepEqual(s.byState, { approved: 3, pending: 1, spam: 1, deleted: 1 });
  const recs = records(data);
  const [aliceId, alice] = byText(recs, 'Green tea');
  assert.match(aliceId, /^wp-example-2014-03-tea-[0-9a-f]{32}\/20140302T090000Z-0$/);
  assert.equal(byText(recs, 'Black tea')[1].status, 'pending');
  assert.equal(byText(recs, 'Black tea')[1].parent, aliceId.split('/')[1]);
  assert.equal(alice.author, 'Alice');
  assert.equal(byText(recs, 'Replying to Carol')[1].parent, '20140302T130000Z-0');
  assert.equal(recs.size, 6);
});

test('remark42: gzip JSON lines, the Markdown original preferred, HTML sanitised, likes counted', async (t) => {
  const data = tempDir(t);
  const gz = path.join(tempDir(t), 'backup.gz');
  fs.writeFileSync(gz, gzipSync(fs.readFileSync(path.join(FIX, 'remark42.jsonl'))));
  const s = await importOk(t, ['remark42', gz, '--data', data]);
  assert.deepEqual(s.byState, { approved: 3, pending: 0, spam: 0, deleted: 1 });
  const recs = records(data);
  const [id, first] = byText(recs, 'Hello from');
  assert.equal(first.text, 'Hello from **remark42**');
  assert.equal(byText(recs, 'A reply')[1].text, 'A reply');
  const votes = path.join(data, 'threads', id.split('/')[0] as string, '.votes', id.split('/')[1] as string);
  assert.equal(fs.readdirSync(votes).length, 2);
  const broken = path.join(tempDir(t), 'broken.gz');
  const whole = gzipSync(fs.readFileSync(path.join(FIX, 'remark42.jsonl')));
  fs.writeFileSync(broken, whole.subarray(0, whole.length >> 1));
  const r = await quire(t, ['import', 'remark42', broken, '--data', tempDir(t)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^quire import: .*gzip.*\n$/);
});

test('isso: SQLite rows, paths on --site, modes, likes; a file that is not SQLite is refused', async (t) => {
  const name = 'better-sqlite3';
  type Db = { exec(sql: string): void; close(): void };
  // An optional dependency: where its native build failed, `quire import isso` says so, and this test cannot run.
  const loaded = (await import(name).catch(() => null)) as { default: new (file: string) => Db } | null;
  if (
    !requireOrSkip(t, loaded !== null, 'better-sqlite3 (an optional dependency) is not installed') ||
    !loaded
  )
    return;
  const Database = loaded.default;
  const db = path.join(tempDir(t), 'comments.db');
  const d = new Database(db);
  d.exec(fs.readFileSync(path.join(FIX, 'isso.sql'), 'utf8'));
  d.close();
  const data = tempDir(t);
  const s = await importOk(t, ['isso', db, '--data', data, '--site', 'https://isso.example']);
  assert.deepEqual(s.byState, { approved: 3, pending: 1, spam: 0, deleted: 1 });
  assert.equal(s.droppedDeleted, 1);
  const recs = records(data);
  const [id] = byText(recs, 'Markdown *kept*');
  assert.match(id, /^isso-example-blog-isso-post-[0-9a-f]{32}\/20150101T000000Z-0$/);
  const notDb = path.join(tempDir(t), 'not.db');
  fs.writeFileSync(notDb, 'this is not a database at all'.repeat(100));
  const r = await quire(t, ['import', 'isso', notDb, '--data', tempDir(t)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not an Isso database/);
});

test('hostile XML: billion laughs, external entities and a huge text node stop with one line, nothing written', async (t) => {
  const dir = tempDir(t);
  const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<disqus><thread dsq:id="1"><link>https://a.example/x</link></thread><post dsq:id="2"><message>&lol3;</message><createdAt>2013-01-01T00:00:00Z</createdAt><thread dsq:id="1"/></post></disqus>`;
  const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<disqus><thread dsq:id="1"><link>https://a.example/x</link></thread><post dsq:id="2"><message>&xxe;</message><createdAt>2013-01-01T00:00:00Z</createdAt><thread dsq:id="1"/></post></disqus>`;
  const undeclared = `<disqus><thread dsq:id="1"><link>https://a.example/x</link></thread><post dsq:id="2"><message>&xxe;</message><createdAt>2013-01-01T00:00:00Z</createdAt><thread dsq:id="1"/></post></disqus>`;
  const huge = `<disqus><thread dsq:id="1"><link>https://a.example/x</link></thread><post dsq:id="2"><message>${'a'.repeat(6 * 1024 * 1024)}</message></post></disqus>`;
  const truncated =
    '<disqus><thread dsq:id="1"><link>https://a.example/x</link></thread><post dsq:id="2"><mess';
  for (const [name, xml, why] of [
    ['laughs', laughs, /DTD/],
    ['xxe', xxe, /DTD/],
    ['undeclared', undeclared, /undefined entity/],
    ['huge', huge, /larger than/],
    ['truncated', truncated, /line 1/],
  ] as const) {
    const file = path.join(dir, `${name}.xml`);
    fs.writeFileSync(file, xml);
    const data = tempDir(t);
    const r = await quire(t, ['import', 'disqus', file, '--data', data]);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, why, name);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(records(data).size, 0, name);
  }
});

/** A Disqus file of `n` comments on 5 pages, every third a reply to the one before. */
function bigDisqus(n: number): string {
  const parts = [
    '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns:dsq="http://disqus.com/disqus-internals">\n',
  ];
  for (let p = 0; p < 5; p++)
    parts.push(
      `<thread dsq:id="t${p}"><link>https://big.example/p${p}</link><title>P${p}</title></thread>\n`,
    );
  for (let i = 0; i < n; i++) {
    const parent = i % 3 === 2 ? `<parent dsq:id="c${i - 1}"/>` : '';
    const at = new Date(Date.UTC(2012, 0, 1) + Math.floor(i / 2) * 1000).toISOString().replace(/\.\d+Z/, 'Z');
    parts.push(
      `<post dsq:id="c${i}"><message><![CDATA[<p>comment number ${i}.</p>]]></message><createdAt>${at}</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>n${i}</name></author><thread dsq:id="t${(parent === '' ? i : i - 1) % 5}"/>${parent}</post>\n`,
    );
  }
  parts.push('</disqus>\n');
  return parts.join('');
}

/** A small seeded generator (xorshift32): the kill points are random, and the seed in a failure's message. */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

test('resume: SIGKILLed at 20 random points, then run again, every comment is there exactly once', async (t) => {
  const n = 7000;
  const kills = 20;
  const seed = Date.now() % 2 ** 31;
  const random = seeded(seed);
  t.diagnostic(`kill points from seed ${seed}`);
  const file = path.join(tempDir(t), 'big.xml');
  fs.writeFileSync(file, bigDisqus(n));
  const data = tempDir(t);
  const points: number[] = [];
  for (let kill = 0; kill < kills; kill++) {
    // Killed once the k-th progress line (one every 1000 comments) is out, k random in 1..6: with 64 appends in
    // flight, the kill lands wherever they are, in comments written earlier (found again) or new ones.
    const k = 1 + Math.floor(random() * 6);
    points.push(k);
    const run = start(t, ['import', 'disqus', file, '--data', data, '--progress']);
    await run.stderrMatch(new RegExp(`(quire import: .*\\n){${k}}`));
    run.child.kill('SIGKILL');
    await run.done;
  }
  t.diagnostic(`killed after ${points.join(', ')} thousand comments`);
  const s = await importOk(t, ['disqus', file, '--data', data]);
  assert.equal(s.comments, n);
  assert.ok((s.existing as number) > 0, 'the killed runs wrote nothing?');
  const recs = records(data);
  assert.equal(recs.size, n);
  const seen = new Set<string>();
  for (const [id, r] of recs) {
    const m = /comment number (\d+)\./.exec(r.text);
    assert.ok(m, r.text);
    assert.ok(!seen.has(m[1] as string), `comment ${m[1]} twice`);
    seen.add(m[1] as string);
    if (Number(m[1]) % 3 === 2) assert.notEqual(r.parent, null, id);
  }
});
