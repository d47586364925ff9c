import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { hashPassword, threadIdOf } from '../src/index.js';
import { PAGE, pool, prng, startTestServer, tempDir } from './fixtures/srv-helpers.js';

interface Req {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface Res {
  status: number;
  contentType: string;
  text: string;
}

const TOTAL = 10_200;
const SEED = 20261126;

function send(port: number, agent: http.Agent, r: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...r.headers };
    if (r.body !== undefined && headers['transfer-encoding'] === undefined)
      headers['content-length'] = r.body.length;
    const req = http.request(
      { host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v));
}

test('over 10,000 malformed requests each get a 4xx problem+json, never a 5xx or a crash', async (t) => {
  const parent = tempDir(t);
  const sentinel = path.join(parent, 'outside.txt');
  fs.writeFileSync(sentinel, 'untouched');
  const dataDir = path.join(parent, 'data');
  const s = await startTestServer(
    t,
    {
      adminPasswordHash: await hashPassword('fuzzing password'),
      limits: { textChars: 2000 },
      spam: { maxLinks: 3, duplicateWindowSeconds: 600 },
    },
    { dataDir },
  );
  const seeded = await s.post({ text: 'the one real comment', author: 'Seed' });
  assert.equal(seeded.status, 201);
  const realId: string = seeded.body.comment.id;
  const realToken: string = seeded.body.editToken;
  const formToken = await s.formToken();
  const tid = threadIdOf(PAGE);
  const rnd = prng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const JSON_H = { 'content-type': 'application/json' };
  const base = () => ({ uri: PAGE, text: `fuzz ${int(0, 1e9)}`, formToken });

  const wrongValues: unknown[] = [123, -1.5, 0, true, false, [], {}, [1, 2], { a: 1 }, [['x']], 1e308];
  const fields = [
    'uri',
    'title',
    'text',
    'author',
    'email',
    'website',
    'parent',
    'nonce',
    'formToken',
    'url',
  ];
  const badIds = [
    '../../secret',
    '..%2F..%2Fsecret',
    '%2e%2e%2f%2e%2e%2fsecret',
    '%00',
    'a%00b',
    `${tid}_20261126T100000Z-0%00`,
    `${tid}_..%2F..%2Fsecret`,
    `${tid}%2F..%2F..%2Fsecret`,
    '..%5C..%5Csecret',
    '%252e%252e%252f',
    'x'.repeat(300),
    `${tid}_20261126T100000Z-99999999999999999`,
    `${tid}_20261399T100000Z-0`,
    `${tid.toUpperCase()}_20261126T100000Z-0`,
    `${tid}_20200101T000000Z-0`,
    `nonexistent-${'0'.repeat(32)}_20261126T100000Z-0`,
    '%E2%80%AE',
    'null',
    'undefined',
    '__proto__',
    'constructor',
  ];
  const badUris = [
    '',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'file:///etc/passwd',
    '../../etc/passwd',
    '/relative',
    'https://a.example/\u0000',
    'https://a.example/a\u0000b',
    '\u0000',
    'https://',
    'http://[::1',
    'ftp://a.example/x',
    `https://a.example/${'a'.repeat(3000)}`,
    'https://a.example/ spaces',
    'https://a.example/\r\nSet-Cookie: x=y',
    '%',
    'https://a.example/%zz\u0000',
  ];

  const generators: [string, () => Req][] = [
    [
      'wrong-type',
      () => {
        const b: Record<string, unknown> = base();
        b[pick(fields)] = pick(wrongValues);
        return { kind: 'wrong-type', method: 'POST', path: '/api/comments', headers: JSON_H, body: json(b) };
      },
    ],
    [
      'missing-field',
      () => {
        const b: Record<string, unknown> = base();
        for (const f of pick([['uri'], ['text'], ['uri', 'text']])) delete b[f];
        return {
          kind: 'missing-field',
          method: 'POST',
          path: '/api/comments',
          headers: JSON_H,
          body: json(b),
        };
      },
    ],
    [
      'unknown-field',
      () => {
        const extra = pick([
          '"__proto__":{"polluted":true}',
          '"constructor":{"prototype":{"polluted":true}}',
          '"status":"approved"',
          '"email2":"x"',
          '"admin":true',
          '"ip":"1.2.3.4"',
          '"created":"2000-01-01T00:00:00Z"',
          `"${'x'.repeat(100)}":1`,
        ]);
        const text = JSON.stringify(base()).replace(/^\{/, `{${extra},`);
        return {
          kind: 'unknown-field',
          method: 'POST',
          path: '/api/comments',
          headers: JSON_H,
          body: Buffer.from(text),
        };
      },
    ],
    [
      'bad-json',
      () => {
        const full = JSON.stringify(base());
        const body = pick([
          () => full.slice(0, int(0, full.length - 2)),
          () => `${full}x`,
          () => `${full}${full}`,
          () => full.replace(/"/g, "'"),
          () => full.replace('"text":', '"text":NaN,"t":'),
          () => `/* c */${full}`,
          () => '{"uri":"a",}',
          () => '\ufeff\ufeff{}',
          () => 'null',
          () => '"just a string"',
          () => '[]',
          () => '1e999999',
        ])();
        const buf = Buffer.from(body);
        return { kind: 'bad-json', method: 'POST', path: '/api/comments', headers: JSON_H, body: buf };
      },
    ],
    [
      'invalid-utf8',
      () => {
        const bad = pick([
          [0xff],
          [0xc0, 0xaf],
          [0xed, 0xa0, 0x80],
          [0x80],
          [0xe2, 0x82],
          [0xf8, 0x88, 0x80, 0x80, 0x80],
        ]);
        const full = Buffer.from(JSON.stringify(base()));
        const at = full.indexOf('fuzz') + 2;
        const body = Buffer.concat([full.subarray(0, at), Buffer.from(bad), full.subarray(at)]);
        const target = pick(['/api/comments', '/api/preview', `/api/comments/${realId}`, '/api/admin/login']);
        const method = target === `/api/comments/${realId}` ? 'PATCH' : 'POST';
        return {
          kind: 'invalid-utf8',
          method,
          path: target,
          headers: { ...JSON_H, 'x-quire-edit-token': realToken },
          body,
        };
      },
    ],
    [
      'json-bomb',
      () => {
        const depth = int(1000, 8000);
        const nest = pick([
          () => `${'['.repeat(depth)}${']'.repeat(depth)}`,
          () => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
          () => `${'[{"a":'.repeat(depth / 2)}1${'}]'.repeat(depth / 2)}`,
        ])();
        const body = pick([
          () => nest,
          () => `{"uri":"${PAGE}","text":${nest},"formToken":"${formToken}"}`,
          () => `{"uri":"${PAGE}","text":"x","formToken":"${formToken}","deep":${nest}}`,
          () => `{"text":${nest}}`,
        ])();
        const target = pick(['/api/comments', '/api/preview', '/api/admin/login']);
        return { kind: 'json-bomb', method: 'POST', path: target, headers: JSON_H, body: Buffer.from(body) };
      },
    ],
    [
      'huge-body',
      () => {
        const size = int(64 * 1024 + 1, 300 * 1024);
        const body = Buffer.from(`{"uri":"${PAGE}","text":"${'x'.repeat(size)}"}`);
        const chunked = rnd() < 0.3;
        return {
          kind: 'huge-body',
          method: pick(['POST', 'POST', 'PATCH']),
          path: pick(['/api/comments', '/api/preview']),
          headers: { ...JSON_H, ...(chunked ? { 'transfer-encoding': 'chunked' } : {}) },
          body,
        };
      },
    ],
    [
      'wrong-content-type',
      () => {
        const ct = pick([
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          'application/octet-stream',
          'text/html',
          'image/png',
        ]);
        const b: Record<string, unknown> = base();
        delete b.text;
        return {
          kind: 'wrong-content-type',
          method: 'POST',
          path: pick(['/api/comments', '/api/preview']),
          headers: { 'content-type': ct },
          body: json(b),
        };
      },
    ],
    [
      'bad-id',
      () => {
        const id = pick(badIds);
        const which = pick([
          'patch',
          'delete',
          'like',
          'admin-get',
          'admin-approve',
          'admin-delete',
          'raw-dotdot',
        ]);
        const edit = { ...JSON_H, 'x-quire-edit-token': realToken };
        switch (which) {
          case 'patch':
            return {
              kind: 'bad-id',
              method: 'PATCH',
              path: `/api/comments/${id}`,
              headers: edit,
              body: json({ text: 'x' }),
            };
          case 'delete':
            return { kind: 'bad-id', method: 'DELETE', path: `/api/comments/${id}`, headers: edit };
          case 'like':
            return { kind: 'bad-id', method: 'POST', path: `/api/comments/${id}/like`, headers: {} };
          case 'admin-get':
            return { kind: 'bad-id', method: 'GET', path: `/api/admin/comments/${id}`, headers: {} };
          case 'admin-approve':
            return { kind: 'bad-id', method: 'POST', path: `/api/admin/comments/${id}/approve`, headers: {} };
          case 'admin-delete':
            return { kind: 'bad-id', method: 'DELETE', path: `/api/admin/comments/${id}`, headers: {} };
          default:
            return {
              kind: 'bad-id',
              method: pick(['GET', 'POST', 'DELETE']),
              path: pick([
                '/api/comments/../../secret',
                '/api/../secret',
                '/../../../etc/passwd',
                '/api/comments/./x/../like',
              ]),
              headers: {},
            };
        }
      },
    ],
    [
      'bad-uri',
      () => {
        const uri = pick(badUris);
        const enc = encodeURIComponent(uri);
        const where = pick(['list', 'counts', 'counts-many', 'feed', 'post', 'admin-list']);
        switch (where) {
          case 'list':
            return { kind: 'bad-uri', method: 'GET', path: `/api/comments?uri=${enc}`, headers: {} };
          case 'counts':
            return { kind: 'bad-uri', method: 'GET', path: `/api/counts?uri=${enc}`, headers: {} };
          case 'counts-many':
            return {
              kind: 'bad-uri',
              method: 'GET',
              path: `/api/counts?uri=${encodeURIComponent(PAGE)}&uri=${enc}`,
              headers: {},
            };
          case 'feed':
            return { kind: 'bad-uri', method: 'GET', path: `/feed.atom?uri=${enc}`, headers: {} };
          case 'admin-list':
            return { kind: 'bad-uri', method: 'GET', path: `/api/admin/comments?uri=${enc}`, headers: {} };
          default:
            return {
              kind: 'bad-uri',
              method: 'POST',
              path: '/api/comments',
              headers: JSON_H,
              body: json({ ...base(), uri }),
            };
        }
      },
    ],
    [
      'bad-query',
      () => {
        const u = encodeURIComponent(PAGE);
        const p = pick([
          '/api/comments',
          `/api/comments?uri=${u}&limit=abc`,
          `/api/comments?uri=${u}&limit=0`,
          `/api/comments?uri=${u}&limit=99999`,
          `/api/comments?uri=${u}&limit=-1`,
          `/api/comments?uri=${u}&order=sideways`,
          `/api/comments?uri=${u}&after=garbage`,
          `/api/comments?uri=${u}&after=${encodeURIComponent(`${threadIdOf('https://other.example/')}_20261126T100000Z-0`)}`,
          `/api/comments?uri=${u}&unknown=1`,
          `/api/comments?uri=${u}&uri=${u}`,
          '/api/comments?uri=%zz',
          `/api/counts?${Array.from({ length: 101 }, () => `uri=${u}`).join('&')}`,
          '/api/counts',
          `/feed.atom?uri=${u}&x=1`,
          '/api/admin/comments?status=bogus',
        ]);
        return { kind: 'bad-query', method: 'GET', path: p, headers: {} };
      },
    ],
    [
      'bad-token',
      () => {
        const token = pick([
          () => Buffer.from(String(rnd())).toString('base64url'),
          () => `${realToken.slice(0, -1)}${realToken.endsWith('A') ? 'B' : 'A'}`,
          () => `${realId}.${(Date.now() + 1e9).toString(36)}.${realToken.split('.').pop()}`,
          () => `${realToken}x`,
          () => `x,${'y'.repeat(int(1, 4000))}`,
          () => '.',
          () => '..',
          () => 'a.b.c.d.e',
        ])();
        const method = pick(['PATCH', 'DELETE']);
        return {
          kind: 'bad-token',
          method,
          path: `/api/comments/${realId}`,
          headers: { ...JSON_H, 'x-quire-edit-token': token },
          ...(method === 'PATCH' ? { body: json({ text: 'changed' }) } : {}),
        };
      },
    ],
    [
      'admin-unauthorised',
      () => {
        const auth = pick([
          '',
          'Bearer',
          'Bearer x',
          'Basic YWRtaW46eA==',
          `Bearer ${realToken}`,
          `Bearer a1-${'z'.repeat(8)}.sig`,
        ]);
        const route = pick([
          ['GET', '/api/admin/comments'],
          ['GET', '/api/admin/settings'],
          ['PUT', '/api/admin/settings'],
          ['POST', `/api/admin/comments/${realId}/approve`],
          ['POST', `/api/admin/comments/${realId}/spam`],
          ['PATCH', `/api/admin/comments/${realId}`],
          ['DELETE', `/api/admin/comments/${realId}`],
        ] as const);
        const hasBody = route[0] === 'PUT' || route[0] === 'PATCH';
        return {
          kind: 'admin-unauthorised',
          method: route[0],
          path: route[1],
          headers: { ...(auth ? { authorization: auth } : {}), ...(hasBody ? JSON_H : {}) },
          ...(hasBody ? { body: json({ moderation: 'all', text: 'x' }) } : {}),
        };
      },
    ],
    [
      'bad-url',
      () => ({
        kind: 'bad-url',
        method: pick(['GET', 'POST', 'DELETE']),
        path: pick([
          '/api/comments/%zz',
          '/api/comments/%E0%A4%A',
          '/api/%',
          '/api/comments/%/like',
          '/api/admin/comments/%c0',
        ]),
        headers: {},
      }),
    ],
    [
      'unknown-route',
      () => {
        const [method, p] = pick([
          ['PUT', '/api/comments'],
          ['DELETE', '/api/counts'],
          ['GET', '/api/nothing'],
          ['POST', '/healthz'],
          ['GET', '/api/comments/x/y/z'],
          ['PATCH', '/feed.atom'],
          ['GET', '/.env'],
          ['GET', '/secret'],
          ['GET', '/threads'],
          ['TRACE', '/'],
        ] as const);
        return { kind: 'unknown-route', method, path: p, headers: {} };
      },
    ],
    [
      'semantic',
      () => {
        const b: Record<string, unknown> = base();
        const [field, value] = pick([
          ['text', '   \n\t  '],
          ['text', `a\u0001b ${int(0, 1e9)}`],
          ['text', `lone \ud800 surrogate ${int(0, 1e9)}`],
          ['text', 'y'.repeat(2001)],
          [
            'text',
            `[a](https://a.example) [b](https://b.example) https://c.example www.d.example ${int(0, 1e9)}`,
          ],
          ['author', 'line\nbreak'],
          ['author', 'x'.repeat(101)],
          ['email', 'not-an-email'],
          ['email', 'a@b'],
          ['website', 'javascript:alert(1)'],
          ['website', 'data:text/html,x'],
          ['website', 'https://user:pw@example.org'],
          ['url', 'http://honeypot.example'],
          ['nonce', 'bad nonce!'],
          ['nonce', 'short'],
          ['parent', 'garbage'],
          ['parent', `${threadIdOf('https://other.example/')}_20261126T100000Z-0`],
          ['parent', `${tid}_20200101T000000Z-0`],
          ['formToken', 'forged.token'],
          ['formToken', ''],
          ['title', 'x'.repeat(301)],
          ['title', 'tab\tin title'],
        ] as const);
        b[field] = value;
        if (field === 'formToken' && value === '') delete b.formToken;
        return { kind: 'semantic', method: 'POST', path: '/api/comments', headers: JSON_H, body: json(b) };
      },
    ],
    [
      'preview-and-login',
      () => {
        const body = pick([
          json({ text: 'y'.repeat(2001) }),
          json({ text: 5 }),
          json({}),
          json({ text: 'x', more: 1 }),
          json({ password: 5 }),
          json({ password: '' }),
          json({}),
        ]);
        return {
          kind: 'preview-and-login',
          method: 'POST',
          path: pick(['/api/preview', '/api/admin/login']),
          headers: JSON_H,
          body,
        };
      },
    ],
  ];

  // A few real password checks (scrypt is slow on purpose); the rest of the login attempts are malformed.
  const requests: Req[] = Array.from({ length: 40 }, (_, i) => ({
    kind: 'wrong-password',
    method: 'POST',
    path: '/api/admin/login',
    headers: JSON_H,
    body: json({ password: `wrong password ${i}` }),
  }));
  while (requests.length < TOTAL) {
    const [, gen] = pick(generators);
    requests.push(gen());
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  t.after(() => agent.destroy());
  const byKind = new Map<string, Map<number, number>>();
  const failures: string[] = [];
  await pool(requests, 16, async (r, i) => {
    let res: Res;
    try {
      res = await send(s.server.port, agent, r);
    } catch (err) {
      failures.push(
        `#${i} ${r.kind} ${r.method} ${r.path.slice(0, 80)}: no answer (${(err as Error).message})`,
      );
      return;
    }
    const counts = byKind.get(r.kind) ?? new Map<number, number>();
    counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
    byKind.set(r.kind, counts);
    let problem: Record<string, unknown> | null = null;
    try {
      problem = JSON.parse(res.text);
    } catch {}
    const ok =
      res.status >= 400 &&
      res.status < 500 &&
      res.contentType.startsWith('application/problem+json') &&
      problem !== null &&
      typeof problem.type === 'string' &&
      typeof problem.title === 'string' &&
      typeof problem.detail === 'string' &&
      typeof problem.code === 'string' &&
      problem.status === res.status;
    if (!ok)
      failures.push(
        `#${i} ${r.kind} ${r.method} ${r.path.slice(0, 80)} -> ${res.status} ${res.contentType} ${res.text.slice(0, 200)}`,
      );
  });
  for (const [kind, counts] of [...byKind].sort()) {
    t.diagnostic(`${kind}: ${[...counts].map(([st, n]) => `${st}x${n}`).join(' ')}`);
  }
  assert.deepEqual(
    failures.filter((f, i) => i < 5 || !f.includes(' 201 ')).slice(0, 20),
    [],
    `${failures.length} of ${requests.length} requests misanswered`,
  );
  assert.ok(requests.length >= 10_000);

  // Still alive and well, nothing written by any of it, nothing outside the data directory touched.
  assert.equal((await s.request('GET', '/healthz')).status, 200);
  const list = await s.request('GET', `/api/comments?uri=${encodeURIComponent(PAGE)}`);
  assert.deepEqual(
    list.body.comments.map((c: { text: string }) => c.text),
    ['the one real comment'],
  );
  assert.deepEqual(fs.readdirSync(path.join(dataDir, 'threads')), [tid]);
  assert.equal(fs.readFileSync(sentinel, 'utf8'), 'untouched');
  const errors = s.logs.filter((l) => JSON.parse(l).level >= 50);
  assert.deepEqual(errors.slice(0, 3), [], 'no request made the server log an error');
});

/** Sends raw bytes on a fresh connection; resolves with whatever comes back before the server closes it. */
function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    sock.on('error', (err) =>
      chunks.length > 0 ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(err),
    );
    sock.end(bytes);
  });
}

test('requests that break HTTP itself are answered with a 4xx problem+json and the connection closed', async (t) => {
  const s = await startTestServer(t);
  const port = s.server.port;
  const cases = [
    'GARBAGE\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
    'GET /api/comments HTTP/1.1\r\nHost: x\r\nBad Header Name: x\r\n\r\n',
    'GET /api/comments HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n',
    `GET /api/comments HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    'POST /api/comments HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
    'POST /api/comments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n',
    'GET /api/comments\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
  ];
  for (const c of cases) {
    const answer = await raw(port, c);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
    assert.ok(status >= 400 && status < 500, `${JSON.stringify(c.slice(0, 60))} -> ${answer.slice(0, 120)}`);
    assert.match(answer, /content-type: application\/problem\+json/i, JSON.stringify(c.slice(0, 60)));
  }
  assert.equal((await s.request('GET', '/healthz')).status, 200);
});
