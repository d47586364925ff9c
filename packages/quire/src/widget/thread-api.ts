import { ApiError, type Call, NetworkError } from './api.js';
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

/** The requests of one thread to the comment service; it keeps the form token the last page came with. */
export class ThreadApi {
  private formToken = '';

  constructor(
    private readonly call: Call,
    /** The page URI comments are filed under (the server normalises it). */
    readonly uri: string,
    private readonly title: string,
  ) {}

  /** A page of the thread: the first, or the one after comment `after`. `editTokens` show the reader's pending ones. */
  async page(after: string | null, editTokens: string): Promise<ThreadPage> {
    let q = `/api/comments?uri=${encodeURIComponent(this.uri)}`;
    if (after !== null) q += `&after=${encodeURIComponent(after)}`;
    const headers: Record<string, string> = editTokens === '' ? {} : { 'x-quire-edit-token': editTokens };
    const { data } = await this.call<ThreadPage>('GET', q, undefined, headers);
    this.formToken = data.formToken;
    return data;
  }

  /** Posts a comment; a form token that aged out while the reader was writing is renewed and sent once more. */
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
      // Numbered, so the server stores a first attempt without searching for an earlier one.
      attempt: ++sent.attempts,
      formToken: this.formToken,
    };
    if (d.honeypot !== '') body[HONEYPOT] = d.honeypot;
    try {
      return await this.call<Created>('POST', '/api/comments', body);
    } catch (err) {
      if (!(err instanceof ApiError) || !TOKEN_CODES.includes(err.problem?.code ?? '')) throw err;
      const { data } = await this.call<{ formToken: string }>(
        'GET',
        `/api/form-token?uri=${encodeURIComponent(this.uri)}`,
      );
      this.formToken = data.formToken;
      body.formToken = data.formToken;
      body.attempt = ++sent.attempts;
      return await this.call<Created>('POST', '/api/comments', body);
    }
  }

  /** The server's rendering of a text, sanitised like a posted comment's `html`. */
  async preview(text: string): Promise<string> {
    return (await this.call<{ html: string }>('POST', '/api/preview', { text })).data.html;
  }

  async like(id: string): Promise<{ likes: number; counted: boolean }> {
    return (await this.call<{ likes: number; counted: boolean }>('POST', `${commentPath(id)}/like`)).data;
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
