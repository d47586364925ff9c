import { ApiError, type Call, NetworkError } from './api.js';
import { h, safeHref } from './dom.js';
import { absoluteTime, relativeTime, type Strings } from './i18n.js';
import { load, type OwnComment, threadOf, update } from './storage.js';
import type { Comment, Created, ThreadPage } from './types.js';

export interface ThreadOptions {
  /** The thread element on the host page; the widget renders into it. */
  root: HTMLElement;
  call: Call;
  s: Strings;
  /** The page URI comments are filed under (the server normalises it). */
  uri: string;
  title: string;
}

/** A compose or edit form: its text, where its errors go, its submit button. */
interface Editor {
  form: HTMLFormElement;
  text: HTMLTextAreaElement;
  error: HTMLElement;
  submit: HTMLButtonElement;
  fields: {
    author: HTMLInputElement;
    email: HTMLInputElement;
    website: HTMLInputElement;
    hp: HTMLInputElement;
  };
  /** The nonce of the text last sent: a retry of the same text reuses it, so the server stores it once. */
  nonce?: { text: string; value: string; attempts: number };
}

interface Node {
  c: Comment;
  li: HTMLLIElement;
  replies: HTMLOListElement;
}

/** The honeypot field's default name on the server (spam.honeypotField). */
const HONEYPOT = 'url';
const TOKEN_CODES = ['form-token-expired', 'form-token-invalid', 'form-token-missing'];

let seq = 0;

