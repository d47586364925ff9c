import fs from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  checkHostSettings,
  checkNotify,
  checkServiceLimits,
  checkWebhooks,
  isPlainObject,
} from './config-checks.js';
import { DEFAULT_CONFIG } from './config-defaults.js';
import type { QuireConfig } from './config-types.js';

export { ConfigError } from './config-checks.js';

export { DEFAULT_CONFIG, DEFAULT_TRACKING_PARAMS } from './config-defaults.js';
export type {
  AvatarsConfig,
  ConnectionsConfig,
  LimitsConfig,
  MarkdownConfig,
  NotifyConfig,
  QuireConfig,
  RateLimit,
  RateLimitsConfig,
  SmtpConfig,
  SpamConfig,
  UriConfig,
  WebhookConfig,
} from './config-types.js';

/** Any subset of the config, nested objects included. */
export type QuireConfigInput = {
  [K in keyof QuireConfig]?: QuireConfig[K] extends unknown[] | string | number | boolean | null
    ? QuireConfig[K]
    : QuireConfig[K] extends object
      ? DeepPartial<QuireConfig[K]>
      : QuireConfig[K];
};

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends unknown[] | string | number | boolean | null
    ? T[K]
    : T[K] extends object
      ? DeepPartial<T[K]>
      : T[K];
};

/**
 * Environment variables and the config field each one sets. QUIRE_CONFIG names a JSON config file.
 * Lists are comma-separated; booleans are `true`/`false`/`1`/`0`.
 */
export const ENV_VARS: Readonly<Record<string, string>> = {
  QUIRE_DATA: 'dataDir',
  QUIRE_HOST: 'host',
  QUIRE_PORT: 'port',
  QUIRE_ORIGINS: 'origins',
  QUIRE_PUBLIC_URL: 'publicUrl',
  QUIRE_SITE_NAME: 'siteName',
  QUIRE_ADMIN_PASSWORD_HASH: 'adminPasswordHash',
  QUIRE_ADMIN_PASSWORD_FILE: 'adminPasswordFile',
  QUIRE_MODERATION: 'moderation',
  QUIRE_EDIT_WINDOW: 'editWindowSeconds',
  QUIRE_TRUST_PROXY: 'trustProxy',
  QUIRE_LOG_LEVEL: 'logLevel',
  QUIRE_DURABLE: 'durable',
  QUIRE_MIN_COMPOSE_SECONDS: 'spam.minComposeSeconds',
  QUIRE_MAX_LINKS: 'spam.maxLinks',
  QUIRE_BODY_LIMIT: 'limits.bodyBytes',
  QUIRE_VERIFY_PAGES: 'verifyPages',
  QUIRE_VERIFY_PAGES_ALLOW_PRIVATE: 'verifyPagesAllowPrivate',
  QUIRE_MODERATOR_NAMES: 'moderatorNames',
  QUIRE_KEEP_PARAMS: 'uri.keepParams',
  QUIRE_SHUTDOWN_GRACE: 'shutdownGraceSeconds',
  // Several instances on one data directory (issue 13).
  QUIRE_LOCK_WAIT_MS: 'deadlines.lockWaitMs',
  QUIRE_REQUEST_DEADLINE_MS: 'deadlines.requestMs',
  QUIRE_RETRY_AFTER_SECONDS: 'deadlines.retryAfterSeconds',
  QUIRE_VIEW_LIST_AFTER_MS: 'freshness.viewListAfterMs',
  // Issue 15 (outbox).
  QUIRE_SMTP_URL: 'smtp.url',
  QUIRE_SMTP_FROM: 'smtp.from',
  QUIRE_SMTP_USER: 'smtp.user',
  QUIRE_SMTP_PASSWORD_FILE: 'smtp.passwordFile',
  QUIRE_NOTIFY_MODERATORS: 'notify.moderators',
  QUIRE_NOTIFY_MODERATOR_EVENTS: 'notify.moderatorEvents',
  // widget15 (issue 15)
  QUIRE_GRAVATAR: 'avatars.gravatar',
  // Issue 16 (scale).
  QUIRE_CACHE_INDEX_BYTES: 'cache.indexBytes',
  QUIRE_CACHE_RECORD_BYTES: 'cache.recordBytes',
  QUIRE_CACHE_PAGE_BYTES: 'cache.pageBytes',
  QUIRE_CACHE_MARKDOWN_BYTES: 'cache.markdownBytes',
  QUIRE_CACHE_SUMMARY_BYTES: 'cache.summaryBytes',
};

