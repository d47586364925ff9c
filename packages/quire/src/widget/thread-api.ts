import { ApiError, type Call, NetworkError } from './api.js';
import { ComposeTimer } from './compose-timer.js';
import type { Strings } from './i18n.js';
import type { Comment, Created, ThreadPage } from './types.js';

/** The honeypot field's default name on the server (spam.honeypotField). */
export const HONEYPOT = 'url';
const TOKEN_CODES = ['form-token-expired', 'form-token-invalid', 'form-token-missing'];

/** What a reader sends with a new comment, as typed. */
export interface Draft {
  text: string;
  author: string | null;
  email: string | null;
  website: string | null;
  parent: string | null;
  /** Mail me replies (needs `email`). */
  notify: boolean;
  /** The honeypot field: filled in only by bots. */
  honeypot: string;
}

/** The nonce of a text being sent: a retry of the same text reuses it, so the server stores it once. */
export interface SentNonce {
  text: string;
  value: string;
  attempts: number;
}

export function newNonce(text: string): SentNonce {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return { text, value: Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''), attempts: 0 };
}

/** A message for an error: the server's own detail when it refused, else what went wrong. */
export function explain(s: Strings, err: unknown): string {
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

const commentPath = (id: string) => `/api/comments/${encodeURIComponent(id)}`;

/** The requests of one thread to the comment service; its form token is the compose timer's. */
export class ThreadApi {
  /** The form token and when it may be used (compose-timer.ts). */
  readonly timer: ComposeTimer;

  constructor(
    private readonly call: Call,
    /** The page URI comments are filed under (the server normalises it). */
    readonly uri: string,
    private readonly title: string,
  ) {
    this.timer = new ComposeTimer(call, uri);
  }

  /**
   * A page of the thread: the first, or the one after comment `after`, oldest or newest first. `editTokens`
   * show the reader's pending ones.
   */
  async page(after: string | null, editTokens: string, order: 'oldest' | 'newest'): Promise<ThreadPage> {
    let q = `/api/comments?uri=${encodeURIComponent(this.uri)}`;
    if (order !== 'oldest') q += `&order=${order}`;
    if (after !== null) q += `&after=${encodeURIComponent(after)}`;
    const headers: Record<string, string> = editTokens === '' ? {} : { 'x-quire-edit-token': editTokens };
    const { data } = await this.call<ThreadPage>('GET', q, undefined, headers);
    this.timer.fromPage(data.formToken, data.minComposeSeconds);
    return data;
  }

  /**
   * Posts a comment once its form token is good (the timer waits silently). A token that aged out while the
   * reader was writing is renewed, and a "too fast" from the server waited out, each before one more try.
   */
  async post(d: Draft, sent: SentNonce): Promise<{ status: number; data: Created }> {
    const body: Record<string, unknown> = {
      uri: this.uri,
      title: this.title.slice(0, 300),
      text: d.text,
      author: d.author,
      email: d.email,
      website: d.website,
      parent: d.parent,
      nonce: sent.value,
      formToken: await this.timer.ready(),
    };
    if (d.notify) body.notify = true;
    if (d.honeypot !== '') body[HONEYPOT] = d.honeypot;
    for (let retries = 0; ; retries++) {
      // Numbered, so the server stores a first attempt without searching for an earlier one.
      body.attempt = ++sent.attempts;
      try {
        return await this.call<Created>('POST', '/api/comments', body);
      } catch (err) {
        const code = err instanceof ApiError ? (err.problem?.code ?? '') : '';
        if (retries >= 2 || !(code === 'too-fast' || TOKEN_CODES.includes(code))) throw err;
        if (code === 'too-fast') await this.timer.tooFast((err as ApiError).problem?.retryAfter);
        else body.formToken = await this.timer.renew();
      }
    }
  }

  /** The server's rendering of a text, sanitised like a posted comment's `html`. */
  async preview(text: string): Promise<string> {
    return (await this.call<{ html: string }>('POST', '/api/preview', { text })).data.html;
  }

  /** Likes a comment, or with `withdraw` takes this reader's like back (a second click: unlike). */
  async like(id: string, withdraw: boolean): Promise<{ likes: number; counted: boolean }> {
    const method = withdraw ? 'DELETE' : 'POST';
    return (await this.call<{ likes: number; counted: boolean }>(method, `${commentPath(id)}/like`)).data;
  }

  /** Changes the text of the reader's own comment (`token` is its edit token). */
  async edit(id: string, token: string, text: string): Promise<Comment> {
    const headers = { 'x-quire-edit-token': token };
    return (await this.call<{ comment: Comment }>('PATCH', commentPath(id), { text }, headers)).data.comment;
  }

  /** Deletes the reader's own comment; resolves with what is left of it (a tombstone). */
  async remove(id: string, token: string): Promise<Comment> {
    const headers = { 'x-quire-edit-token': token };
    return (await this.call<{ comment: Comment }>('DELETE', commentPath(id), undefined, headers)).data
      .comment;
  }
}