function nonce(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * One comment thread: a compose form, the comments nested by reply, and the reader's own comments editable
 * within the edit window. Everything the server sends is set as text, except each comment's `html`, which the
 * server renders and sanitises.
 */
export class Thread {
  private readonly s: Strings;
  private readonly call: Call;
  private readonly root: HTMLElement;
  private readonly uri: string;
  private readonly title: string;
  private readonly heading: HTMLHeadingElement;
  private readonly status: HTMLElement;
  private readonly alert: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly moreButton: HTMLButtonElement;
  private readonly nodes = new Map<string, Node>();
  private readonly replyForms = new Map<string, Editor>();
  private readonly editing = new Set<string>();
  private readonly timers = new Map<string, number>();
  private formToken = '';
  private total = 0;
  private next: string | null = null;

  constructor(o: ThreadOptions) {
    this.s = o.s;
    this.call = o.call;
    this.root = o.root;
    this.uri = o.uri;
    this.title = o.title;
    const s = this.s;
    const id = `quire-${++seq}`;
    this.heading = h('h2', { id: `${id}-h`, class: 'quire-count', tabindex: -1 }, s.heading);
    this.status = h('p', { class: 'quire-status', role: 'status' });
    this.alert = h('p', { class: 'quire-error', role: 'alert' });
    this.list = h('ol', { class: 'quire-list', 'aria-labelledby': `${id}-h` });
    this.moreButton = h(
      'button',
      { type: 'button', hidden: true, onclick: () => void this.load(true) },
      s.more,
    );
    const main = this.editor({ submitLabel: s.post, fields: true, draft: true }, (ed) => this.post(ed, null));
    this.root.classList.add('quire');
    this.root.setAttribute('lang', s.lang);
    if (!this.root.hasAttribute('aria-label') && !this.root.hasAttribute('aria-labelledby'))
      this.root.setAttribute('aria-labelledby', `${id}-h`);
    this.root.replaceChildren(this.heading, main.form, this.status, this.alert, this.list, this.moreButton);
    window.setInterval(() => this.tick(), 30_000);
  }

  // --- loading -------------------------------------------------------------------------------------------

  /** Loads the first page of comments (or, with `more`, the next page) and renders it. */
  async load(more = false): Promise<void> {
    const s = this.s;
    this.root.classList.add('quire-loading');
    this.root.setAttribute('aria-busy', 'true');
    this.moreButton.disabled = true;
    if (!more) {
      this.list.replaceChildren(
        ...[0, 1, 2].map(() => h('li', { class: 'quire-skel', 'aria-hidden': 'true' })),
        h('li', { class: 'quire-sr' }, s.loading),
      );
    }
    try {
      let q = `/api/comments?uri=${encodeURIComponent(this.uri)}`;
      if (more && this.next !== null) q += `&after=${encodeURIComponent(this.next)}`;
      const tokens = this.tokens();
      const { data } = await this.call<ThreadPage>(
        'GET',
        q,
        undefined,
        tokens === '' ? {} : { 'x-quire-edit-token': tokens },
      );
      update((st) => {
        st.pages[this.uri] = data.threadId;
      });
      this.formToken = data.formToken;
      this.total = data.total;
      this.next = data.next;
      if (!more) this.list.replaceChildren();
      for (const c of data.comments) if (!this.nodes.has(c.id)) this.list.append(this.render(c).li);
      this.count();
      this.alert.textContent = '';
      if (!more) this.revealTarget();
    } catch (err) {
      if (!more) this.list.replaceChildren();
      this.alert.textContent = `${s.loadFailed} ${this.explain(err)}`;
      this.list.append(
        h('li', null, h('button', { type: 'button', onclick: () => void this.load(more) }, s.retry)),
      );
    } finally {
      this.root.classList.remove('quire-loading');
      this.root.removeAttribute('aria-busy');
      this.moreButton.hidden = this.next === null;
      this.moreButton.disabled = false;
    }
  }

  /** Edit tokens of the reader's comments on this page, comma-separated, for the server to show their pending ones. */
  private tokens(): string {
    const saved = load();
    const thread = saved.pages[this.uri];
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

  private count(): void {
    this.heading.textContent = this.s.count(this.total);
  }

  /** Refreshes the relative times ("5 minutes ago"). */
  private tick(): void {
    const now = Date.now();
    for (const t of this.root.querySelectorAll<HTMLTimeElement>('time.quire-time')) {
      t.textContent = relativeTime(this.s, t.dateTime, now);
    }
  }

  // --- rendering -----------------------------------------------------------------------------------------

  private own(id: string): OwnComment | undefined {
    return load().own[id];
  }

  private render(c: Comment): Node {
    const replies = h('ol', { class: 'quire-replies' });
    const li = h('li', { class: 'quire-c' }, this.article(c), replies);
    const node: Node = { c, li, replies };
    this.nodes.set(c.id, node);
    for (const r of c.replies) replies.append(this.render(r).li);
    return node;
  }

  /** Replaces a comment's article (keeps its replies and an open reply form). */
  private rerender(id: string): HTMLElement | null {
    const node = this.nodes.get(id);
    const old = node?.li.firstElementChild;
    if (node === undefined || old === null || old === undefined) return null;
    const art = this.article(node.c);
    node.li.replaceChild(art, old);
    return art;
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
    art.append(h('header', { class: 'quire-meta' }, author, time, edited), body);
    if (c.status === 'pending') art.append(h('p', { class: 'quire-pending' }, s.pending));
    art.append(this.actions(c));
    return art;
  }

  private actions(c: Comment): HTMLElement {
    const s = this.s;
    const bar = h('div', { class: 'quire-actions' });
    if (c.status === 'approved') {
      const open = this.replyForms.has(c.id);
      bar.append(
        h(
          'button',
          {
            type: 'button',
            class: 'quire-reply',
            'aria-expanded': String(open),
            onclick: (e) => this.toggleReply(c.id, e.currentTarget as HTMLButtonElement),
          },
          s.reply,
        ),
      );
      const liked = load().liked[c.id] === 1;
      const like = h(
        'button',
        {
          type: 'button',
          class: liked ? 'quire-like quire-liked' : 'quire-like',
          'aria-pressed': String(liked),
          'aria-label': s.like(c.likes),
          onclick: () => void this.like(c.id, like),
        },
        `♥ ${c.likes}`,
      );
      bar.append(like);
    }
    const own = this.own(c.id);
    const left = own === undefined ? 0 : own.u - Date.now();
    if (left > 0) {
      bar.append(
        h('button', { type: 'button', class: 'quire-edit', onclick: () => this.startEdit(c.id) }, s.edit),
        h(
          'button',
          {
            type: 'button',
            class: 'quire-delete',
            onclick: (e) => this.confirmDelete(c.id, e.currentTarget as HTMLButtonElement),
          },
          s.delete,
        ),
      );
      const old = this.timers.get(c.id);
      if (old !== undefined) window.clearTimeout(old);
      this.timers.set(
        c.id,
        window.setTimeout(() => this.windowClosed(c.id), Math.min(left + 50, 2 ** 31 - 1)),
      );
    }
    return bar;
  }

  /** The edit window has passed: the edit and delete buttons go (unless an edit is open: its text stays). */
  private windowClosed(id: string): void {
    this.timers.delete(id);
    if (this.editing.has(id)) return;
    const focused = this.nodes.get(id)?.li.firstElementChild?.contains(document.activeElement) === true;
    const art = this.rerender(id);
    if (focused) art?.focus();
  }

  private insert(c: Comment): Node {
    const existing = this.nodes.get(c.id);
    if (existing !== undefined) return existing;
    const node = this.render(c);
    const parent = c.parent === null ? undefined : this.nodes.get(c.parent);
    (parent?.replies ?? this.list).append(node.li);
    return node;
  }

  // --- forms ---------------------------------------------------------------------------------------------

  /** Builds a compose form (with name, e-mail, website) or an edit form (text only). */
  private editor(
    o: { submitLabel: string; fields: boolean; value?: string; draft?: boolean; cancel?: () => void },
    onSubmit: (ed: Editor) => Promise<void>,
  ): Editor {
    const s = this.s;
    const id = `quire-${++seq}`;
    const saved = load();
    const input = (name: string, label: string, note: string | null, type: string, auto: string, v: string) =>
      h(
        'div',
        null,
        h('label', { for: `${id}-${name}` }, label, note === null ? null : ' ', note),
        h('input', {
          id: `${id}-${name}`,
          name,
          type,
          autocomplete: auto,
          value: v,
        }),
      );
    const author = input('author', s.name, s.optional, 'text', 'name', saved.me.author);
    const email = input('email', s.email, s.emailNote, 'email', 'email', saved.me.email);
    const website = input('website', s.website, s.optional, 'url', 'url', saved.me.website);
    const hp = h('input', {
      id: `${id}-hp`,
      name: HONEYPOT,
      type: 'text',
      tabindex: -1,
      autocomplete: 'off',
    });
    const text = h('textarea', {
      id: `${id}-text`,
      name: 'text',
      rows: 5,
      required: true,
      'aria-describedby': `${id}-hint ${id}-error`,
    });
    text.value = o.value ?? (o.draft ? (saved.drafts[this.uri] ?? '') : '');
    const preview = h('div', {
      id: `${id}-preview`,
      class: 'quire-preview quire-body',
      role: 'region',
      'aria-label': s.previewOf,
      hidden: true,
    });
    const error = h('p', { id: `${id}-error`, class: 'quire-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'quire-primary' }, o.submitLabel);
    const previewButton = h(
      'button',
      {
        type: 'button',
        class: 'quire-preview-toggle',
        'aria-controls': `${id}-preview`,
        'aria-expanded': 'false',
        onclick: () => void this.togglePreview(ed, preview, previewButton),
      },
      s.preview,
    );
    const form = h(
      'form',
      { class: 'quire-form', 'aria-label': o.fields ? s.newComment : s.edit },
      o.fields ? h('div', { class: 'quire-fields' }, author, email, website) : null,
      o.fields
        ? h(
            'div',
            { class: 'quire-hp', 'aria-hidden': 'true' },
            h('label', { for: `${id}-hp` }, s.honeypot),
            hp,
          )
        : null,
      h('label', { for: `${id}-text` }, s.text),
      text,
      preview,
      h('p', { id: `${id}-hint`, class: 'quire-hint' }, s.hint),
      error,
      h(
        'div',
        { class: 'quire-buttons' },
        submit,
        previewButton,
        o.cancel ? h('button', { type: 'button', onclick: o.cancel }, s.cancel) : null,
      ),
    );
    const ed: Editor = {
      form,
      text,
      error,
      submit,
      fields: {
        author: author.querySelector('input') as HTMLInputElement,
        email: email.querySelector('input') as HTMLInputElement,
        website: website.querySelector('input') as HTMLInputElement,
        hp,
      },
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      const label = submit.textContent;
      submit.disabled = true;
      submit.textContent = o.fields ? s.posting : s.saving;
      ed.error.textContent = '';
      form.setAttribute('aria-busy', 'true');
      void onSubmit(ed).finally(() => {
        submit.disabled = false;
        submit.textContent = label;
        form.removeAttribute('aria-busy');
      });
    });
    text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    if (o.draft) {
      text.addEventListener('input', () =>
        update((st) => {
          st.drafts[this.uri] = text.value;
        }),
      );
    }
    return ed;
  }

  private async togglePreview(ed: Editor, preview: HTMLElement, button: HTMLButtonElement): Promise<void> {
    const s = this.s;
    if (!preview.hidden) {
      preview.hidden = true;
      ed.text.hidden = false;
      button.textContent = s.preview;
      button.setAttribute('aria-expanded', 'false');
      ed.text.focus();
      return;
    }
    ed.error.textContent = '';
    const text = ed.text.value;
    if (text.trim() === '') {
      preview.textContent = s.previewEmpty;
    } else {
      try {
        const { data } = await this.call<{ html: string }>('POST', '/api/preview', { text });
        // Rendered and sanitised by the server, like a posted comment's `html`.
        preview.innerHTML = data.html;
      } catch (err) {
        ed.error.textContent = this.explain(err);
        return;
      }
    }
    preview.hidden = false;
    ed.text.hidden = true;
    button.textContent = s.write;
    button.setAttribute('aria-expanded', 'true');
  }

  /** Leaves preview mode, so that the text is what the reader sees when it is sent. */
  private closePreview(ed: Editor): void {
    if (!ed.text.hidden) return;
    const toggle = ed.form.querySelector<HTMLButtonElement>('.quire-preview-toggle');
    const preview = ed.form.querySelector<HTMLElement>('.quire-preview');
    if (toggle === null || preview === null) return;
    preview.hidden = true;
    ed.text.hidden = false;
    toggle.textContent = this.s.preview;
    toggle.setAttribute('aria-expanded', 'false');
  }

  /** A message for an error: the server's own detail when it refused, else what went wrong. */
  private explain(err: unknown): string {
    const s = this.s;
    if (err instanceof NetworkError) return s.unreachable;
    if (err instanceof ApiError) {
      const detail = err.problem?.detail ?? err.message;
      if (err.problem?.code === 'edit-window-closed') return s.windowClosed;
      if (err.status === 429) return `${s.tooMany} ${detail}`;
      if (err.status >= 500) return s.serverError;
      return `${s.refused} ${detail}`;
    }
    return s.serverError;
  }

  private announce(msg: string): void {
    this.status.textContent = msg;
  }

  // --- actions -------------------------------------------------------------------------------------------

  private async post(ed: Editor, parent: string | null): Promise<void> {
    const s = this.s;
    const text = ed.text.value;
    if (ed.nonce?.text !== text) ed.nonce = { text, value: nonce(), attempts: 0 };
    const sent = ed.nonce;
    const f = ed.fields;
    const body: Record<string, unknown> = {
      uri: this.uri,
      title: this.title.slice(0, 300),
      text,
      author: f.author.value.trim() || null,
      email: f.email.value.trim() || null,
      website: f.website.value.trim() || null,
      parent,
      nonce: sent.value,
      // Numbered, so the server stores a first attempt without searching for an earlier one.
      attempt: ++sent.attempts,
      formToken: this.formToken,
    };
    if (f.hp.value !== '') body[HONEYPOT] = f.hp.value;
    let created: { status: number; data: Created };
    try {
      try {
        created = await this.call<Created>('POST', '/api/comments', body);
      } catch (err) {
        if (!(err instanceof ApiError) || !TOKEN_CODES.includes(err.problem?.code ?? '')) throw err;
        // The form token aged out while the reader was writing: get a fresh one and send once more.
        const { data } = await this.call<{ formToken: string }>('GET', '/api/form-token');
        this.formToken = data.formToken;
        body.formToken = data.formToken;
        body.attempt = ++sent.attempts;
        created = await this.call<Created>('POST', '/api/comments', body);
      }
    } catch (err) {
      ed.error.textContent = this.explain(err);
      return;
    }
    const { comment, editToken, editableUntil } = created.data;
    const until = Date.now() + (Date.parse(editableUntil) - Date.parse(comment.created));
    update((st) => {
      st.own[comment.id] = { t: editToken, u: until, s: Date.now() };
      st.pages[this.uri] = threadOf(comment.id);
      st.me = { author: f.author.value.trim(), email: f.email.value.trim(), website: f.website.value.trim() };
      if (parent === null) delete st.drafts[this.uri];
    });
    ed.text.value = '';
    ed.nonce = undefined;
    this.closePreview(ed);
    if (parent !== null) this.closeReply(parent, false);
    const isNew = !this.nodes.has(comment.id);
    const node = this.insert(comment);
    // The server's total counts what this reader sees: their own pending comments too.
    if (isNew) this.total++;
    this.count();
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
    const node = this.nodes.get(id);
    if (node === undefined) return;
    const s = this.s;
    const ed = this.editor(
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
    const button = this.nodes.get(id)?.li.firstElementChild?.querySelector<HTMLButtonElement>('.quire-reply');
    button?.setAttribute('aria-expanded', 'false');
    if (refocus) button?.focus();
  }

  private async like(id: string, button: HTMLButtonElement): Promise<void> {
    const node = this.nodes.get(id);
    if (node === undefined) return;
    button.disabled = true;
    try {
      const { data } = await this.call<{ likes: number; counted: boolean }>(
        'POST',
        `/api/comments/${encodeURIComponent(id)}/like`,
      );
      node.c.likes = data.likes;
      update((st) => {
        st.liked[id] = 1;
      });
      button.textContent = `♥ ${data.likes}`;
      button.setAttribute('aria-label', this.s.like(data.likes));
      button.setAttribute('aria-pressed', 'true');
      button.classList.add('quire-liked');
    } catch (err) {
      this.alert.textContent = this.explain(err);
    } finally {
      button.disabled = false;
    }
  }

  private startEdit(id: string): void {
    const node = this.nodes.get(id);
    const art = node?.li.firstElementChild;
    if (node === undefined || art === null || art === undefined) return;
    const s = this.s;
    this.editing.add(id);
    const stop = (focus: 'article' | 'edit') => {
      this.editing.delete(id);
      const fresh = this.rerender(id);
      const target = focus === 'edit' ? fresh?.querySelector<HTMLElement>('.quire-edit') : null;
      (target ?? fresh)?.focus();
    };
    const ed = this.editor(
      { submitLabel: s.save, fields: false, value: node.c.text, cancel: () => stop('edit') },
      async (e) => {
        const token = this.own(id)?.t;
        if (token === undefined) return;
        try {
          const { data } = await this.call<{ comment: Comment }>(
            'PATCH',
            `/api/comments/${encodeURIComponent(id)}`,
            { text: e.text.value },
            { 'x-quire-edit-token': token },
          );
          node.c = { ...data.comment, replies: node.c.replies };
        } catch (err) {
          e.error.textContent = this.explain(err);
          return;
        }
        this.announce(s.saved);
        stop('article');
      },
    );
    // Keep the header; the body and buttons make way for the form.
    const header = art.querySelector('header');
    art.replaceChildren(...(header === null ? [] : [header]), ed.form);
    ed.text.focus();
  }

  private confirmDelete(id: string, button: HTMLButtonElement): void {
    const s = this.s;
    const bar = button.parentElement;
    if (bar === null) return;
    const no = h(
      'button',
      {
        type: 'button',
        onclick: () => this.rerender(id)?.querySelector<HTMLElement>('.quire-delete')?.focus(),
      },
      s.confirmNo,
    );
    const yes = h(
      'button',
      { type: 'button', class: 'quire-primary', onclick: () => void this.remove(id, yes) },
      s.confirmYes,
    );
    const group = h(
      'div',
      { class: 'quire-actions', role: 'group', 'aria-label': s.confirmDelete },
      h('span', null, s.confirmDelete),
      yes,
      no,
    );
    bar.replaceWith(group);
    yes.focus();
  }

  private async remove(id: string, button: HTMLButtonElement): Promise<void> {
    const node = this.nodes.get(id);
    const token = this.own(id)?.t;
    if (node === undefined || token === undefined) return;
    button.disabled = true;
    try {
      const { data } = await this.call<{ comment: Comment }>(
        'DELETE',
        `/api/comments/${encodeURIComponent(id)}`,
        undefined,
        { 'x-quire-edit-token': token },
      );
      node.c = { ...data.comment, replies: node.c.replies };
    } catch (err) {
      button.disabled = false;
      const msg = this.explain(err);
      const art = this.rerender(id);
      art?.append(h('p', { class: 'quire-error', role: 'alert' }, msg));
      art?.focus();
      return;
    }
    update((st) => {
      delete st.own[id];
    });
    this.total = Math.max(0, this.total - 1);
    this.count();
    if (node.replies.childElementCount > 0) this.rerender(id);
    else {
      node.li.remove();
      this.nodes.delete(id);
    }
    this.announce(this.s.removed);
    this.heading.focus();
  }
}