/** Settings that are a string or null (their default). */
const NULLABLE_STRINGS = [
  'publicUrl',
  'adminPasswordHash',
  'adminPasswordFile',
  // Issue 15 (outbox).
  'smtp.url',
  'smtp.from',
  'smtp.user',
  'smtp.passwordFile',
];

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/**
 * Checks `input` against the shape of `template` (the defaults): unknown keys and values of the wrong type are
 * errors, so a typo in a config file is reported instead of silently ignored. Returns template merged with input.
 */
function mergeChecked(template: unknown, input: unknown, where: string): unknown {
  if (input === undefined) return template;
  if (where === 'uri.hostAliases') {
    if (!isPlainObject(input) || !Object.values(input).every((v) => typeof v === 'string')) {
      throw new ConfigError(`${where} must be an object of host names to host names`);
    }
    return { ...(template as Record<string, string>), ...(input as Record<string, string>) };
  }
  if (where === 'trustProxy') {
    if (
      typeof input === 'boolean' ||
      typeof input === 'string' ||
      (Array.isArray(input) && input.every((v) => typeof v === 'string'))
    ) {
      return input;
    }
    throw new ConfigError(`${where} must be a boolean, a string or an array of strings`);
  }
  if (where === 'notify.webhooks') return checkWebhooks(input);
  if (NULLABLE_STRINGS.includes(where)) {
    if (input === null || typeof input === 'string') return input;
    throw new ConfigError(`${where} must be a string or null`);
  }
  if (Array.isArray(template)) {
    if (!Array.isArray(input) || !input.every((v) => typeof v === 'string')) {
      throw new ConfigError(`${where} must be an array of strings`);
    }
    return [...input];
  }
  if (isPlainObject(template)) {
    if (!isPlainObject(input)) throw new ConfigError(`${where || 'config'} must be an object`);
    const out: Record<string, unknown> = { ...template };
    for (const [k, v] of Object.entries(input)) {
      if (!(k in template)) throw new ConfigError(`unknown setting ${where ? `${where}.` : ''}${k}`);
      out[k] = mergeChecked(template[k], v, where ? `${where}.${k}` : k);
    }
    return out;
  }
  if (typeof template === 'number') {
    if (typeof input !== 'number' || !Number.isFinite(input) || input < 0) {
      throw new ConfigError(`${where} must be a number >= 0`);
    }
    return input;
  }
  if (typeof input !== typeof template) throw new ConfigError(`${where} must be a ${typeof template}`);
  return input;
}

function setPath(obj: Record<string, Json>, dotted: string, value: Json): void {
  const parts = dotted.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (isPlainObject(next)) cur = next as Record<string, Json>;
    else {
      const fresh: Record<string, Json> = {};
      cur[p] = fresh;
      cur = fresh;
    }
  }
  cur[parts[parts.length - 1] as string] = value;
}

function getPath(obj: unknown, dotted: string): unknown {
  let cur = obj;
  for (const p of dotted.split('.')) cur = isPlainObject(cur) ? cur[p] : undefined;
  return cur;
}

/** The part of the config that environment variables set. */
export function configFromEnv(env: NodeJS.ProcessEnv): QuireConfigInput {
  const out: Record<string, Json> = {};
  for (const [name, field] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const template = getPath(DEFAULT_CONFIG, field);
    let value: Json;
    if (field === 'trustProxy') {
      value = raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
    } else if (NULLABLE_STRINGS.includes(field)) value = raw;
    else if (Array.isArray(template)) {
      value = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    } else if (typeof template === 'number') {
      const n = Number(raw);
      if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !Number.isFinite(n))
        throw new ConfigError(`${name} must be a number`);
      value = n;
    } else if (typeof template === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(raw)) throw new ConfigError(`${name} must be true or false`);
      value = raw === 'true' || raw === '1';
    } else value = raw;
    setPath(out, field, value);
  }
  return out as QuireConfigInput;
}

