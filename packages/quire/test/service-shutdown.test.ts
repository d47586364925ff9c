/** A real `quire serve` under slow clients: connection caps, tight timeouts, and SIGTERM within its grace period. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { hasCommand, requireOrSkip } from '@quire/testkit';
import { bin, tempDir } from './fixtures/cli-helpers.js';
import { request } from './fixtures/srv-helpers.js';

/** Starts `quire serve` (under `prefix`, e.g. prlimit) with `config`; resolves with its URL and its exit. */
async function serve(
  t: TestContext,
  config: object,
  prefix: string[] = [],
): Promise<{ url: string; port: number; child: ChildProcess; exit: Promise<number | null> }> {
  const dir = tempDir(t);
  const cfg = path.join(dir, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify(config));
  const argv = [
    process.execPath,
    bin,
    'serve',
    '--data',
    path.join(dir, 'data'),
    '--port',
    '0',
    '--config',
    cfg,
  ];
  const [cmd, ...args] = [...prefix, ...argv] as [string, ...string[]];
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, QUIRE_LOG_LEVEL: 'silent' };
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  t.after(() => child.kill('SIGKILL'));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /listening on (http:\/\/\S+)\n/.exec(stderr);
      if (m !== null) resolve(m[1] as string);
    });
    child.on('exit', () => reject(new Error(`quire serve exited: ${stderr}`)));
  });
  return { url, port: Number(new URL(url).port), child, exit };
}

/** Opens a connection from `localAddress`; resolves once connected (or closed by the server at once). */
function connect(t: TestContext, port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
    t.after(() => socket.destroy());
  });
}

/** A client that sends its request one byte at a time, a byte every 200 ms, and never finishes. */
function trickle(t: TestContext, socket: net.Socket, head: string): void {
  socket.write(head);
  const timer = setInterval(() => socket.writable && socket.write('x'), 200);
  socket.once('close', () => clearInterval(timer));
  t.after(() => clearInterval(timer));
}

test('SIGTERM exits 0 within the grace period, however slow the clients in flight', {
  timeout: 30_000,
}, async (t) => {
  const s = await serve(t, {
    shutdownGraceSeconds: 1,
    // Timeouts far away: only the grace period can end these connections.
    connections: { headersTimeoutSeconds: 600, requestTimeoutSeconds: 600 },
  });
  const clients = [];
  for (let i = 0; i < 20; i++) {
    const socket = await connect(t, s.port, '127.0.0.1');
    // Half send a body that never ends (a request in flight), half headers that never end.
    const head =
      i % 2 === 0
        ? 'POST /api/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n'
        : 'GET /api/counts?uri=x HTTP/1.1\r\nHost: x\r\nX-Slow: ';
    trickle(t, socket, head);
    clients.push(socket);
  }
  assert.equal((await request(s.url, 'GET', '/healthz')).status, 200);
  s.child.kill('SIGTERM');
  assert.equal(await s.exit, 0);
});

test('a flood of slow connections from several addresses: /healthz and readers keep being answered', {
  timeout: 60_000,
}, async (t) => {
  if (!requireOrSkip(t, hasCommand('prlimit'), 'prlimit (util-linux) sets the descriptor limit')) return;
  // A descriptor limit the flood exceeds: without caps, accept() fails and every new client gets an empty reply.
  const s = await serve(t, {}, ['prlimit', '--nofile=320:320']);
  const slow: Promise<net.Socket>[] = [];
  for (let a = 2; a < 8; a++) {
    for (let i = 0; i < 60; i++) {
      slow.push(
        connect(t, s.port, `127.0.0.${a}`).then((socket) => {
          if (!socket.destroyed) socket.write('GET /api/counts?uri=x HTTP/1.1\r\nHost: x\r\nX-Slow: ');
          return socket;
        }),
      );
    }
  }
  const sockets = await Promise.all(slow);
  assert.equal(sockets.length, 360);
  for (let round = 0; round < 3; round++) {
    const health = await request(s.url, 'GET', '/healthz', undefined, { connection: 'close' });
    assert.equal(health.status, 200);
    const read = await request(
      s.url,
      'GET',
      '/api/comments?uri=https%3A%2F%2Fblog.example.org%2Fa',
      undefined,
      {
        connection: 'close',
      },
    );
    assert.equal(read.status, 200, read.text);
  }
  s.child.kill('SIGTERM');
  assert.equal(await s.exit, 0);
});
