/**
 * The admin page's two lists: the queue of comments awaiting moderation and the recent comments (of one status,
 * or all). They refresh by themselves every 15 s while the page is visible, and at once when it is shown again.
 * A refresh changes only the rows whose comment changed, so a moderator's selection, scroll position and open
 * forms stay as they are.
 */

import { type RowHost, row, rowKey } from './admin-rows.js';
import { act, alert, explain, status } from './admin-session.js';
import { h } from './dom.js';
import type { AdminComment } from './types.js';

/** How often the lists refresh while the page is visible. */
const POLL_MS = 15_000;

/** Which comments the recent list shows (the service's `status` filter). */
export type Filter = 'all' | AdminComment['status'];

export class AdminLists {
  readonly queueHeading = h('h2', { id: 'queue-h', tabindex: -1 }, 'Awaiting moderation');
  readonly queue = h('ol', { class: 'comments', 'aria-labelledby': 'queue-h' });
  readonly recent = h('ol', { class: 'comments', 'aria-labelledby': 'recent-h' });
  private filter: Filter = 'all';
  /** Refreshing by itself: from start() (logged in) until stop() (logged out). */
  private active = false;
  private timer: number | undefined;
  /** The refresh under way; another one asked for meanwhile runs after it (once). */
  private running: Promise<void> | null = null;
  private again = false;
  /** Changes made here so far: a list asked for before the latest one is out of date and is not shown. */
  private changes = 0;
  private readonly host: RowHost = {
    run: (method, path, done, payload) => this.run(method, path, done, payload),
    redraw: (c) => this.replaceRows(c),
  };

  constructor() {
    document.addEventListener('visibilitychange', () => {
      if (!this.active) return;
      if (document.visibilityState === 'visible') void this.refresh();
      else this.pause();
    });
  }

  /** Loads the lists, and from then on refreshes them by itself. */
  start(): Promise<void> {
    this.active = true;
    return this.refresh();
  }

  /** Shows the recent comments of one status. */
  async show(filter: Filter): Promise<void> {
    this.filter = filter;
    this.recent.replaceChildren();
    await this.refresh();
  }

  /** Stops refreshing (the session ended). */
  stop(): void {
    this.active = false;
    this.pause();
  }

  private pause(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Asks the service for both lists and updates them. */
  refresh(): Promise<void> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.pause();
    this.running = this.load().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.refresh();
      } else if (this.active && document.visibilityState === 'visible') {
        this.timer = window.setTimeout(() => void this.refresh(), POLL_MS);
      }
    });
    return this.running;
  }

  private async load(): Promise<void> {
    const seen = this.changes;
    const filter = this.filter;
    try {
      const [pending, shown] = await Promise.all([
        act<{ comments: AdminComment[] }>('GET', '/api/admin/comments?status=pending&limit=200'),
        act<{ comments: AdminComment[] }>('GET', `/api/admin/comments?status=${filter}&limit=50`),
      ]);
      // A change made, or another view chosen, while this load was under way: its answer is out of date.
      if (this.changes !== seen || this.filter !== filter) {
        this.again = true;
        return;
      }
      this.queueHeading.textContent = `Awaiting moderation (${pending.comments.length})`;
      this.reconcile(this.queue, pending.comments, 'Nothing is waiting.');
      this.reconcile(this.recent, shown.comments, 'No comments.');
    } catch (err) {
      alert.textContent = explain(err);
    }
  }

  /**
   * Makes `list` show `comments` in order, keeping the element of every row whose comment did not change (and
   * of a row with an open form, and of a row just deleted here, which keeps its Restore button in place).
   */
  private reconcile(list: HTMLOListElement, comments: AdminComment[], empty: string): void {
    const old = Array.from(list.children) as HTMLLIElement[];
    const byId = new Map(old.filter((li) => li.dataset.id !== undefined).map((li) => [li.dataset.id, li]));
    const wanted = comments.map((c) => {
      const li = byId.get(c.id);
      const same = li !== undefined && (li.dataset.busy === '1' || li.dataset.key === rowKey(c));
      return same ? li : row(c, this.host);
    });
    old.forEach((li, i) => {
      if (li.dataset.keep !== '1' || wanted.includes(li) || comments.some((c) => c.id === li.dataset.id))
        return;
      const before = old
        .slice(0, i)
        .reverse()
        .find((p) => wanted.includes(p));
      wanted.splice(before === undefined ? 0 : wanted.indexOf(before) + 1, 0, li);
    });
    if (wanted.length === 0)
      wanted.push(old.find((li) => li.className === 'empty') ?? h('li', { class: 'empty' }, empty));
    // Rows already in place are not touched: moving an element would drop a selection inside it.
    let at = list.firstElementChild;
    for (const li of wanted) {
      if (li === at) at = at.nextElementSibling;
      else list.insertBefore(li, at);
    }
    while (at !== null) {
      const next = at.nextElementSibling;
      at.remove();
      at = next;
    }
  }

  /** Puts the comment as the service answered into its rows at once (the refresh after it takes a moment). */
  private replaceRows(c: AdminComment): void {
    for (const list of [this.queue, this.recent]) {
      const li = list.querySelector<HTMLLIElement>(`li[data-id="${CSS.escape(c.id)}"]`);
      if (li === null) continue;
      const fresh = row(c, this.host);
      if (li.dataset.keep === '1' && c.status === 'deleted') fresh.dataset.keep = '1';
      li.replaceWith(fresh);
    }
  }

  private async run(
    method: string,
    path: string,
    done: string,
    payload?: unknown,
  ): Promise<AdminComment | null> {
    alert.textContent = '';
    try {
      const answer = await act<{ comment?: AdminComment }>(method, path, payload);
      this.changes++;
      status.textContent = done;
      if (answer.comment !== undefined) this.replaceRows(answer.comment);
      await this.refresh();
      this.queueHeading.focus();
      return answer.comment ?? null;
    } catch (err) {
      alert.textContent = explain(err);
      return null;
    }
  }
}
