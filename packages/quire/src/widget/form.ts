import { h, nextId } from './dom.js';
import type { Strings } from './i18n.js';
import { load, update } from './storage.js';
import { type Draft, HONEYPOT, type SentNonce } from './thread-api.js';

/** A compose or edit form: its text, where its errors go, its submit button. */
export interface Editor {
  form: HTMLFormElement;
  text: HTMLTextAreaElement;
  error: HTMLElement;
  submit: HTMLButtonElement;
  /** The name, e-mail and website inputs and the honeypot (a compose form; an edit form has none). */
  fields: ContactFields | null;
  /** The nonce of the text last sent: a retry of the same text reuses it, so the server stores it once. */
  nonce?: SentNonce;
}

interface ContactFields {
  author: HTMLInputElement;
  email: HTMLInputElement;
  website: HTMLInputElement;
  /** "Notify me of replies": checked, it makes the e-mail field required. */
  notify: HTMLInputElement;
  hp: HTMLInputElement;
}

/** What a form needs from its thread. */
export interface FormContext {
  s: Strings;
  /** The page URI the thread files comments under (drafts are kept per page). */
  uri: string;
  /** The server's rendering of a text. */
  preview(text: string): Promise<string>;
  explain(err: unknown): string;
  /** The reader started writing a comment (the first focus or input in a compose form): the compose timer starts. */
  started(): void;
}

export interface EditorOptions {
  submitLabel: string;
  /** A compose form (name, e-mail, website) rather than an edit form (text only). */
  fields: boolean;
  /** The text to start with (an edit); else the page's saved draft if `draft`, else nothing. */
  value?: string;
  /** Keep what is typed as the page's draft in localStorage. */
  draft?: boolean;
  cancel?: () => void;
}

/** The name, e-mail and website fields, filled with what the reader used last time, and the honeypot. */
function contactFields(
  s: Strings,
  id: string,
): { visible: HTMLElement; trap: HTMLElement; inputs: ContactFields } {
  const me = load().me;
  const field = (name: string, label: string, note: string, type: string, auto: string, v: string) => {
    // A small intrinsic size (its width is 100% of the field anyway), so that the label sets a field's minimum width.
    const input = h('input', { id: `${id}-${name}`, name, type, autocomplete: auto, value: v, size: 10 });
    const noteEl = h('span', { class: 'quire-note' }, note);
    const div = h('div', null, h('label', { for: `${id}-${name}` }, label, ' ', noteEl), input);
    return { div, input, note: noteEl };
  };
  const author = field('author', s.name, s.optional, 'text', 'name', me.author);
  const email = field('email', s.email, s.emailNote, 'email', 'email', me.email);
  const website = field('website', s.website, s.optional, 'url', 'url', me.website);
  const hp = h('input', { id: `${id}-hp`, name: HONEYPOT, type: 'text', tabindex: -1, autocomplete: 'off' });
  const notify = notifyBox(s, id, email.input, email.note);
  return {
    visible: h(
      'div',
      null,
      h('div', { class: 'quire-fields' }, author.div, email.div, website.div),
      notify.div,
    ),
    trap: h(
      'div',
      { class: 'quire-hp', 'aria-hidden': 'true' },
      h('label', { for: `${id}-hp` }, s.honeypot),
      hp,
    ),
    inputs: { author: author.input, email: email.input, website: website.input, notify: notify.input, hp },
  };
}

/**
 * The "Notify me of replies" checkbox (issue 15). Mail needs an address: ticked, it makes the e-mail field
 * required (the browser then refuses to send the form without one and says so) and the field's note says why.
 */
function notifyBox(s: Strings, id: string, email: HTMLInputElement, note: HTMLElement) {
  const input = h('input', { id: `${id}-notify`, name: 'notify', type: 'checkbox' });
  input.addEventListener('change', () => {
    email.required = input.checked;
    note.textContent = input.checked ? s.emailNeeded : s.emailNote;
  });
  const div = h('div', { class: 'quire-check' }, input, h('label', { for: `${id}-notify` }, s.notify));
  return { div, input };
}

