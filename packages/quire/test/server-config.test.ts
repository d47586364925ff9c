import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, configFromEnv, DEFAULT_CONFIG, loadConfig, resolveConfig } from '../src/index.js';
import { request, spawnFixture, tempDir, waitExit } from './fixtures/srv-helpers.js';

/** The built CLI: this file is dist/test/server-config.test.js. */
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'bin.cjs');

/** The URL a starting server prints on stderr; the test's end kills the server if it still runs. */
function listening(t: TestContext, child: ChildProcess): Promise<string> {
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString('utf8');
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', () => reject(new Error(`exited early: ${err}`)));
  });
}

test('defaults are complete and safe: loopback, fsync on, no admin, comments for any page', () => {
  const c = resolveConfig();
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.durable, true);
  assert.equal(c.adminPasswordHash, null);
  assert.equal(c.editWindowSeconds, 900);
  assert.equal(c.moderation, 'off');
  assert.deepEqual(c.origins, []);
  assert.equal(c.dataDir, path.resolve(DEFAULT_CONFIG.dataDir));
});

test('environment variables set their fields with types checked', () => {
  const env = {
    QUIRE_DATA: '/srv/quire',
    QUIRE_PORT: '9000',
    QUIRE_HOST: '0.0.0.0',
    QUIRE_ORIGINS: 'https://Blog.Example.org/, https://other.example:8443',
    QUIRE_ADMIN_PASSWORD_HASH: 'scrypt$32768$8$1$c2FsdA==$aGFzaA==',
    QUIRE_MODERATION: 'all',
    QUIRE_EDIT_WINDOW: '600',
    QUIRE_TRUST_PROXY: 'true',
    QUIRE_MIN_COMPOSE_SECONDS: '0',
    QUIRE_DURABLE: 'false',
  };
  const c = loadConfig({ env });
  assert.equal(c.dataDir, '/srv/quire');
  assert.equal(c.port, 9000);
  assert.equal(c.host, '0.0.0.0');
  assert.deepEqual(c.origins, ['https://blog.example.org', 'https://other.example:8443']);
  assert.equal(c.adminPasswordHash, env.QUIRE_ADMIN_PASSWORD_HASH);
  assert.equal(c.moderation, 'all');
  assert.equal(c.editWindowSeconds, 600);
  assert.equal(c.trustProxy, true);
  assert.equal(c.spam.minComposeSeconds, 0);
  assert.equal(c.durable, false);
  assert.throws(() => configFromEnv({ QUIRE_PORT: 'eighty' }), ConfigError);
  assert.throws(() => configFromEnv({ QUIRE_DURABLE: 'maybe' }), ConfigError);
});

test('layers apply in order: file, then environment, then options', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'quire.json');
  fs.writeFileSync(file, JSON.stringify({ port: 1111, siteName: 'From file', spam: { maxLinks: 9 } }));
  const c = loadConfig({
    env: { QUIRE_CONFIG: file, QUIRE_PORT: '2222' },
    config: { siteName: 'From options' },
    host: '::1',
  });
  assert.equal(c.port, 2222);
  assert.equal(c.siteName, 'From options');
  assert.equal(c.spam.maxLinks, 9);
  assert.equal(c.spam.minComposeSeconds, DEFAULT_CONFIG.spam.minComposeSeconds, 'nested defaults stay');
  assert.equal(c.host, '::1');
  assert.equal(loadConfig({ env: {}, config: file }).siteName, 'From file');
});

test('a typo, a wrong type or a plain-text password in the config is an error naming the setting', (t) => {
  const bad: [unknown, RegExp][] = [
    [{ prot: 1 }, /unknown setting prot/],
    [{ spam: { maxLink: 1 } }, /unknown setting spam.maxLink/],
    [{ port: '80' }, /port must be a number/],
    [{ origins: 'https://a.example' }, /origins must be an array/],
    [{ origins: ['not a url'] }, /origins/],
    [{ moderation: 'sometimes' }, /moderation/],
    [{ adminPasswordHash: 'hunter2' }, /never a password/],
    [{ spam: { honeypotField: 'text' } }, /honeypotField/],
    [{ limits: { bodyBytes: 10 } }, /bodyBytes/],
    [{ publicUrl: 'javascript:x' }, /publicUrl/],
  ];
  for (const [input, re] of bad)
    assert.throws(() => resolveConfig(input as never), re, JSON.stringify(input));
  const file = path.join(tempDir(t), 'broken.json');
  fs.writeFileSync(file, '{ not json');
  assert.throws(() => loadConfig({ env: {}, config: file }), /not valid JSON/);
  assert.throws(
    () => loadConfig({ env: {}, config: path.join(path.dirname(file), 'missing.json') }),
    /cannot read/,
  );
});

test('serveCommand runs the service from command-line options and exits 0 on SIGTERM', async (t) => {
  const dataDir = path.join(tempDir(t), 'fresh', 'data');
  const child = spawnFixture('srv-serve', ['--data', dataDir, '--port', '0', '--host', '127.0.0.1'], {
    QUIRE_LOG_LEVEL: 'silent',
    QUIRE_CONFIG: '',
  });
  const url = await listening(t, child);
  const health = await request(url, 'GET', '/healthz');
  assert.equal(health.status, 200);
  assert.ok(fs.existsSync(path.join(dataDir, 'secret')), 'the data directory was created on first start');
  const exit = waitExit(child);
  child.kill('SIGTERM');
  assert.equal((await exit).code, 0);
});

test('quire serve sizes the threadpool for fsyncs in flight, unless UV_THREADPOOL_SIZE is set', async (t) => {
  /** Threads of a `quire serve` process once it listens (libuv starts all its pool threads at once). */
  const threads = async (poolSize: string | undefined) => {
    const env: NodeJS.ProcessEnv = { ...process.env, QUIRE_LOG_LEVEL: 'silent', QUIRE_CONFIG: '' };
    delete env.UV_THREADPOOL_SIZE;
    if (poolSize !== undefined) env.UV_THREADPOOL_SIZE = poolSize;
    const dataDir = path.join(tempDir(t), 'data');
    const args = ['serve', '--data', dataDir, '--port', '0', '--host', '127.0.0.1'];
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    const url = await listening(t, child);
    assert.equal((await request(url, 'GET', '/healthz')).status, 200);
    const n = fs.readdirSync(`/proc/${child.pid}/task`).length;
    const exit = waitExit(child);
    child.kill('SIGTERM');
    assert.equal((await exit).code, 0);
    return n;
  };
  const byDefault = await threads(undefined);
  const chosen = await threads('2');
  assert.equal(byDefault - chosen, 14, `${byDefault} threads by default, ${chosen} with a pool of 2`);
});

test('serveCommand reports a bad port or config as a usage error (exit 2)', async (t) => {
  const dir = tempDir(t);
  const badPort = await waitExit(spawnFixture('srv-serve', ['--port', 'http', '--data', dir]));
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port needs a number/);
  const cfg = path.join(dir, 'c.json');
  fs.writeFileSync(cfg, JSON.stringify({ colour: 'blue' }));
  const badConfig = await waitExit(
    spawnFixture('srv-serve', ['--config', cfg, '--data', dir, '--port', '0']),
  );
  assert.equal(badConfig.code, 2);
  assert.match(badConfig.stderr, /unknown setting colour/);
});
