/**
 * The admin page (/admin): log in with the owner's password (an HttpOnly, SameSite=Strict session cookie; every
 * action also carries the session's CSRF token), then moderate: the queue of comments awaiting approval and the
 * recent comments of all pages (admin-lists.ts), each with approve, spam, edit, delete and restore
 * (admin-rows.ts). Served by the comment service itself, so every request is same-origin.
 */
import { importSection } from './admin-import.js';
import { AdminLists, type Filter } from './admin-lists.js';
import { notifySection } from './admin-notify.js';
import { act, alert, call, explain, session, status } from './admin-session.js';
import { ApiError } from './api.js';
import { h } from './dom.js';

const main = document.getElementById('quire-admin') as HTMLElement;
const lists = new AdminLists();

function showLogin(message = ''): void {
  session.csrf = '';
  lists.stop();
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
      session.csrf = data.csrfToken;
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
session.lost = showLogin;

/** The moderation switch: hold new comments for approval, or show them at once. */
function moderationSwitch(): HTMLInputElement {
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
  return moderation;
}

/** Which comments the recent list shows; "deleted" is where a deleted comment can be restored. */
function filterSelect(): HTMLElement {
  const options: [Filter, string][] = [
    ['all', 'All'],
    ['approved', 'Approved'],
    ['pending', 'Pending'],
    ['spam', 'Spam'],
    ['deleted', 'Deleted'],
  ];
  const select = h(
    'select',
    { id: 'quire-admin-filter' },
    ...options.map(([v, label]) => h('option', { value: v }, label)),
  );
  select.addEventListener('change', () => void lists.show(select.value as Filter));
  return h('label', { class: 'filter' }, 'Show ', select);
}

async function showApp(): Promise<void> {
  const moderation = moderationSwitch();
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
    h('section', null, lists.queueHeading, lists.queue),
    h(
      'section',
      null,
      h('div', { class: 'section-head' }, h('h2', { id: 'recent-h' }, 'Recent comments'), filterSelect()),
      lists.recent,
    ),
    importSection(),
    notifySection(),
  );
  try {
    const settings = await act<{ moderation: 'off' | 'all' }>('GET', '/api/admin/settings');
    moderation.checked = settings.moderation === 'all';
  } catch (err) {
    alert.textContent = explain(err);
  }
  await lists.start();
  lists.queueHeading.focus();
}

async function start(): Promise<void> {
  try {
    const { data } = await call<{ csrfToken: string }>('GET', '/api/admin/session');
    session.csrf = data.csrfToken;
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
