// A child process for the service benchmark: `quire` (the real server) or `bare` (node:http answering one fixed
// body). Prints its URL on stdout once it listens; exits on SIGTERM.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { startServer } from 'quire';

const [kind, arg] = process.argv.slice(2);

if (kind === 'quire') {
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
      },
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
} else {
  throw new Error(`usage: service-worker quire DATADIR | bare BODYFILE`);
}
