/**
 * One comment of the admin page's lists: who wrote it where, the comment it answers, its text, and the
 * moderator's buttons (approve, spam, edit, delete, and restore for a deleted one within the restore window).
 */
import { h, safeHref } from './dom.js';
import type { AdminComment } from './types.js';

/** What a row's buttons do; the page answers them. */
export interface RowHost {
  /** Sends a change and says `done` when it went through; resolves with the comment as it is now, or null. */
  run(method: string, path: string, done: string, payload?: unknown): Promise<AdminComment | null>;
  /** Shows comment `c` afresh in its rows (after Cancel). */
  redraw(c: AdminComment): void;
}

const LABELS: Record<AdminComment['status'], string> = {
  approved: 'approved',
  pending: 'pending',
  spam: 'spam',
  deleted: 'deleted',
};

/** The parent's excerpt is at most this long (the service cuts it there too). */
const EXCERPT_CHARS = 140;

/** What a row shows: a row whose comment has the same key is left alone when the lists refresh. */
export function rowKey(c: AdminComment): string {
  return JSON.stringify([c.status, c.edited, c.deleted, c.text, c.html, c.author, c.restorableUntil]);
}

/** Whether a deleted comment can still be restored (the service decides; this only hides a button too late). */
function restorable(c: AdminComment): boolean {
  return c.status === 'deleted' && c.restorableUntil !== null && Date.parse(c.restorableUntil) > Date.now();
}

/** "In reply to Ada: “The start of her comment…”", the name a link to the comment answered. */
function replyContext(c: AdminComment, page: string | null): HTMLElement | null {
  const to = c.replyTo;
  if (to === null) return null;
  const name = to.author ?? 'Anonymous';
  const cut =
    to.excerpt.length >= EXCERPT_CHARS ? `${to.excerpt.slice(0, EXCERPT_CHARS).trimEnd()}…` : to.excerpt;
  const who = page === null ? name : h('a', { href: `${page}#comment-${to.id}` }, name);
  return h('p', { class: 'reply-to' }, 'In reply to ', who, `: “${cut}”`);
}

/** When a deleted comment was deleted, and until when it can be restored. */
function deletedNote(c: AdminComment): HTMLElement {
  const when = (iso: string) => new Date(iso).toLocaleString();
  return h(
    'p',
    { class: 'deleted-note' },
    c.deleted === null ? 'Deleted.' : `Deleted ${when(c.deleted)}.`,
    restorable(c)
      ? ` It can be restored until ${when(c.restorableUntil as string)}.`
      : ' It can no longer be restored.',
  );
}

/** A comment as a list item (`data-id`, `data-key`), its buttons wired to `host`. */
export function row(c: AdminComment, host: RowHost): HTMLLIElement {
  const page = safeHref(c.uri);
  const link = page === null ? null : h('a', { href: `${page}#comment-${c.id}` }, c.title ?? c.uri ?? '');
  const who = [c.author ?? 'Anonymous', c.email === null ? '' : `<${c.email}>`, c.ip ?? '']
    .filter((x) => x !== '')
    .join(' · ');
  const body = h('div', { class: 'body' });
  // The service's rendering of the Markdown (raw HTML off, safe link schemes only).
  body.innerHTML = c.html;
  const actions = h('div', { class: 'actions' });
  const art = h(
    'article',
    {
      class: `comment ${c.status}`,
      'data-id': c.id,
      'aria-label': `${c.author ?? 'Anonymous'}, ${c.status}`,
    },
    h(
      'header',
      null,
      h('span', { class: 'who' }, who),
      h('span', { class: `badge ${c.status}` }, LABELS[c.status]),
      h('time', { datetime: c.created }, new Date(c.created).toLocaleString()),
      link,
    ),
    replyContext(c, page),
    c.status === 'deleted' ? deletedNote(c) : null,
    body,
    actions,
  );
  const li = h('li', { 'data-id': c.id, 'data-key': rowKey(c) }, art);
  actions.append(...buttons(c, li, body, actions, host));
  return li;
}

function button(label: string, cls: string, fn: () => void): HTMLButtonElement {
  return h('button', { type: 'button', class: cls, onclick: fn }, label);
}

/** The buttons a comment in its status gets. A row with an open form is busy: a refresh leaves it alone. */
function buttons(c: AdminComment, li: HTMLLIElement, body: HTMLElement, actions: HTMLElement, host: RowHost) {
  const path = `/api/admin/comments/${encodeURIComponent(c.id)}`;
  const cancel = () => {
    delete li.dataset.busy;
    host.redraw(c);
  };
  const out: HTMLButtonElement[] = [];
  if (c.status === 'pending' || c.status === 'spam')
    out.push(button('Approve', 'approve', () => void host.run('POST', `${path}/approve`, 'Approved.')));
  if (c.status === 'pending' || c.status === 'approved')
    out.push(button('Spam', 'spam', () => void host.run('POST', `${path}/spam`, 'Marked as spam.')));
  if (restorable(c))
    out.push(button('Restore', 'restore', () => void host.run('POST', `${path}/restore`, 'Restored.')));
  if (c.status === 'deleted') return out;
  const edit = () => {
    li.dataset.busy = '1';
    const text = h('textarea', { id: `edit-${c.id}`, rows: 5 });
    text.value = c.text;
    const form = h(
      'form',
      { class: 'edit' },
      h('label', { for: `edit-${c.id}` }, 'Text'),
      text,
      h('button', { type: 'submit' }, 'Save'),
      button('Cancel', 'cancel', cancel),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      delete li.dataset.busy;
      void host.run('PATCH', path, 'Saved.', { text: text.value });
    });
    body.replaceChildren(form);
    text.focus();
  };
  const remove = () => {
    li.dataset.busy = '1';
    const yes = button('Yes, delete', 'confirm', () => {
      delete li.dataset.busy;
      // The row stays where it is, deleted, with its Restore button: an undo right where the moderator looks.
      li.dataset.keep = '1';
      const list = li.parentElement;
      void host.run('DELETE', path, 'Deleted.').then((done) => {
        // Focus on the undo, so that a keyboard user can take the delete back at once.
        if (done !== null)
          list?.querySelector<HTMLElement>(`li[data-id="${CSS.escape(c.id)}"] .restore`)?.focus();
      });
    });
    actions.replaceChildren(
      h('span', null, 'Delete this comment? '),
      yes,
      button('Keep it', 'cancel', cancel),
    );
    yes.focus();
  };
  out.push(button('Edit', 'edit', edit), button('Delete', 'delete', remove));
  return out;
}
