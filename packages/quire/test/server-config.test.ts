import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, configFromEnv, DEFAULT_CONFIG, loadConfig, resolveConfig } from '../src/index.js';
import { tempDir } from './fixtures/srv-helpers.js';

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
