/**
 * Issue 13: no synchronous filesystem call on the event loop in any request path. A server process runs under
 * `strace -f`, which names the thread of every syscall; the event loop is the process's main thread (tid = pid).
 * A request mix (form tokens, posts, retries, lists, edits, likes, admin pages, settings, logins and logouts,
 * counts, feeds; rate limits on) must not make one file syscall (%file: anything taking a path, plus fcntl and
 * flock) on that thread, but for non-blocking lock calls on a local filesystem (no I/O, microseconds): a slow
 * filesystem then slows the requests that touch it, never the others.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { hasCommand, requireOrSkip } from '@quire/testkit';
import {
  ADMIN_PASSWORD,
  adminPasswordHash,
  request,
  spawnServer,
  tempDir,
  waitExit,
} from './fixtures/srv-helpers.js';

/** strace attached to every thread of `pid`, writing to `out`; resolves once the main thread is traced. */
async function traceProcess(pid: number, out: string): Promise<ChildProcess> {
  const strace = spawn(
    'strace',
    ['-f', '-e', 'trace=%file,fcntl,flock', '-e', 'signal=none', '-o', out, '-p', String(pid)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  await new Promise<void>((resolve, reject) => {
    strace.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      // strace reports each thread it attached to; the main thread (tid = pid) is the one that matters.
      if (new RegExp(`Process ${pid} attached`).test(err)) resolve();
    });
    strace.once('exit', (code) => reject(new Error(`strace exited ${code}: ${err}`)));
  });
  return strace;
}

/**
 * The syscall lines of an `strace -f -o` file made by thread `tid`, one per call: a call another thread
 * interrupted is written twice, `name(args <unfinished ...>` then `<... name resumed>`, and is judged by its
 * first line, the one with its arguments. Not counted: naming a thread a worker pool starts on demand (libuv
 * writes `/proc/self/task/<tid>/comm`), which touches no filesystem a request depends on.
 */
function linesOfThread(file: string, tid: number): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${tid} `) && !/^\d+ +(\+\+\+|---|<\.\.\. \w+ resumed>)/.test(l))
    .filter((l) => !/"\/proc\/self\/task\/\d+\/comm"/.test(l));
}

const LIMITED = ['requests', 'posts', 'edits', 'likes', 'login', 'threads', 'threadsTotal', 'loginsTotal'];

type Send = (
  method: string,
  p: string,
  body?: unknown,
  headers?: Record<string, string>,
) => ReturnType<typeof request>;

/** One round of every kind of request, on pages of its own (`round` keeps them apart). */
async function requestMix(send: Send, round: number, admin: Record<string, string>): Promise<void> {
  const uris = [0, 1, 2].map((i) => `https://blog.example.org/loop/${round}/${i}`);
  const ok = (r: { status: number; text: string }, ...want: number[]) =>
    assert.ok(want.includes(r.status), `${r.status} ${r.text}`);
  await Promise.all(
    uris.map(async (uri, i) => {
      const token = (await send('GET', `/api/form-token?uri=${encodeURIComponent(uri)}`)).body.formToken;
      const nonce = `n-${round}-${i}-0123456789abcdef`;
      const first = await send('POST', '/api/comments', {
        uri,
        text: `first ${round} ${i}`,
        formToken: token,
        nonce,
      });
      ok(first, 201);
      const retry = await send('POST', '/api/comments', {
        uri,
        text: `first ${round} ${i}`,
        formToken: token,
        nonce,
      });
      ok(retry, 200, 201);
      const reply = await send('POST', '/api/comments', {
        uri,
        text: `reply ${round} ${i}`,
        formToken: token,
        parent: first.body.comment.id,
      });
      ok(reply, 201);
      ok(await send('GET', `/api/comments?uri=${encodeURIComponent(uri)}`), 200);
      const edit = { 'x-quire-edit-token': first.body.editToken as string };
      ok(
        await send('PATCH', `/api/comments/${first.body.comment.id}`, { text: `edited ${round} ${i}` }, edit),
        200,
      );
      ok(await send('POST', `/api/comments/${reply.body.comment.id}/like`), 200);
      ok(await send('GET', `/api/admin/comments/${reply.body.comment.id}`, undefined, admin), 200);
      ok(
        await send('PATCH', `/api/admin/comments/${first.body.comment.id}`, { text: 'moderated' }, admin),
        200,
      );
      ok(await send('GET', `/api/comments?uri=${encodeURIComponent(uri)}`), 200);
      ok(
        await send('DELETE', `/api/comments/${reply.body.comment.id}`, undefined, {
          'x-quire-edit-token': reply.body.editToken as string,
        }),
        200,
        204,
      );
    }),
  );
  ok(await send('GET', `/api/counts?${uris.map((u) => `uri=${encodeURIComponent(u)}`).join('&')}`), 200);
  ok(await send('GET', '/feed.atom'), 200);
  ok(await send('GET', `/feed.atom?uri=${encodeURIComponent(uris[0] as string)}`), 200, 404);
  ok(await send('GET', '/api/admin/export', undefined, admin), 200);
  ok(await send('GET', '/api/admin/comments?status=all', undefined, admin), 200);
  ok(await send('GET', '/api/admin/settings', undefined, admin), 200);
  ok(await send('PUT', '/api/admin/settings', { moderation: round % 2 === 0 ? 'off' : 'all' }, admin), 200);
  ok(await send('PUT', '/api/admin/settings', { moderation: 'off' }, admin), 200);
  const session = await send('POST', '/api/admin/login', { password: ADMIN_PASSWORD });
  const bearer = { authorization: `Bearer ${session.body.token}` };
  ok(await send('POST', '/api/admin/logout', undefined, bearer), 200);
  ok(await send('GET', '/api/admin/comments', undefined, bearer), 401);
}

