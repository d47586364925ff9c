import type { Call } from './api.js';
import { type CommentNode, CommentTree } from './comments.js';
import { h, nextId } from './dom.js';
import { OwnComments } from './editing.js';
import { buildEditor, closePreview, draftOf, type Editor, type FormContext } from './form.js';
import { relativeTime, type Strings } from './i18n.js';
import { savedOrder, serverOrder, sortControl } from './sort.js';
import { load, type SortOrder, threadOf, update } from './storage.js';
import { explain, newNonce, ThreadApi } from './thread-api.js';

export interface ThreadOptions {
  /** The thread element on the host page; the widget renders into it. */
  root: HTMLElement;
  call: Call;
  s: Strings;
  /** The page URI comments are filed under (the server normalises it). */
  uri: string;
  title: string;
  /** Told the number of comments whenever it changes (the page's own count links follow it). */
  onCount?: (total: number) => void;
}

/**
 * One comment thread: a compose form, the comments nested by reply (comments.ts), and the reader's own comments
 * editable within the edit window (editing.ts). This class loads pages, posts, replies and likes.
 */
export class Thread {
  private readonly s: Strings;
  private readonly root: HTMLElement;
  private readonly api: ThreadApi;
  private readonly forms: FormContext;
  private readonly tree: CommentTree;
  private readonly own: OwnComments;
  private readonly onCount: (total: number) => void;
  private readonly heading: HTMLHeadingElement;
  private readonly status: HTMLElement;
  private readonly alert: HTMLElement;
  private readonly moreButton: HTMLButtonElement;
  private readonly replyForms = new Map<string, Editor>();
  private total = 0;
  private next: string | null = null;
  /** The reader's sort order (sort.ts). */
  private order: SortOrder = savedOrder();
  /** Loads begun: an answer to any but the latest (the order changed meanwhile) is dropped. */
  private loads = 0;

  constructor(o: ThreadOptions) {
    const s = o.s;
    this.s = s;
    this.root = o.root;
    this.onCount = o.onCount ?? (() => {});
    this.api = new ThreadApi(o.call, o.uri, o.title);
    this.forms = {
      s,
      uri: o.uri,
      preview: (text) => this.api.preview(text),
      explain: (err) => explain(s, err),
      started: () => this.api.timer.started(),
    };
    const id = nextId();
    this.heading = h('h2', { id: `${id}-h`, class: 'quire-count', tabindex: -1 }, s.heading);
    this.status = h('p', { class: 'quire-status', role: 'status' });
    this.alert = h('p', { class: 'quire-error', role: 'alert' });
    const list = h('ol', { class: 'quire-list', 'aria-labelledby': `${id}-h` });
    this.tree = new CommentTree(s, list, {
      replyOpen: (cid) => this.replyForms.has(cid),
      reply: (cid, button) => this.toggleReply(cid, button),
      like: (cid, button) => void this.like(cid, button),
      edit: (cid) => this.own.startEdit(cid),
      askDelete: (cid, button) => this.own.confirmDelete(cid, button),
      windowClosed: (cid) => this.own.windowClosed(cid),
    });
    this.tree.order = this.order;
    this.own = new OwnComments({
      form: this.forms,
      api: this.api,
      tree: this.tree,
      deleted: (message) => {
        this.setTotal(Math.max(0, this.total - 1));
        this.announce(message);
        this.heading.focus();
      },
      saved: () => this.announce(''),
    });
    this.moreButton = h(
      'button',
      { type: 'button', hidden: true, onclick: () => void this.load(true) },
      s.more,
    );
    const main = buildEditor(this.forms, { submitLabel: s.post, fields: true, draft: true }, (ed) =>
      this.post(ed, null),
    );
    this.root.classList.add('quire');
    this.root.setAttribute('lang', s.lang);
    if (!this.root.hasAttribute('aria-label') && !this.root.hasAttribute('aria-labelledby'))
      this.root.setAttribute('aria-labelledby', `${id}-h`);
    const sort = sortControl(s, this.order, (order) => {
      this.order = order;
      this.tree.order = order;
      void this.load();
    });
    this.root.replaceChildren(this.heading, main.form, this.status, this.alert, sort, list, this.moreButton);
    window.setInterval(() => this.tick(), 30_000);
  }

  /** Loads the first page of comments (or, with `more`, the next page) and renders it. */
  async load(more = false): Promise<void> {
    const s = this.s;
    const list = this.tree.list;
    this.root.classList.add('quire-loading');
    this.root.setAttribute('aria-busy', 'true');
    this.moreButton.disabled = true;
    if (!more) {
      list.replaceChildren(
        ...[0, 1, 2].map(() => h('li', { class: 'quire-skel', 'aria-hidden': 'true' })),
        h('li', { class: 'quire-sr' }, s.loading),
      );
    }
    const seq = ++this.loads;
    try {
      const data = await this.api.page(more ? this.next : null, this.tokens(), serverOrder(this.order));
      if (seq !== this.loads) return;
      update((st) => {
        st.pages[this.api.uri] = data.threadId;
      });
      this.next = data.next;
      if (!more) this.tree.clear();
      for (const c of data.comments) this.tree.insert(c);
      if (this.order === 'liked') this.tree.sortByLikes();
      // The count in the heading and the page's byline follows every load (issue 15: live count).
      this.setTotal(data.total);
      this.alert.textContent = '';
      if (!more) this.revealTarget();
    } catch (err) {
      if (seq !== this.loads) return;
      if (!more) list.replaceChildren();
      this.alert.textContent = `${s.loadFailed} ${explain(s, err)}`;
      list.append(
        h('li', null, h('button', { type: 'button', onclick: () => void this.load(more) }, s.retry)),
      );
    } finally {
      if (seq === this.loads) {
        this.root.classList.remove('quire-loading');
        this.root.removeAttribute('aria-busy');
        this.moreButton.hidden = this.next === null;
        this.moreButton.disabled = false;
      }
    }
  }

