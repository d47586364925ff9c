/**
 * The admin page's session and messages, shared by its parts: the CSRF token of the logged-in session, the
 * status line and the alert, and `act`, which sends every request with the token.
 */
import { ApiError, client, NetworkError } from './api.js';
import { h } from './dom.js';

export const CSRF_HEADER = 'x-quire-csrf';

/** Same-origin: the admin page is served by the comment service itself. */
export const call = client(window.location.origin, 'same-origin');

export const session = {
  /** The session's CSRF token; '' when logged out. */
  csrf: '',
  /** Called when the service says the session is over (set by the page: it shows the login form). */
  lost: (_message: string) => {},
};

/** Says what went well (role=status). */
export const status = h('p', { class: 'status', role: 'status' });
/** Says what went wrong (role=alert). */
export const alert = h('p', { class: 'error', role: 'alert' });

export function explain(err: unknown): string {
  if (err instanceof NetworkError) return 'The comment service cannot be reached.';
  if (err instanceof ApiError) return err.problem?.detail ?? `The service answered ${err.status}.`;
  return String(err);
}

/** A request with the session's CSRF token; a lost session shows the login form again. */
export async function act<T>(method: string, path: string, body?: unknown): Promise<T> {
  try {
    return (await call<T>(method, path, body, { [CSRF_HEADER]: session.csrf })).data;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) session.lost('Your session has ended; log in again.');
    throw err;
  }
}
