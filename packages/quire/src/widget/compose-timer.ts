import type { Call } from './api.js';

/** A pause of `ms` (the widget's own wait; nothing else depends on it). */
const pause = (ms: number) => new Promise<void>((resolve) => window.setTimeout(resolve, Math.max(0, ms)));

/**
 * The form token a post is sent with, and when the server will take it (issue 15). The server accepts a token
 * spam.minComposeSeconds after issuing it; the widget asks for its token when the reader starts writing (the
 * first focus or input in a compose form), so the minimum counts from then, not from the page load, and a post
 * sent sooner waits silently until the token is good instead of earning a "too fast" error.
 *
 * Times are this browser's clock, measured from the token's answer: the server issued the token before it
 * answered, and rounds the issue time up to its next second, hence one second more than the minimum. Clocks
 * need not agree, only tick alike.
 */
export class ComposeTimer {
  private token = '';
  /** When (this browser's clock, ms) the token's answer came. */
  private tokenAt = 0;
  /** From the page answer, which may come after the reader started writing: read when posting. */
  private minSeconds = 0;
  private fetching: Promise<void> | null = null;
  /** The token is the reader's own (asked for when they started writing), not the page answer's. */
  private own = false;

  constructor(
    private readonly call: Call,
    private readonly uri: string,
  ) {}

  /** The token and minimum of a page answer: used if the reader posts before a token of their own came. */
  fromPage(token: string, minComposeSeconds: number | undefined): void {
    this.minSeconds = minComposeSeconds ?? 0;
    if (this.own) return;
    this.token = token;
    this.tokenAt = Date.now();
  }

  /** The reader started writing: a token of their own, counted from now (once per page view). */
  started(): void {
    this.fetching ??= this.fetch().catch(() => {
      // Offline or refused: the page's token stays, and the post says what is wrong.
    });
  }

  /** A new token at once (the last one expired while the reader wrote). */
  async renew(): Promise<string> {
    await this.fetch();
    return this.ready();
  }

  /** The token to post with, once the server will accept it: waits silently if the reader was quicker. */
  async ready(): Promise<string> {
    this.started();
    await this.fetching;
    const delay = this.minSeconds > 0 ? (this.minSeconds + 1) * 1000 : 0;
    await pause(this.tokenAt + delay - Date.now());
    return this.token;
  }

  /** The server said "too fast" anyway (another server's setting): wait as long as it says, then go on. */
  async tooFast(retryAfterSeconds: number | undefined): Promise<void> {
    await pause(Math.min(60, Math.max(1, retryAfterSeconds ?? 1)) * 1000);
  }

  private async fetch(): Promise<void> {
    const q = `/api/form-token?uri=${encodeURIComponent(this.uri)}`;
    const { data } = await this.call<{ formToken: string }>('GET', q);
    this.token = data.formToken;
    this.tokenAt = Date.now();
    this.own = true;
  }
}
