import type { CommentTree } from './comments.js';
import { h } from './dom.js';
import { buildEditor, type FormContext } from './form.js';
import { load, update } from './storage.js';
import type { ThreadApi } from './thread-api.js';

/** What editing and deleting need from their thread. */
export interface EditingContext {
  form: FormContext;
  api: ThreadApi;
  tree: CommentTree;
  /** A comment of the reader's was deleted: the count goes down, and focus goes to the thread's heading. */
  deleted(message: string): void;
  /** An edit was saved (and said so at the comment): the thread's own message, about something earlier, goes. */
  saved(): void;
}

/**
 * The reader's own comments within their edit window: edit in place, delete after a confirmation. Each answer
 * of the server shows where the reader acted: a saved edit says so at the comment.
 */
export class OwnComments {
  /** Comments with an open edit form: a closing edit window leaves their text alone. */
  private readonly editing = new Set<string>();

  constructor(private readonly t: EditingContext) {}

  /** The edit window has passed: the edit and delete buttons go (unless an edit is open: its text stays). */
  windowClosed(id: string): void {
    if (this.editing.has(id)) return;
    const focused = this.t.tree.articleOf(id)?.contains(document.activeElement) === true;
    const art = this.t.tree.rerender(id);
    if (focused) art?.focus();
  }

  startEdit(id: string): void {
    const { tree, form, api } = this.t;
    const node = tree.get(id);
    const art = tree.articleOf(id);
    if (node === undefined || art === null) return;
    const s = form.s;
    this.editing.add(id);
    const stop = (focus: 'article' | 'edit'): HTMLElement | null => {
      this.editing.delete(id);
      const fresh = tree.rerender(id);
      const target = focus === 'edit' ? fresh?.querySelector<HTMLElement>('.quire-edit') : null;
      (target ?? fresh)?.focus();
      return fresh;
    };
    const ed = buildEditor(
      form,
      { submitLabel: s.save, fields: false, value: node.c.text, cancel: () => stop('edit') },
      async (e) => {
        const token = load().own[id]?.t;
        if (token === undefined) return;
        try {
          const comment = await api.edit(id, token, e.text.value);
          node.c = { ...comment, replies: node.c.replies };
        } catch (err) {
          e.error.textContent = form.explain(err);
          return;
        }
        // Said at the comment, where the reader is looking (focus goes there too, so it is read out).
        stop('article')?.append(h('p', { class: 'quire-status', role: 'status' }, s.saved));
        this.t.saved();
      },
    );
    // Keep the header; the body and buttons make way for the form.
    const header = art.querySelector('header');
    art.replaceChildren(...(header === null ? [] : [header]), ed.form);
    ed.text.focus();
  }

  /** Asks "delete for good?" in place of the comment's buttons. */
  confirmDelete(id: string, button: HTMLButtonElement): void {
    const s = this.t.form.s;
    const bar = button.parentElement;
    if (bar === null) return;
    const no = h(
      'button',
      {
        type: 'button',
        onclick: () => this.t.tree.rerender(id)?.querySelector<HTMLElement>('.quire-delete')?.focus(),
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
    const { tree, form, api } = this.t;
    const node = tree.get(id);
    const token = load().own[id]?.t;
    if (node === undefined || token === undefined) return;
    button.disabled = true;
    try {
      const comment = await api.remove(id, token);
      node.c = { ...comment, replies: node.c.replies };
    } catch (err) {
      button.disabled = false;
      const art = tree.rerender(id);
      art?.append(h('p', { class: 'quire-error', role: 'alert' }, form.explain(err)));
      art?.focus();
      return;
    }
    update((st) => {
      delete st.own[id];
    });
    tree.removeOrTombstone(id);
    this.t.deleted(form.s.removed);
  }
}
