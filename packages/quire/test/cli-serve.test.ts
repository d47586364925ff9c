/** `quire serve` and `quire hash-password`: the comment service from the command line. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { assertError, quire, type Running, start, tempDir, text } from './fixtures/cli-helpers.js';
import { request } from './fixtures/srv-helpers.js';

const PASSWORD = 'correct horse battery';

/** The environment of a `quire serve` under test: this process's without its QUIRE_* settings, then `settings`. */
function serveEnv(settings: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('QUIRE_')) env[k] = v;
  return { ...env, QUIRE_LOG_LEVEL: 'silent', ...settings };
}

/** Starts `quire serve --data DIR --port 0 ARGS...` and resolves with its URL once it listens. */
async function serve(
  t: TestContext,
  dataDir: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = serveEnv(),
): Promise<{ url: string; server: Running }> {
  const server = start(t, ['serve', '--data', dataDir, '--port', '0', '--host', '127.0.0.1', ...args], env);
  const [, url] = await server.stderrMatch(/listening on (http:\/\/\S+)\n/);
  return { url: url as string, server };
}

/** Stops a server with SIGTERM and checks it exits 0. */
async function stop(server: Running): Promise<void> {
  server.child.kill('SIGTERM');
  const r = await server.done;
  assert.equal(r.code, 0, r.stderr);
}

/** The status of POST /api/admin/login with `password`. */
async function login(url: string, password: string): Promise<number> {
  return (await request(url, 'POST', '/api/admin/login', { password })).status;
}

/** A file holding `content`, with `mode`. */
function secretFile(t: TestContext, content: string, mode: number): string {
  const file = path.join(tempDir(t), 'admin.hash');
  fs.writeFileSync(file, content);
  fs.chmodSync(file, mode);
  return file;
}

async function hashOf(t: TestContext, password: string): Promise<string> {
  const r = await quire(t, ['hash-password'], `${password}\n`);
  assert.equal(r.code, 0, r.stderr);
  return text(r).trimEnd();
}

test('serve runs the service from command-line options and exits 0 on SIGTERM', async (t) => {
  const dataDir = path.join(tempDir(t), 'fresh', 'data');
  const { url, server } = await serve(t, dataDir);
  assert.equal((await request(url, 'GET', '/healthz')).status, 200);
  assert.ok(fs.existsSync(path.join(dataDir, 'secret')), 'the data directory was created on first start');
  await stop(server);
});

test('serve warns loudly at start when no origins are set, and not when they are', async (t) => {
  const open = await serve(t, tempDir(t));
  await stop(open.server);
  assert.match((await open.server.done).stderr, /WARNING: no origins are configured/);
  const env = serveEnv({ QUIRE_ORIGINS: 'https://blog.example.org' });
  const closed = await serve(t, tempDir(t), [], env);
  await stop(closed.server);
  assert.doesNotMatch((await closed.server.done).stderr, /WARNING/);
});

test('serve reports a bad port or a bad config as a usage error (exit 2)', async (t) => {
  const dir = tempDir(t);
  const badPort = await quire(t, ['serve', '--port', 'http', '--data', dir], '', serveEnv());
  assertError(badPort, 2, 'quire serve', /--port takes a whole number/);
  const cfg = path.join(dir, 'c.json');
  fs.writeFileSync(cfg, JSON.stringify({ colour: 'blue' }));
  const badConfig = await quire(t, ['serve', '--config', cfg, '--data', dir, '--port', '0'], '', serveEnv());
  assertError(badConfig, 2, 'quire serve', /unknown setting colour/, false);
});

test('the startup log shows the moderation in effect, settings.json over the config', async (t) => {
  const dataDir = tempDir(t);
  // What the admin API writes when a moderator turns moderation on.
  fs.writeFileSync(path.join(dataDir, 'settings.json'), '{ "moderation": "all" }\n');
  const { server } = await startLogging(t, dataDir);
  const line = await logLine(server, 'quire is listening');
  assert.equal(line.moderation, 'all');
  await stop(server);
});

/** `quire serve` at log level info, so that its JSON log lines are on standard output. */
async function startLogging(t: TestContext, dataDir: string): Promise<{ url: string; server: Running }> {
  return serve(t, dataDir, [], serveEnv({ QUIRE_LOG_LEVEL: 'info', QUIRE_MODERATION: 'off' }));
}

