import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { WebhookConfig } from '../../config.js';
import { checkAddressLiteral, guardedLookup } from '../page-fetch.js';
import { DeliveryError } from './mailer.js';

/** Bytes of a receiver's answer read at most (it is only logged). */
const MAX_ANSWER_BYTES = 4096;

/**
 * The signature header's value: `sha256=` and the hex HMAC-SHA256, keyed by the webhook's secret, of
 * `<timestamp>.<body>` (docs/notifications.md shows how a receiver checks it).
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver's answer means: 2xx delivered; 4xx but 408/429, and redirects (never followed), permanent. */
function judge(status: number): DeliveryError | null {
  if (status >= 200 && status < 300) return null;
  const transient = status >= 500 || status === 408 || status === 429;
  const why = status >= 300 && status < 400 ? `redirect ${status} (not followed)` : `HTTP ${status}`;
  return new DeliveryError(why, !transient);
}

/**
 * POSTs a signed JSON body to a webhook: one request, a deadline for all of it, no redirect followed, and no
 * loopback, private or link-local address unless allowed (judged on the address connected to). `deliveryId` is
 * the idempotency id (`Quire-Delivery`): the same for every attempt of one event to one webhook.
 */
export function postWebhook(
  hook: WebhookConfig,
  body: string,
  headers: { event: string; deliveryId: string; timestamp: string },
  opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<void> {
  const url = new URL(hook.url);
  const mod = url.protocol === 'https:' ? https : http;
  try {
    checkAddressLiteral(url, opts.allowPrivate);
  } catch (err) {
    return Promise.reject(new DeliveryError((err as Error).message, true));
  }
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: 'POST',
        signal: AbortSignal.timeout(opts.timeoutMs),
        lookup: guardedLookup(opts.allowPrivate),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'quire webhook',
          'quire-event': headers.event,
          'quire-delivery': headers.deliveryId,
          'quire-timestamp': headers.timestamp,
          'quire-signature': webhookSignature(hook.secret, headers.timestamp, body),
        },
      },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (bytes > MAX_ANSWER_BYTES) res.destroy();
        });
        res.on('close', () => {
          const refused = judge(res.statusCode ?? 0);
          if (refused === null) resolve();
          else reject(refused);
        });
        res.on('error', () => {});
      },
    );
    req.on('error', (err) => {
      const refused = (err as { code?: string }).code === 'page-address-refused';
      reject(new DeliveryError(`${url.host}: ${err.message}`, refused));
    });
    req.end(body);
  });
}