  /** Edit tokens of the reader's comments on this page, comma-separated, for the server to show their pending ones. */
  private tokens(): string {
    const saved = load();
    const thread = saved.pages[this.api.uri];
    if (thread === undefined) return '';
    return Object.entries(saved.own)
      .filter(([id]) => threadOf(id) === thread)
      .slice(0, 100)
      .map(([, o]) => o.t)
      .join(',');
  }

  /** A link to #comment-<id> (from a feed) points at a comment that only now exists. */
  private revealTarget(): void {
    const hash = decodeURIComponent(window.location.hash.slice(1));
    if (!hash.startsWith('comment-')) return;
    const el = document.getElementById(hash);
    if (el !== null && this.root.contains(el)) {
      el.scrollIntoView({ block: 'center' });
      el.focus({ preventScroll: true });
    }
  }

  /** The number of comments this reader sees: in the heading, and for the page's count links. */
  private setTotal(total: number): void {
    this.total = total;
    this.heading.textContent = this.s.count(total);
    this.onCount(total);
  }

  /** Refreshes the relative times ("5 minutes ago"). */
  private tick(): void {
    const now = Date.now();
    for (const t of this.root.querySelectorAll<HTMLTimeElement>('time.quire-time')) {
      t.textContent = relativeTime(this.s, t.dateTime, now);
    }
  }

  private announce(msg: string): void {
    this.status.textContent = msg;
  }

  private async post(ed: Editor, parent: string | null): Promise<void> {
    const s = this.s;
    const draft = draftOf(ed, parent);
    if (ed.nonce?.text !== draft.text) ed.nonce = newNonce(draft.text);
    let created: Awaited<ReturnType<ThreadApi['post']>>;
    try {
      created = await this.api.post(draft, ed.nonce);
    } catch (err) {
      ed.error.textContent = explain(s, err);
      return;
    }
    const { comment, editToken, editableUntil } = created.data;
    const until = Date.now() + (Date.parse(editableUntil) - Date.parse(comment.created));
    update((st) => {
      st.own[comment.id] = { t: editToken, u: until, s: Date.now() };
      st.pages[this.api.uri] = threadOf(comment.id);
      st.me = { author: draft.author ?? '', email: draft.email ?? '', website: draft.website ?? '' };
      if (parent === null) delete st.drafts[this.api.uri];
    });
    ed.text.value = '';
    ed.nonce = undefined;
    closePreview(s, ed);
    if (parent !== null) this.closeReply(parent, false);
    const isNew = this.tree.get(comment.id) === undefined;
    const node: CommentNode = this.tree.insert(comment, true);
    // The server's total counts what this reader sees: their own pending comments too.
    this.setTotal(isNew ? this.total + 1 : this.total);
    this.announce(created.status === 202 ? s.postedPending : s.posted);
    const art = node.li.firstElementChild as HTMLElement;
    art.classList.add('quire-new');
    art.focus();
  }

  private toggleReply(id: string, button: HTMLButtonElement): void {
    if (this.replyForms.has(id)) {
      this.closeReply(id, true);
      return;
    }
    const node = this.tree.get(id);
    if (node === undefined) return;
    const s = this.s;
    const ed = buildEditor(
      this.forms,
      { submitLabel: s.postReply, fields: true, cancel: () => this.closeReply(id, true) },
      (e) => this.post(e, id),
    );
    ed.form.setAttribute('aria-label', s.replyTo(node.c.author ?? s.anonymous));
    ed.form.classList.add('quire-reply-form');
    this.replyForms.set(id, ed);
    node.li.insertBefore(ed.form, node.replies);
    button.setAttribute('aria-expanded', 'true');
    ed.text.focus();
  }

  private closeReply(id: string, refocus: boolean): void {
    const ed = this.replyForms.get(id);
    if (ed === undefined) return;
    ed.form.remove();
    this.replyForms.delete(id);
    const button = this.tree.articleOf(id)?.querySelector<HTMLButtonElement>('.quire-reply');
    button?.setAttribute('aria-expanded', 'false');
    if (refocus) button?.focus();
  }

  /** A like, or if this reader liked the comment already, taking it back (issue 15: unlike). */
  private async like(id: string, button: HTMLButtonElement): Promise<void> {
    const node = this.tree.get(id);
    if (node === undefined) return;
    button.disabled = true;
    const liking = button.getAttribute('aria-pressed') !== 'true';
    try {
      const data = await this.api.like(id, !liking);
      node.c.likes = data.likes;
      update((st) => {
        if (liking) st.liked[id] = 1;
        else delete st.liked[id];
      });
      button.textContent = `♥ ${data.likes}`;
      button.setAttribute('aria-label', this.s.like(data.likes));
      button.setAttribute('aria-pressed', String(liking));
      button.classList.toggle('quire-liked', liking);
    } catch (err) {
      this.alert.textContent = explain(this.s, err);
    } finally {
      button.disabled = false;
    }
  }
}
