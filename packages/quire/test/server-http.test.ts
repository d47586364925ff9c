import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { startTestServer } from './fixtures/srv-helpers.js';

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
