import type { QuireConfig } from '../../config.js';
import type { OutboxEvent, TargetEnd } from '../../store/outbox.js';
import { type CommentRecord, parseCommentId } from '../../store/records.js';
import type { CommentStore } from '../../store/store.js';
import { renderEscaped, renderMarkdownAsync } from '../markdown.js';
import { adminComment, publicComment } from '../views.js';
import { hookTarget } from './events.js';
import { actionToken, addressHmac, type LinkAction, unsubscribeToken } from './links.js';
import { DeliveryError, type Mailer } from './mailer.js';
import { type CommentShown, type Language, moderatorMail, replyMail } from './templates.js';
import { postWebhook } from './webhook.js';

/** What a delivery needs: the settings, the store, the mailer (null without SMTP) and the service's own URL. */
export interface DeliveryContext {
  config: QuireConfig;
  store: CommentStore;
  mailer: Mailer | null;
  /** Where the one-click links point: publicUrl, else the address the server listens on. */
  baseUrl: string;
  clock: () => number;
  isUnsubscribed(addressHmac: string): Promise<boolean>;
}

/** A delivery that is not to be made (the comment is gone, nobody subscribed, ...): why. */
class Skip {
  constructor(readonly reason: string) {}
}

/** The idempotency id of one event to one target: every attempt, from any process, carries the same. */
export function deliveryId(keyHash: string, target: string): string {
  return `${keyHash}.${target.replace(/[^a-z0-9]/gi, '-')}`;
}

async function commentOf(d: DeliveryContext, event: OutboxEvent) {
  const ref = parseCommentId(event.comment);
  if (ref === null) throw new Skip('not a comment id');
  const record = await d.store.comment(ref.threadId, ref.stem);
  if (record === null) throw new Skip('the comment is gone');
  const meta = await d.store.threadMeta(ref.threadId);
  return { ...ref, record, meta };
}

/** The comment as a mail shows it: its text and the server's (sanitised) HTML of it, and its page. */
async function shown(
  record: CommentRecord,
  uri: string,
  id: string,
  title: string | null,
): Promise<CommentShown> {
  const html = await renderMarkdownAsync(record.text).catch(() => renderEscaped(record.text));
  return {
    author: record.author,
    text: record.text,
    html,
    pageTitle: title,
    pageUrl: `${uri}#comment-${id}`,
  };
}

async function toModerators(d: DeliveryContext, event: OutboxEvent, h: string): Promise<void> {
  const { record, meta } = await commentOf(d, event);
  if (d.mailer === null || d.config.notify.moderators.length === 0) throw new Skip('no mail settings');
  const expires = d.clock() + d.config.notify.linkHours * 3_600_000;
  const link = (a: LinkAction) =>
    `${d.baseUrl}/api/notify/moderate?t=${encodeURIComponent(actionToken(d.store.hmacs, a, event.comment, expires))}`;
  const lang = d.config.notify.language as Language;
  const body = moderatorMail(
    lang,
    d.config.siteName,
    await shown(record, meta?.uri ?? '', event.comment, meta?.title ?? null),
    record.status === 'pending',
    {
      ...(record.status === 'pending' ? { approve: link('approve') } : {}),
      delete: link('delete'),
      spam: link('spam'),
      expires: `${new Date(expires).toISOString().replace('T', ' ').slice(0, 16)} UTC`,
    },
  );
  await d.mailer.send({
    to: d.config.notify.moderators,
    ...body,
    messageId: `<${deliveryId(h, 'moderators')}@${d.mailer.domain}>`,
  });
}

/** Whom a reply is mailed to: its parent's author if they asked, gave an address, and did not unsubscribe. */
async function subscriberOf(d: DeliveryContext, threadId: string, reply: CommentRecord): Promise<string> {
  // Checked when sent, not when the event happened: a reply marked spam or deleted since is not mailed.
  if (reply.status !== 'approved') throw new Skip('the reply is not approved');
  const parent = reply.parent === null ? null : await d.store.comment(threadId, reply.parent);
  const to = parent?.notify === true ? parent.email : null;
  if (to === null || to === undefined || to === '') throw new Skip('nobody asked for reply mail');
  if (reply.email !== null && reply.email.trim().toLowerCase() === to.trim().toLowerCase())
    throw new Skip('a reply to oneself');
  if (await d.isUnsubscribed(addressHmac(d.store.hmacs, to))) throw new Skip('unsubscribed');
  return to;
}

async function toSubscriber(d: DeliveryContext, event: OutboxEvent, h: string): Promise<void> {
  const { threadId, record, meta } = await commentOf(d, event);
  if (d.mailer === null || !d.config.notify.replies) throw new Skip('no mail settings');
  const to = await subscriberOf(d, threadId, record);
  const unsubscribe = `${d.baseUrl}/api/notify/unsubscribe?t=${encodeURIComponent(unsubscribeToken(d.store.hmacs, to))}`;
  const lang = d.config.notify.language as Language;
  const body = replyMail(
    lang,
    d.config.siteName,
    await shown(record, meta?.uri ?? '', event.comment, meta?.title ?? null),
    unsubscribe,
  );
  await d.mailer.send({
    to: [to],
    ...body,
    messageId: `<${deliveryId(h, 'subscriber')}@${d.mailer.domain}>`,
    headers: {
      'List-Unsubscribe': `<${unsubscribe}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  });
}

async function toWebhook(d: DeliveryContext, event: OutboxEvent, h: string, target: string): Promise<void> {
  const hook = d.config.notify.webhooks.find((w) => hookTarget(w.url) === target);
  if (hook === undefined) throw new Skip('no such webhook in the settings any more');
  const { threadId, stem, record, meta } = await commentOf(d, event);
  const comment = hook.moderatorFields
    ? adminComment(await d.store.moderated(threadId, stem))
    : publicComment(threadId, stem, record, await d.store.likesOf(threadId, stem));
  const id = deliveryId(h, target);
  const body = JSON.stringify({
    event: event.type,
    reply: event.reply,
    delivery: id,
    at: event.at,
    page: meta === null ? null : { uri: meta.uri, title: meta.title },
    comment,
  });
  await postWebhook(
    hook,
    body,
    { event: event.type, deliveryId: id, timestamp: String(Math.floor(d.clock() / 1000)) },
    {
      timeoutMs: d.config.notify.webhookTimeoutSeconds * 1000,
      allowPrivate: d.config.notify.webhooksAllowPrivate,
    },
  );
}

/** Delivers `event` to `target`: 'delivered', 'skipped' (with why), or DeliveryError. */
export async function deliver(
  d: DeliveryContext,
  event: OutboxEvent,
  h: string,
  target: string,
): Promise<{ end: TargetEnd; reason?: string }> {
  try {
    if (target === 'moderators') await toModerators(d, event, h);
    else if (target === 'subscriber') await toSubscriber(d, event, h);
    else if (target.startsWith('hook:')) await toWebhook(d, event, h, target);
    else throw new Skip('unknown target');
    return { end: 'delivered' };
  } catch (err) {
    if (err instanceof Skip) return { end: 'skipped', reason: err.reason };
    if (err instanceof DeliveryError) throw err;
    throw new DeliveryError((err as Error).message, false);
  }
}