/** Reads and parses a JSON config file; errors name the file. */
export function readConfigFile(file: string): QuireConfigInput {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (!isPlainObject(v)) throw new ConfigError(`config file ${file} must hold a JSON object`);
    return v as QuireConfigInput;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Merges the layers (later ones win) over the defaults, checks every value, and normalises origins.
 * Throws ConfigError naming the first bad setting.
 */
export function resolveConfig(...layers: (QuireConfigInput | undefined)[]): QuireConfig {
  let merged: unknown = DEFAULT_CONFIG;
  for (const layer of layers) {
    if (layer === undefined) continue;
    merged = mergeChecked(merged, layer, '');
  }
  const c = structuredClone(merged) as QuireConfig;
  if (!['off', 'all'].includes(c.moderation)) throw new ConfigError('moderation must be "off" or "all"');
  if (!['strip', 'keep'].includes(c.uri.trailingSlash))
    throw new ConfigError('uri.trailingSlash must be "strip" or "keep"');
  if (!Number.isInteger(c.port) || c.port > 65535) throw new ConfigError('port must be an integer 0-65535');
  if (c.dataDir === '') throw new ConfigError('dataDir must not be empty');
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(c.spam.honeypotField))
    throw new ConfigError('spam.honeypotField must be a plain field name');
  const reserved = [
    'uri',
    'title',
    'text',
    'author',
    'email',
    'notify',
    'website',
    'parent',
    'nonce',
    'formToken',
  ];
  if (reserved.includes(c.spam.honeypotField))
    throw new ConfigError(`spam.honeypotField must not be ${c.spam.honeypotField}, a real field`);
  if (c.limits.bodyBytes < 1024) throw new ConfigError('limits.bodyBytes must be at least 1024');
  for (const k of ['pageSize', 'maxPageSize', 'maxDepth', 'countsUris', 'feedEntries'] as const) {
    if (!Number.isInteger(c.limits[k]) || c.limits[k] < 1)
      throw new ConfigError(`limits.${k} must be an integer >= 1`);
  }
  c.origins = c.origins.map((o) => normaliseOrigin(o));
  c.uri.hostAliases = Object.fromEntries(
    Object.entries(c.uri.hostAliases).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]),
  );
  if (c.publicUrl !== null) {
    try {
      const u = new URL(c.publicUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      c.publicUrl = u.href.replace(/\/+$/, '');
    } catch {
      throw new ConfigError(`publicUrl must be an http(s) URL, got ${JSON.stringify(c.publicUrl)}`);
    }
  }
  if (c.adminPasswordHash !== null && !c.adminPasswordHash.startsWith('scrypt$')) {
    throw new ConfigError(
      'adminPasswordHash must be a hash from `hashPassword` (scrypt$...), never a password',
    );
  }
  if (c.adminPasswordHash !== null && c.adminPasswordFile !== null) {
    throw new ConfigError(
      'set adminPasswordHash (QUIRE_ADMIN_PASSWORD_HASH) or adminPasswordFile (--admin-password-file, ' +
        'QUIRE_ADMIN_PASSWORD_FILE), not both',
    );
  }
  checkServiceLimits(c);
  checkHostSettings(c);
  checkNotify(c);
  c.dataDir = path.resolve(c.dataDir);
  return c;
}

/** What an admin password file holds: a hash from hashPassword(), or the password itself. */
export type AdminPasswordFileContent = { hash: string } | { password: string };

/**
 * Reads the admin password file (adminPasswordFile). Refuses a file that group or others may read: the hash
 * lets anyone who reads it guess passwords offline, at their own pace. A final newline is not part of it.
 */
export function readAdminPasswordFile(file: string): AdminPasswordFileContent {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new ConfigError(`cannot read admin password file ${file}: ${(err as Error).message}`);
  }
  try {
    // fstat, not stat: the mode checked is that of the file read.
    const mode = fs.fstatSync(fd).mode & 0o777;
    if ((mode & 0o044) !== 0) {
      throw new ConfigError(
        `admin password file ${file} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); ` +
          `make it private: chmod 600 ${file}`,
      );
    }
    const text = fs.readFileSync(fd, 'utf8').replace(/\r?\n$/, '');
    if (text === '') throw new ConfigError(`admin password file ${file} is empty`);
    return text.startsWith('scrypt$') ? { hash: text } : { password: text };
  } finally {
    fs.closeSync(fd);
  }
}

/** `https://Blog.Example.org:443/` -> `https://blog.example.org`. */
export function normaliseOrigin(origin: string): string {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    throw new ConfigError(`origins: ${JSON.stringify(origin)} is not a URL such as https://blog.example.org`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(`origins: ${JSON.stringify(origin)} must be http or https`);
  }
  return u.origin;
}