/** Builds a compose form (with name, e-mail, website) or an edit form (text only). */
export function buildEditor(
  ctx: FormContext,
  o: EditorOptions,
  onSubmit: (ed: Editor) => Promise<void>,
): Editor {
  const s = ctx.s;
  const id = nextId();
  const contact = o.fields ? contactFields(s, id) : null;
  const text = h('textarea', {
    id: `${id}-text`,
    name: 'text',
    rows: 5,
    required: true,
    'aria-describedby': `${id}-hint ${id}-error`,
  });
  text.value = o.value ?? (o.draft ? (load().drafts[ctx.uri] ?? '') : '');
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
      onclick: () => void togglePreview(ctx, ed, preview, previewButton),
    },
    s.preview,
  );
  const form = h(
    'form',
    { class: 'quire-form', 'aria-label': o.fields ? s.newComment : s.edit },
    contact?.visible,
    contact?.trap,
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
  const ed: Editor = { form, text, error, submit, fields: contact?.inputs ?? null };
  wire(ctx, ed, o, onSubmit);
  return ed;
}

/** Submitting (one at a time, the button says so), Ctrl+Enter, and keeping the draft. */
function wire(ctx: FormContext, ed: Editor, o: EditorOptions, onSubmit: (ed: Editor) => Promise<void>): void {
  const { form, submit, text } = ed;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    const label = submit.textContent;
    submit.disabled = true;
    submit.textContent = o.fields ? ctx.s.posting : ctx.s.saving;
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
  if (o.fields) {
    const start = () => ctx.started();
    form.addEventListener('focusin', start, { once: true });
    form.addEventListener('input', start, { once: true });
  }
  if (o.draft) {
    text.addEventListener('input', () =>
      update((st) => {
        st.drafts[ctx.uri] = text.value;
      }),
    );
  }
}

/** What a compose form holds, ready to send as a comment (or a reply to `parent`). */
export function draftOf(ed: Editor, parent: string | null): Draft {
  const f = ed.fields;
  const value = (input: HTMLInputElement | undefined) => input?.value.trim() || null;
  return {
    text: ed.text.value,
    author: value(f?.author),
    email: value(f?.email),
    website: value(f?.website),
    parent,
    notify: (f?.notify.checked ?? false) && value(f?.email) !== null,
    honeypot: f?.hp.value ?? '',
  };
}

async function togglePreview(
  ctx: FormContext,
  ed: Editor,
  preview: HTMLElement,
  button: HTMLButtonElement,
): Promise<void> {
  const s = ctx.s;
  if (!preview.hidden) {
    closePreview(s, ed);
    ed.text.focus();
    return;
  }
  ed.error.textContent = '';
  const text = ed.text.value;
  if (text.trim() === '') {
    preview.textContent = s.previewEmpty;
  } else {
    try {
      // Rendered and sanitised by the server, like a posted comment's `html`.
      preview.innerHTML = await ctx.preview(text);
    } catch (err) {
      ed.error.textContent = ctx.explain(err);
      return;
    }
  }
  preview.hidden = false;
  ed.text.hidden = true;
  button.textContent = s.write;
  button.setAttribute('aria-expanded', 'true');
}

/** Leaves preview mode, so that the text is what the reader sees when it is sent. */
export function closePreview(s: Strings, ed: Editor): void {
  if (!ed.text.hidden) return;
  const toggle = ed.form.querySelector<HTMLButtonElement>('.quire-preview-toggle');
  const preview = ed.form.querySelector<HTMLElement>('.quire-preview');
  if (toggle === null || preview === null) return;
  preview.hidden = true;
  ed.text.hidden = false;
  toggle.textContent = s.preview;
  toggle.setAttribute('aria-expanded', 'false');
}
