import { avatar } from './avatar.js';
import { h, safeHref } from './dom.js';
import { absoluteTime, relativeTime, type Strings } from './i18n.js';
import { load, type SortOrder } from './storage.js';
import type { Comment } from './types.js';

/** A rendered comment: its data, its list item, and the list its replies go in. */
export interface CommentNode {
  c: Comment;
  li: HTMLLIElement;
  replies: HTMLOListElement;
}

/** What the buttons of a comment do; the thread answers them. */
export interface CommentActions {
  /** Whether a reply form is open under comment `id` (its button says so). */
  replyOpen(id: string): boolean;
  reply(id: string, button: HTMLButtonElement): void;
  like(id: string, button: HTMLButtonElement): void;
  edit(id: string): void;
  askDelete(id: string, button: HTMLButtonElement): void;
  /** The reader's edit window for comment `id` has just closed. */
  windowClosed(id: string): void;
}

/**
 * The comments of a thread, nested by reply, each an <article id="comment-…">. Everything the server sends is
 * set as text, except each comment's `html`, which the server renders and sanitises.
 */
export class CommentTree {
  private readonly nodes = new Map<string, CommentNode>();
  /** Per own comment: the timer that takes its edit and delete buttons away when the window closes. */
  private readonly timers = new Map<string, number>();
  /** Where a new top-level comment goes: first when newest come first, else last. */
  order: SortOrder = 'oldest';

  constructor(
    private readonly s: Strings,
    /** The top-level list. */
    readonly list: HTMLOListElement,
    private readonly actions: CommentActions,
  ) {}

  get(id: string): CommentNode | undefined {
    return this.nodes.get(id);
  }

  /** The comment's article as now shown. */
  articleOf(id: string): HTMLElement | null {
    const el = this.nodes.get(id)?.li.firstElementChild;
    return el instanceof HTMLElement ? el : null;
  }

  /** Renders a comment and its replies (they become known to the tree). */
  render(c: Comment): CommentNode {
    const replies = h('ol', { class: 'quire-replies' });
    const li = h('li', { class: 'quire-c' }, this.article(c), replies);
    const node: CommentNode = { c, li, replies };
    this.nodes.set(c.id, node);
    for (const r of c.replies) replies.append(this.render(r).li);
    return node;
  }

  /**
   * Adds a comment new to this page under its parent (or at the end; one `fresh` from the reader at the top
   * when newest come first); one already shown stays as it is.
   */
  insert(c: Comment, fresh = false): CommentNode {
    const existing = this.nodes.get(c.id);
    if (existing !== undefined) return existing;
    const node = this.render(c);
    const parent = c.parent === null ? undefined : this.nodes.get(c.parent);
    if (fresh && parent === undefined && this.order === 'newest') this.list.prepend(node.li);
    else (parent?.replies ?? this.list).append(node.li);
    return node;
  }

  /**
   * Orders the top-level comments shown by likes, most first, the older first among equals (sort.ts: "most
   * liked" sorts what is loaded). Replies move with their comment and keep their order.
   */
  sortByLikes(): void {
    const top = Array.from(this.list.children).flatMap((li) => {
      const id = li.firstElementChild?.id.replace(/^comment-/, '') ?? '';
      const node = this.nodes.get(id);
      return node === undefined || node.li !== li ? [] : [node];
    });
    top.sort((a, b) => b.c.likes - a.c.likes || (a.c.created < b.c.created ? -1 : 1));
    this.list.append(...top.map((n) => n.li));
  }

  /** Replaces a comment's article (keeps its replies and an open reply form). */
  rerender(id: string): HTMLElement | null {
    const node = this.nodes.get(id);
    const old = this.articleOf(id);
    if (node === undefined || old === null) return null;
    const art = this.article(node.c);
    node.li.replaceChild(art, old);
    return art;
  }

  /** Takes a deleted comment away: entirely if nobody answered it, else its article becomes a tombstone. */
  removeOrTombstone(id: string): void {
    const node = this.nodes.get(id);
    if (node === undefined) return;
    if (node.replies.childElementCount > 0) {
      this.rerender(id);
      return;
    }
    node.li.remove();
    this.nodes.delete(id);
  }

  /** Forgets every comment (a reload of the first page). */
  clear(): void {
    this.nodes.clear();
    this.list.replaceChildren();
  }

  private article(c: Comment): HTMLElement {
    const s = this.s;
    const art = h('article', { id: `comment-${c.id}`, tabindex: -1 });
    if (c.status === 'deleted') {
      art.append(h('p', { class: 'quire-deleted' }, s.deletedComment));
      return art;
    }
    const name = c.author ?? s.anonymous;
    const href = safeHref(c.website);
    const author = href
      ? h('a', { class: 'quire-author', href, rel: 'nofollow ugc noopener' }, name)
      : h('span', { class: 'quire-author' }, name);
    const time = h(
      'time',
      { class: 'quire-time', datetime: c.created, title: absoluteTime(s, c.created) },
      relativeTime(s, c.created, Date.now()),
    );
    const edited = c.edited === null ? null : h('span', { class: 'quire-edited' }, `(${s.edited})`);
    const body = h('div', { class: 'quire-body' });
    // The server's rendering of the Markdown: raw HTML off, links restricted to safe schemes, no images.
    body.innerHTML = c.html;
    art.append(h('header', { class: 'quire-meta' }, avatar(c), author, time, edited), body);
    if (c.status === 'pending') art.append(h('p', { class: 'quire-pending' }, s.pending));
    art.append(this.actionBar(c));
    return art;
  }

  private actionBar(c: Comment): HTMLElement {
    const s = this.s;
    const bar = h('div', { class: 'quire-actions' });
    const button = (cls: string, label: string, fn: (b: HTMLButtonElement) => void, attrs = {}) =>
      h(
        'button',
        { type: 'button', class: cls, onclick: (e) => fn(e.currentTarget as HTMLButtonElement), ...attrs },
        label,
      );
    if (c.status === 'approved') {
      const liked = load().liked[c.id] === 1;
      bar.append(
        button('quire-reply', s.reply, (b) => this.actions.reply(c.id, b), {
          'aria-expanded': String(this.actions.replyOpen(c.id)),
        }),
        button(
          liked ? 'quire-like quire-liked' : 'quire-like',
          `♥ ${c.likes}`,
          (b) => this.actions.like(c.id, b),
          {
            'aria-pressed': String(liked),
            'aria-label': s.like(c.likes),
          },
        ),
      );
    }
    const own = load().own[c.id];
    const left = own === undefined ? 0 : own.u - Date.now();
    if (left > 0) {
      bar.append(
        button('quire-edit', s.edit, () => this.actions.edit(c.id)),
        button('quire-delete', s.delete, (b) => this.actions.askDelete(c.id, b)),
      );
      const old = this.timers.get(c.id);
      if (old !== undefined) window.clearTimeout(old);
      const closed = () => {
        this.timers.delete(c.id);
        this.actions.windowClosed(c.id);
      };
      this.timers.set(c.id, window.setTimeout(closed, Math.min(left + 50, 2 ** 31 - 1)));
    }
    return bar;
  }
}
