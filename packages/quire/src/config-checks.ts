/** The checks of settings beyond their types, and the error every bad setting is reported with. */
import type { QuireConfig, WebhookConfig } from './config-types.js';

/** A JSON object, not an array or null: what a block of the config must be. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A setting that cannot be used; the message names it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * The deadlines and freshness of issue 13: whole numbers; a lock wait and a Retry-After of at least 1. The
 * caches' budgets of issue 16: whole numbers >= 0.
 */
export function checkHostSettings(c: QuireConfig): void {
  const d = c.deadlines;
  if (!Number.isInteger(d.lockWaitMs) || d.lockWaitMs < 1)
    throw new ConfigError('deadlines.lockWaitMs must be an integer >= 1');
  if (!Number.isInteger(d.requestMs) || d.requestMs < 0)
    throw new ConfigError('deadlines.requestMs must be an integer >= 0');
  if (!Number.isInteger(d.retryAfterSeconds) || d.retryAfterSeconds < 1)
    throw new ConfigError('deadlines.retryAfterSeconds must be an integer >= 1');
  for (const [k, v] of Object.entries(c.cache))
    if (!Number.isInteger(v) || v < 0) throw new ConfigError(`cache.${k} must be an integer >= 0`);
  const f = c.freshness.viewListAfterMs;
  if (!Number.isInteger(f) || f < 0)
    throw new ConfigError('freshness.viewListAfterMs must be an integer >= 0');
}

/** The service limits of issue 12 that must be positive integers (0 would stop the service). */
export function checkServiceLimits(c: QuireConfig): void {
  for (const k of ['timeoutMs', 'workers', 'maxQueue'] as const) {
    if (!Number.isInteger(c.markdown[k]) || c.markdown[k] < 1)
      throw new ConfigError(`markdown.${k} must be an integer >= 1`);
  }
  const n = c.connections;
  for (const k of [
    'perClient',
    'headersTimeoutSeconds',
    'requestTimeoutSeconds',
    'keepAliveTimeoutSeconds',
  ] as const) {
    if (!(n[k] > 0)) throw new ConfigError(`connections.${k} must be > 0`);
  }
  if (!Number.isInteger(n.total))
    throw new ConfigError('connections.total must be an integer (0: automatic)');
  if (n.requestTimeoutSeconds < n.headersTimeoutSeconds)
    throw new ConfigError('connections.requestTimeoutSeconds must be >= connections.headersTimeoutSeconds');
}

// Issue 15 (outbox): docs/notifications.md.

const EVENT_TYPES = ['posted', 'pending', 'approved', 'reply', 'edited', 'deleted'];

/** `notify.webhooks`: an array of { url, events?, secret, moderatorFields? }. */
export function checkWebhooks(input: unknown): WebhookConfig[] {
  if (!Array.isArray(input)) throw new ConfigError('notify.webhooks must be an array');
  return input.map((h: unknown, i) => {
    const where = `notify.webhooks[${i}]`;
    if (!isPlainObject(h)) throw new ConfigError(`${where} must be an object`);
    for (const k of Object.keys(h)) {
      if (!['url', 'events', 'secret', 'moderatorFields'].includes(k))
        throw new ConfigError(`unknown setting ${where}.${k}`);
    }
    const { url, events = [], secret, moderatorFields = false } = h;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url) || !URL.canParse(url))
      throw new ConfigError(`${where}.url must be an http(s) URL`);
    if (typeof secret !== 'string' || secret.length < 16)
      throw new ConfigError(`${where}.secret must be a string of at least 16 characters`);
    if (!Array.isArray(events) || !events.every((e) => EVENT_TYPES.includes(e as string)))
      throw new ConfigError(`${where}.events must list some of ${EVENT_TYPES.join(', ')}`);
    if (typeof moderatorFields !== 'boolean')
      throw new ConfigError(`${where}.moderatorFields must be a boolean`);
    return { url, events: events as string[], secret, moderatorFields };
  });
}

/** The smtp and notify blocks, beyond their types. */
export function checkNotify(c: QuireConfig): void {
  if (c.smtp.url !== null && !/^smtps?:\/\/[^/]/.test(c.smtp.url))
    throw new ConfigError('smtp.url must be smtp://host[:port] or smtps://host[:port]');
  if ((c.smtp.url === null) !== (c.smtp.from === null))
    throw new ConfigError('set both smtp.url (QUIRE_SMTP_URL) and smtp.from (QUIRE_SMTP_FROM), or neither');
  if (!c.notify.moderatorEvents.every((e) => e === 'posted' || e === 'pending'))
    throw new ConfigError('notify.moderatorEvents may list posted and pending');
  if (!['en', 'de'].includes(c.notify.language)) throw new ConfigError('notify.language must be en or de');
  const n = c.notify;
  if (!Number.isInteger(n.maxAttempts) || n.maxAttempts < 1)
    throw new ConfigError('notify.maxAttempts must be an integer >= 1');
  if (!Number.isInteger(n.concurrency) || n.concurrency < 1)
    throw new ConfigError('notify.concurrency must be an integer >= 1');
  if (!(n.webhookTimeoutSeconds > 0)) throw new ConfigError('notify.webhookTimeoutSeconds must be > 0');
}
