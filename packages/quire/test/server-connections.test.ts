import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import {
  connectionCapFor,
  limitConnections,
  openFileLimits,
  raiseOpenFileLimit,
} from '../src/server/connections.js';

/** A server whose /hold requests wait until released, with the guard on it. */
async function serve(perClient: number, total: number) {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('ok');
  });
  const guard = limitConnections(server, { perClient, total, exempt: () => false });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { server, guard, port, held, close };
}

/** A slowloris connection from `from`: the start of a request and nothing more. */
async function slow(port: number, from: string): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1', localAddress: from });
  s.on('error', () => {});
  await once(s, 'connect');
  s.write('GET / HTTP/1.1\r\nHost: x\r\n');
  return s;
}

/** Resolves once the socket is closed, also if it already is. */
function closed(s: net.Socket): Promise<unknown> {
  return s.closed ? Promise.resolve() : once(s, 'close');
}

function get(port: number, from: string, path = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ port, host: '127.0.0.1', localAddress: from, path, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

test('one client cannot hold more than perClient connections; others are served', async (t) => {
  const s = await serve(4, 1000);
  t.after(s.close);
  const sockets: net.Socket[] = [];
  for (let i = 0; i < 6; i++) sockets.push(await slow(s.port, '127.0.0.2'));
  // The two newest are closed by the server; the first four stay.
  await Promise.all(sockets.slice(4).map(closed));
  assert.deepEqual(s.guard.closed(), { perClient: 2, shed: 0 });
  assert.equal(sockets.slice(0, 4).filter((x) => x.destroyed).length, 0);
  assert.equal(await get(s.port, '127.0.0.3'), 200);
});

test('at the total cap a slow connection makes room for a reader; one serving a request never does', async (t) => {
  const s = await serve(1000, 6);
  t.after(s.close);
  const holding = new Promise<number>((resolve, reject) => {
    http
      .get(
        { port: s.port, host: '127.0.0.1', localAddress: '127.0.0.9', path: '/hold', agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      )
      .on('error', reject);
  });
  while (s.held.length === 0) await once(s.server, 'request');
  const slowOnes: net.Socket[] = [];
  for (let i = 0; i < 5; i++) slowOnes.push(await slow(s.port, `127.0.0.${20 + i}`));
  assert.equal(s.guard.open(), 6);
  // Full: a reader takes the place of the slow connection idle longest, every time the server is full.
  for (let i = 0; i < 2; i++) {
    assert.equal(await get(s.port, `127.0.0.${30 + i}`), 200);
    await closed(slowOnes[i] as net.Socket);
    assert.equal(s.guard.closed().shed, i + 1);
    slowOnes.push(await slow(s.port, `127.0.0.${40 + i}`));
  }
  assert.equal(slowOnes.filter((x) => x.closed).length, 2);
  (s.held[0] as http.ServerResponse).end('done');
  assert.equal(await holding, 200);
});

test('the descriptor limit is read, raised within the hard limit, and the cap kept below it', () => {
  const limits = openFileLimits();
  if (limits === undefined) {
    // Linux only; elsewhere raiseOpenFileLimit leaves the limit as it is.
    assert.equal(raiseOpenFileLimit(4096), undefined);
    return;
  }
  const soft = raiseOpenFileLimit(limits.hard === Number.POSITIVE_INFINITY ? 65_536 : limits.hard);
  assert.ok(soft !== undefined && soft >= limits.soft);
  assert.ok(connectionCapFor(soft) <= (soft as number) - 256 || connectionCapFor(soft) === 16);
  assert.equal(connectionCapFor(1024), 768);
  assert.equal(connectionCapFor(1_000_000), 16_384);
});