test('a request mix makes no file syscall on the event-loop thread', async (t) => {
  if (!requireOrSkip(t, hasCommand('strace'), 'strace is not installed')) return;
  const dir = tempDir(t);
  const server = await spawnServer(t, path.join(dir, 'data'), {
    adminPasswordHash: await adminPasswordHash(),
    spam: { minComposeSeconds: 0 },
    // Limits on, counted in the data directory (generous: the mix must not reach them).
    rateLimits: Object.fromEntries(LIMITED.map((b) => [b, { max: 10_000, windowSeconds: 3600 }])),
  });
  const send: Send = (method, p, body, headers) => request(server.url, method, p, body, headers);
  const login = await send('POST', '/api/admin/login', { password: ADMIN_PASSWORD });
  assert.equal(login.status, 200, login.text);
  const admin = { authorization: `Bearer ${login.body.token}` };
  // A first round loads what the process loads once (modules, workers), which is no request's cost.
  await requestMix(send, 0, admin);
  const pid = server.child.pid as number;
  const out = path.join(dir, 'strace.out');
  const strace = await traceProcess(pid, out);
  const traced = waitExit(strace);
  await requestMix(send, 1, admin);
  await requestMix(send, 2, admin);
  strace.kill('SIGINT');
  await traced;
  const all = fs
    .readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => /^\d+ /.test(l)).length;
  // The trace saw the other threads at work (the threadpool's opens and fsyncs): it was really listening.
  assert.ok(all > 0, 'strace recorded the threadpool');
  // Allowed: the non-blocking lock calls (F_OFD_SETLK, never F_OFD_SETLKW) @quire/fs makes on the caller's
  // thread on a filesystem that keeps its locks in memory, as the temp directory's does (local-fs.ts).
  const onLoop = linesOfThread(out, pid).filter((l) => !/ fcntl\(\d+, F_OFD_SETLK, /.test(l));
  assert.deepEqual(onLoop, [], `file syscalls on the event loop:\n${onLoop.slice(0, 40).join('\n')}`);
});