/** The first JSON log line on standard output whose msg is `msg`. */
async function logLine(server: Running, msg: string): Promise<Record<string, unknown>> {
  for (let n = 1; ; n++) {
    const line = (await server.lines(n))[n - 1] as string;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.msg === msg) return entry;
  }
}

test('serve --admin-password-file takes the hash quire hash-password printed', async (t) => {
  const file = secretFile(t, `${await hashOf(t, PASSWORD)}\n`, 0o600);
  const { url, server } = await serve(t, tempDir(t), ['--admin-password-file', file]);
  assert.equal(await login(url, PASSWORD), 200);
  assert.equal(await login(url, 'not the password'), 401);
  await stop(server);
  assert.equal((await server.done).stderr.includes('warning'), false);
});

test('QUIRE_ADMIN_PASSWORD_FILE and the config key adminPasswordFile do the same as the flag', async (t) => {
  const file = secretFile(t, await hashOf(t, PASSWORD), 0o400);
  const fromEnv = await serve(t, tempDir(t), [], serveEnv({ QUIRE_ADMIN_PASSWORD_FILE: file }));
  assert.equal(await login(fromEnv.url, PASSWORD), 200);
  await stop(fromEnv.server);
  const config = path.join(tempDir(t), 'quire.json');
  fs.writeFileSync(config, JSON.stringify({ adminPasswordFile: file }));
  const fromConfig = await serve(t, tempDir(t), ['--config', config]);
  assert.equal(await login(fromConfig.url, PASSWORD), 200);
  await stop(fromConfig.server);
});

test('a plain password in the admin password file works, with a warning on stderr', async (t) => {
  const file = secretFile(t, `${PASSWORD}\n`, 0o600);
  const { url, server } = await serve(t, tempDir(t), ['--admin-password-file', file]);
  assert.equal(await login(url, PASSWORD), 200);
  await stop(server);
  assert.match(
    (await server.done).stderr,
    /^quire serve: warning: admin password file .* holds a plain password/m,
  );
});

test('serve refuses an admin password file that group or others can read', async (t) => {
  const file = secretFile(t, await hashOf(t, PASSWORD), 0o644);
  const r = await quire(t, ['serve', '--data', tempDir(t), '--admin-password-file', file], '', serveEnv());
  assertError(
    r,
    2,
    'quire serve',
    /is readable by group or others \(mode 0644\); make it private: chmod 600 /,
    false,
  );
});

test('serve refuses both an admin password hash and an admin password file', async (t) => {
  const hash = await hashOf(t, PASSWORD);
  const file = secretFile(t, hash, 0o600);
  const env = serveEnv({ QUIRE_ADMIN_PASSWORD_HASH: hash });
  const r = await quire(t, ['serve', '--data', tempDir(t), '--admin-password-file', file], '', env);
  assertError(r, 2, 'quire serve', /not both/, false);
});

test('serve sizes the threadpool for fsyncs in flight, unless UV_THREADPOOL_SIZE is set', async (t) => {
  /**
   * Threads of a `quire serve` process once it listens (libuv starts all its pool threads at once), less
   * @quire/fs's own publish threads (named quire-fs-io), which start on demand and so vary from run to run.
   */
  const threads = async (poolSize: string | undefined) => {
    const env = serveEnv();
    delete env.UV_THREADPOOL_SIZE;
    if (poolSize !== undefined) env.UV_THREADPOOL_SIZE = poolSize;
    const { url, server } = await serve(t, tempDir(t), [], env);
    assert.equal((await request(url, 'GET', '/healthz')).status, 200);
    const tasks = `/proc/${server.child.pid}/task`;
    const n = fs
      .readdirSync(tasks)
      .filter(
        (tid) => fs.readFileSync(path.join(tasks, tid, 'comm'), 'utf8').trim() !== 'quire-fs-io',
      ).length;
    await stop(server);
    return n;
  };
  const byDefault = await threads(undefined);
  const chosen = await threads('2');
  assert.equal(byDefault - chosen, 14, `${byDefault} threads by default, ${chosen} with a pool of 2`);
});
