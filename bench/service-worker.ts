// A child process for the service benchmark: `quire` (the real server), `bare` (node:http answering one fixed
// body) or `bare-post` (node:http doing one durable createUnique per POST, nothing else: the ceiling of any
// service on this machine; what is posted to /warm goes to DIR-warm) or `fastify-post` (the same on Fastify with a
// validated body: the framework's own cost). Prints its URL on stdout once it listens; exits on SIGTERM.
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createUnique } from '@quire/fs';
import Fastify from 'fastify';
import { startServer } from 'quire';

const [kind, arg, extra] = process.argv.slice(2);

if (kind === 'quire') {
  // Issue 15's variant: notification settings (a webhook) as a third argument.
  const notify = extra === undefined ? {} : (JSON.parse(extra) as Record<string, unknown>);
  const s = await startServer({
    dataDir: arg as string,
    port: 0,
    host: '127.0.0.1',
    env: {},
    logger: false,
    config: {
      // The benchmark measures storage and HTTP, not the spam defences: they are off or out of reach.
      spam: { requireFormToken: false, minComposeSeconds: 0, duplicateWindowSeconds: 0, maxLinks: 100 },
      rateLimits: {
        requests: { max: 1e9, windowSeconds: 1 },
        posts: { max: 1e9, windowSeconds: 1 },
        edits: { max: 1e9, windowSeconds: 1 },
        likes: { max: 1e9, windowSeconds: 1 },
        login: { max: 1e9, windowSeconds: 1 },
        // 32 first posts at once on a new page each count as a new thread (10 per client per hour by default):
        // without these, a round's first second answers 429 for an hour.
        threads: { max: 1e9, windowSeconds: 1 },
        threadsTotal: { max: 1e9, windowSeconds: 1 },
      },
      ...notify,
    },
  });
  process.stdout.write(`${s.url}\n`);
} else if (kind === 'bare') {
  const body = readFileSync(arg as string);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number };
    process.stdout.write(`http://127.0.0.1:${a.port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (kind === 'bare-post') {
  const dir = arg as string;
  // The warm-up posts to /warm: its files go elsewhere, so the measured directory starts empty.
  const warmDir = `${dir}-warm`;
  mkdirSync(dir, { recursive: true });
  mkdirSync(warmDir, { recursive: true });
  const server = http.createServer((req, res) => {
    const into = req.url === '/warm' ? warmDir : dir;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      createUnique(into, Buffer.concat(chunks), { suffix: '.json' }).then(
        (r) => {
          const body = JSON.stringify({ name: r.name });
          res.writeHead(201, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          });
          res.end(body);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number };
    process.stdout.write(`http://127.0.0.1:${a.port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (kind === 'fastify-post') {
  // Fastify with nothing but a validated JSON body and one durable createUnique per POST: what the framework
  // quire is built on costs by itself, between the bare server and quire.
  const dir = arg as string;
  mkdirSync(dir, { recursive: true });
  mkdirSync(`${dir}-warm`, { recursive: true });
  const app = Fastify({ logger: false });
  const body = {
    type: 'object',
    required: ['uri', 'text'],
    properties: {
      uri: { type: 'string', maxLength: 2000 },
      text: { type: 'string', maxLength: 65536 },
      author: { type: 'string', maxLength: 200 },
      nonce: { type: 'string', maxLength: 64 },
      attempt: { type: 'integer', minimum: 1 },
    },
  };
  const reply201 = { 201: { type: 'object', properties: { name: { type: 'string' } } } };
  app.post('/*', { schema: { body, response: reply201 } }, async (req, reply) => {
    const into = req.url === '/warm' ? `${dir}-warm` : dir;
    const r = await createUnique(into, JSON.stringify(req.body), { suffix: '.json' });
    return reply.code(201).send({ name: r.name });
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${url}\n`);
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
} else {
  throw new Error(`usage: service-worker quire DATADIR | bare BODYFILE | bare-post DIR | fastify-post DIR`);
}
