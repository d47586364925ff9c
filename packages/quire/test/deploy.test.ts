/**
 * deploy/: the systemd unit passes `systemd-analyze verify` and a security review, its descriptor limit matches
 * the connection caps, its writable path is its data directory; the nginx and Caddy examples pass their own
 * checkers; the container file runs the README's commands; both run node with the memory settings.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { hasCommand, requireOrSkip } from '@quire/testkit';
import { missingMemorySettings } from '../src/cli/serve.js';
import { MAX_CONNECTIONS, RESERVED_FDS } from '../src/server/connections.js';
import { fixturesDir, tempDir } from './fixtures/srv-helpers.js';

const REPO = path.join(fixturesDir, '..', '..', '..', '..', '..');
const DEPLOY = path.join(REPO, 'deploy');
const read = (name: string) => fs.readFileSync(path.join(DEPLOY, name), 'utf8');

/** The unit's `Key=value` lines (last one wins, as systemd reads them). */
function unitKeys(text: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) keys.set(m[1] as string, m[2] as string);
  }
  return keys;
}

test('the systemd unit: verify and security review are clean, limits match the connection caps', (t) => {
  if (!requireOrSkip(t, hasCommand('systemd-analyze'), 'needs systemd-analyze (apt-get install systemd)'))
    return;
  const dir = tempDir(t);
  // verify checks that ExecStart's program exists: point it at this checkout and this Node.
  const unit = read('quire.service')
    .replaceAll('/opt/quire', REPO)
    .replaceAll('/usr/bin/node', process.execPath);
  const file = path.join(dir, 'quire.service');
  fs.writeFileSync(file, unit);
  const v = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  // verify exits 0 on unknown keys and unparsable values ("ignoring"): any word about the unit is a failure.
  assert.equal(
    `${v.stdout}${v.stderr}`
      .split('\n')
      .filter((l) => l.includes('quire.service'))
      .join('\n'),
    '',
  );
  const s = spawnSync(
    'systemd-analyze',
    ['security', '--offline=true', '--threshold=20', '--no-pager', file],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(s.status, 0, `exposure above 2.0:\n${s.stdout.split('\n').slice(-3).join('\n')}`);

  const keys = unitKeys(unit);
  assert.equal(Number(keys.get('LimitNOFILE')), MAX_CONNECTIONS + RESERVED_FDS);
  const data = /--data (\S+)/.exec(keys.get('ExecStart') ?? '')?.[1];
  assert.equal(keys.get('ReadWritePaths'), data);
  assert.equal(keys.get('RequiresMountsFor'), data);
  for (const [k, v] of [
    ['User', 'quire'],
    ['ProtectSystem', 'strict'],
    ['NoNewPrivileges', 'yes'],
    ['PrivateTmp', 'yes'],
    ['CapabilityBoundingSet', ''],
  ])
    assert.equal(keys.get(k as string), v, k);
});

test('the nginx example passes nginx -t', (t) => {
  if (!requireOrSkip(t, hasCommand('nginx'), 'needs nginx (apt-get install nginx)')) return;
  const dir = tempDir(t);
  const main = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    main,
    `worker_processes 1;\nerror_log stderr;\npid ${dir}/nginx.pid;\nevents { worker_connections 64; }\n` +
      `http { access_log off; include ${path.join(DEPLOY, 'nginx.conf')}; }\n`,
  );
  const r = spawnSync('nginx', ['-t', '-p', dir, '-c', main], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /test is successful/);
  assert.match(read('nginx.conf'), /proxy_set_header X-Forwarded-For \$remote_addr;/);
});

test('the Caddy example passes caddy validate', (t) => {
  if (!requireOrSkip(t, hasCommand('caddy'), 'needs caddy (apt-get install caddy)')) return;
  const dir = tempDir(t);
  // Caddy wants a home for its certificate storage even to validate.
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  const r = spawnSync(
    'caddy',
    ['validate', '--config', path.join(DEPLOY, 'Caddyfile'), '--adapter', 'caddyfile'],
    {
      encoding: 'utf8',
      env,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /Valid configuration/);
});

test("the container file builds with the README's commands and serves on the data volume", () => {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const file = read('Containerfile');
  for (const cmd of ['npm ci', 'npm run build']) {
    assert.ok(readme.includes(cmd), `README has ${cmd}`);
    assert.match(file, new RegExp(`^RUN .*${cmd}`, 'm'), `Containerfile runs ${cmd}`);
  }
  assert.match(file, /^CMD \["node", "packages\/quire\/bin\/quire\.cjs", "serve"\]$/m);
  assert.match(file, /^ENV QUIRE_DATA=\/data /m);
  assert.match(file, /^USER node$/m);
  // The command the image runs exists in this checkout.
  execFileSync(process.execPath, [path.join(REPO, 'packages/quire/bin/quire.cjs'), 'serve', '--help'], {
    stdio: 'ignore',
  });
});

test('both deploy files run the service with every memory setting quire serve asks for', () => {
  // The unit: node's flags on ExecStart, the environment from its Environment= lines (quotes as systemd reads).
  const unit = read('quire.service');
  const unitArgs = (unitKeys(unit).get('ExecStart') ?? '').split(/\s+/);
  const unitEnv: NodeJS.ProcessEnv = {};
  for (const m of unit.matchAll(/^Environment=(?:"([^"]*)"|(.*))$/gm)) {
    const [k, ...v] = (m[1] ?? m[2] ?? '').split('=');
    unitEnv[k as string] = v.join('=');
  }
  assert.deepEqual(missingMemorySettings(unitArgs.slice(1, unitArgs.indexOf('serve')), unitEnv), []);
  // The container: CMD's flags, ENV's variables.
  const file = read('Containerfile');
  const cmd = JSON.parse(/^CMD (.*)$/m.exec(file)?.[1] ?? '[]') as string[];
  const env: NodeJS.ProcessEnv = {};
  for (const line of file.split('\n').filter((l) => l.startsWith('ENV ')))
    for (const m of line.slice(4).matchAll(/(\w+)=("[^"]*"|\S+)/g))
      env[m[1] as string] = (m[2] as string).replace(/^"|"$/g, '');
  assert.deepEqual(missingMemorySettings(cmd.slice(1, -2), env), []);
  assert.equal(
    missingMemorySettings(cmd.slice(1, -2), {}).length,
    5,
    'without ENV the check sees all missing',
  );
});
