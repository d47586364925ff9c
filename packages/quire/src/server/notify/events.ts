import { createHash } from 'node:crypto';
import type { QuireConfig } from '../../config.js';
import type { StoreEvent } from '../../store/events.js';
import type { NotifyEventType, Outbox, OutboxEvent } from '../../store/outbox.js';
import { formatCommentId } from '../../store/records.js';

/** Whether mail can be sent: both smtp.url and smtp.from are set. */
export function mailEnabled(config: QuireConfig): boolean {
  return config.smtp.url !== null && config.smtp.from !== null;
}

/** A webhook's target name: `hook:` and a hash of its URL (so reordering the list keeps deliveries apart). */
export function hookTarget(url: string): string {
  return `hook:${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
}

/** The notification a change of a comment is, if any. */
function typeOf(e: StoreEvent): NotifyEventType | null {
  switch (e.kind) {
    case 'added':
      return e.record.status === 'pending' ? 'pending' : e.record.status === 'approved' ? 'posted' : null;
    case 'judged':
      return e.record.status === 'approved' ? 'approved' : null;
    case 'edited':
      return 'edited';
    case 'deleted':
      return 'deleted';
    default:
      return null;
  }
}

/** What makes one event one, whichever process or retry tells it. */
function keyOf(type: NotifyEventType, id: string, e: StoreEvent): string {
  if (type === 'posted' || type === 'pending') return `new:${id}`;
  if (type === 'edited') return `edited:${id}:${e.record.edited ?? ''}`;
  if (type === 'deleted') return `deleted:${id}:${e.record.deleted ?? ''}`;
  return `approved:${id}`;
}

/** Who is to hear of an event of `type`, by the settings now. */
export function targetsOf(config: QuireConfig, type: NotifyEventType, reply: boolean): string[] {
  const targets: string[] = [];
  if (mailEnabled(config)) {
    const n = config.notify;
    if (n.moderators.length > 0 && n.moderatorEvents.includes(type)) targets.push('moderators');
    if (reply && n.replies) targets.push('subscriber');
  }
  for (const hook of config.notify.webhooks) {
    const wants =
      hook.events.length === 0 || hook.events.includes(type) || (reply && hook.events.includes('reply'));
    if (wants) targets.push(hookTarget(hook.url));
  }
  return targets;
}

/**
 * The store's event sink: appends the event to the outbox, before the request that caused it is answered,
 * when anyone is to hear of it (no SMTP settings and no webhook: nothing is appended, nothing costs).
 */
export function outboxSink(config: QuireConfig, outbox: Outbox, clock: () => number) {
  return async (e: StoreEvent): Promise<void> => {
    const type = typeOf(e);
    if (type === null) return;
    const reply =
      e.record.parent !== null &&
      e.record.status === 'approved' &&
      (type === 'posted' || type === 'approved');
    const targets = targetsOf(config, type, reply);
    if (targets.length === 0) return;
    const id = formatCommentId(e.threadId, e.stem);
    const event: OutboxEvent = {
      v: 1,
      key: keyOf(type, id, e),
      type,
      comment: id,
      reply,
      at: new Date(clock()).toISOString(),
      targets,
    };
    // A retried post (created: false) may have appended its event already: keyed, so it adds at most one.
    await outbox.append(event, e.kind === 'added' && !e.created);
  };
}
