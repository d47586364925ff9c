/**
 * The admin page's notifications panel (issue 15): whether mail and webhooks are on ("notifications are off"
 * without SMTP settings and webhooks), the deliveries given up with a retry button each, and the latest outcomes.
 */
import { act, alert, explain, status } from './admin-session.js';
import { h } from './dom.js';

interface Outcome {
  event: string;
  target: string;
  outcome: string;
  attempt: number;
  reason?: string;
  at: string;
}
interface GivenUp {
  id: string;
  type: string;
  comment: string;
  at: string;
  targets: { target: string; attempts: number; reason: string }[];
}
interface NotifyStatus {
  enabled: boolean;
  mail: boolean;
  webhooks: number;
  givenUp: GivenUp[];
  recent: Outcome[];
}

/** Who a target is, in words. */
function who(target: string): string {
  if (target === 'moderators') return 'moderators (mail)';
  if (target === 'subscriber') return 'reply subscriber (mail)';
  return `webhook ${target.slice(5)}`;
}

function givenUpRow(g: GivenUp, refresh: () => Promise<void>): HTMLElement {
  const retry = h('button', { type: 'button', class: 'retry' }, 'Retry');
  retry.addEventListener('click', async () => {
    retry.disabled = true;
    try {
      await act('POST', `/api/admin/notifications/${encodeURIComponent(g.id)}/retry`);
      status.textContent = 'Delivery queued again.';
      await refresh();
    } catch (err) {
      alert.textContent = explain(err);
      retry.disabled = false;
    }
  });
  const reasons = g.targets.map((t) => `${who(t.target)}: ${t.attempts} attempts, ${t.reason}`).join('; ');
  return h('li', { class: 'given-up' }, `${g.type} of ${g.comment} (${g.at}): ${reasons} `, retry);
}

/** The panel: a section whose content is read again after each retry. */
export function notifySection(): HTMLElement {
  const body = h('div', { id: 'quire-admin-notify' });
  const section = h('section', null, h('h2', { id: 'notify-h' }, 'Notifications'), body);
  const refresh = async (): Promise<void> => {
    let s: NotifyStatus;
    try {
      s = await act<NotifyStatus>('GET', '/api/admin/notifications');
    } catch (err) {
      body.replaceChildren(h('p', { class: 'error' }, explain(err)));
      return;
    }
    if (!s.enabled) {
      body.replaceChildren(
        h(
          'p',
          { class: 'notify-off' },
          'Notifications are off: no SMTP settings (smtp.url, smtp.from) and no webhooks.',
        ),
      );
      return;
    }
    const on = [s.mail ? 'mail' : 'no mail (no SMTP settings)', `${s.webhooks} webhook(s)`].join(', ');
    body.replaceChildren(
      h('p', { class: 'notify-on' }, `Notifications are on: ${on}.`),
      h('h3', null, 'Given up'),
      s.givenUp.length === 0
        ? h('p', null, 'Nothing was given up.')
        : h('ul', null, ...s.givenUp.map((g) => givenUpRow(g, refresh))),
      h('h3', null, 'Latest outcomes'),
      h(
        'ul',
        { class: 'outcomes' },
        ...s.recent
          .slice(0, 20)
          .map((o) =>
            h(
              'li',
              null,
              `${o.at} ${who(o.target)}: ${o.outcome} (attempt ${o.attempt})${o.reason ? `, ${o.reason}` : ''}`,
            ),
          ),
      ),
    );
  };
  void refresh();
  return section;
}
