/**
 * The admin page (/admin): log in with the owner's password (an HttpOnly, SameSite=Strict session cookie; every
 * action also carries the session's CSRF token), then moderate: the queue of comments awaiting approval and the
 * recent comments of all pages, each with approve, spam, edit and delete. Served by the comment service itself,
 * so every request is same-origin.
 */
import { ApiError, client, NetworkError } from './api.js';
import { h, safeHref } from './dom.js';
import type { AdminComment } from './types.js';

const CSRF_HEADER = 'x-quire-csrf';
const call = client(window.location.origin, 'same-origin');
const main = document.getElementById('quire-admin') as HTMLElement;

let csrf = '';

function explain(err: unknown): string {
  if (err instanceof NetworkError) return 'The comment service cannot be reached.';
  if (err instanceof ApiError) return err.problem?.detail ?? `The service answered ${err.status}.`;
  return String(err);
}

/** An action on the service with the session's CSRF token; a lost session shows the login form again. */
async function act<T>(method: string, path: string, body?: unknown): Promise<T> {
  try {
    return (await call<T>(method, path, body, { [CSRF_HEADER]: csrf })).data;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      showLogin('Your session has ended; log in again.');
    }
    throw err;
  }
}

function showLogin(message = ''): void {
  csrf = '';
  const id = 'quire-admin-password';
  const password = h('input', {
    id,
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const error = h('p', { class: 'error', role: 'alert' }, message);
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'quire-admin-login-h' },
    h('h2', { id: 'quire-admin-login-h' }, 'Log in'),
    h('label', { for: id }, 'Admin password'),
    password,
    submit,
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    try {
      const { data } = await call<{ csrfToken: string }>('POST', '/api/admin/session', {
        password: password.value,
      });
      csrf = data.csrfToken;
      await showApp();
    } catch (err) {
      error.textContent = explain(err);
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  main.replaceChildren(form);
  password.focus();
}

const status = h('p', { class: 'status', role: 'status' });
const alert = h('p', { class: 'error', role: 'alert' });
const queueHeading = h('h2', { id: 'queue-h', tabindex: -1 }, 'Awaiting moderation');
const queue = h('ol', { class: 'comments', 'aria-labelledby': 'queue-h' });
const recent = h('ol', { class: 'comments', 'aria-labelledby': 'recent-h' });

async function showApp(): Promise<void> {
  const moderation = h('input', { id: 'quire-admin-moderation', type: 'checkbox' });
  moderation.addEventListener('change', async () => {
    const want = moderation.checked ? 'all' : 'off';
    try {
      await act('PUT', '/api/admin/settings', { moderation: want });
      status.textContent = moderation.checked
        ? 'New comments now wait for approval.'
        : 'New comments now appear at once.';
    } catch (err) {
      moderation.checked = !moderation.checked;
      alert.textContent = explain(err);
    }
  });
  const logout = h('button', { type: 'button', class: 'logout' }, 'Log out');
  logout.addEventListener('click', async () => {
    try {
      await act('POST', '/api/admin/logout');
    } catch {
      // logged out either way: the cookie is cleared or was not valid any more
    }
    showLogin('You are logged out.');
  });
  main.replaceChildren(
    h('div', { class: 'bar' }, h('label', null, moderation, ' Hold new comments for approval'), logout),
    status,
    alert,
    h('section', null, queueHeading, queue),
    h('section', null, h('h2', { id: 'recent-h' }, 'Recent comments'), recent),
  );
  try {
    const settings = await act<{ moderation: 'off' | 'all' }>('GET', '/api/admin/settings');
    moderation.checked = settings.moderation === 'all';
  } catch (err) {
    alert.textContent = explain(err);
  }
  await refresh();
  queueHeading.focus();
}

async function refresh(): Promise<void> {
  try {
    const [pending, all] = await Promise.all([
      act<{ comments: AdminComment[] }>('GET', '/api/admin/comments?status=pending&limit=200'),
      act<{ comments: AdminComment[] }>('GET', '/api/admin/comments?status=all&limit=50'),
    ]);
    queueHeading.textContent = `Awaiting moderation (${pending.comments.length})`;
    queue.replaceChildren(
      ...(pending.comments.length === 0
        ? [h('li', { class: 'empty' }, 'Nothing is waiting.')]
        : pending.comments.map(item)),
    );
    recent.replaceChildren(...all.comments.map(item));
  } catch (err) {
    alert.textContent = explain(err);
  }
}

const LABELS: Record<AdminComment['status'], string> = {
  approved: 'approved',
  pending: 'pending',
  spam: 'spam',
  deleted: 'deleted',
};

function item(c: AdminComment): HTMLLIElement {
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
    body,
    actions,
  );
  const button = (label: string, cls: string, fn: () => void) =>
    h('button', { type: 'button', class: cls, onclick: fn }, label);
  const path = `/api/admin/comments/${encodeURIComponent(c.id)}`;
  const run = async (method: string, p: string, done: string, payload?: unknown) => {
    alert.textContent = '';
    try {
      await act(method, p, payload);
      status.textContent = done;
      await refresh();
      queueHeading.focus();
    } catch (err) {
      alert.textContent = explain(err);
    }
  };
  if (c.status === 'pending' || c.status === 'spam')
    actions.append(button('Approve', 'approve', () => void run('POST', `${path}/approve`, 'Approved.')));
  if (c.status === 'pending' || c.status === 'approved')
    actions.append(button('Spam', 'spam', () => void run('POST', `${path}/spam`, 'Marked as spam.')));
  if (c.status !== 'deleted') {
    actions.append(
      button('Edit', 'edit', () => {
        const text = h('textarea', { id: `edit-${c.id}`, rows: 5 });
        text.value = c.text;
        const form = h(
          'form',
          { class: 'edit' },
          h('label', { for: `edit-${c.id}` }, 'Text'),
          text,
          h('button', { type: 'submit' }, 'Save'),
          button('Cancel', 'cancel', () => void refresh()),
        );
        form.addEventListener('submit', (e) => {
          e.preventDefault();
          void run('PATCH', path, 'Saved.', { text: text.value });
        });
        body.replaceChildren(form);
        text.focus();
      }),
      button('Delete', 'delete', () => {
        const yes = button('Yes, delete', 'confirm', () => void run('DELETE', path, 'Deleted.'));
        actions.replaceChildren(
          h('span', null, 'Delete this comment for good? '),
          yes,
          button('Keep it', 'cancel', () => void refresh()),
        );
        yes.focus();
      }),
    );
  }
  return h('li', null, art);
}

async function start(): Promise<void> {
  try {
    const { data } = await call<{ csrfToken: string }>('GET', '/api/admin/session');
    csrf = data.csrfToken;
    await showApp();
  } catch (err) {
    if (err instanceof ApiError && err.problem?.code === 'admin-disabled') {
      main.replaceChildren(
        h(
          'p',
          { class: 'error' },
          'No admin password is configured. Set adminPasswordHash (see `quire hash-password`) and restart.',
        ),
      );
      return;
    }
    showLogin(err instanceof ApiError && err.status === 401 ? '' : explain(err));
  }
}

void start();
