import type { QuireConfig } from '../config.js';
import { truncateIp } from '../store/address.js';
import { parseCommentId } from '../store/records.js';
import type { Hmacs } from '../store/secret.js';
import { SharedLimits } from '../store/shared-state.js';
import type { CommentStore } from '../store/store.js';
import { normaliseUri, threadIdOf } from '../store/uri.js';
import { ProblemError } from './problem.js';
import { RateLimiter } from './ratelimit.js';

/**
 * The refusal of a form token that is not one this service issued for this page and network. The honeypot's
 * refusal is this very problem too: a bot learns nothing about which check it failed.
 */
export function formTokenInvalid(): ProblemError {
  return new ProblemError(
    400,
    'form-token-invalid',
    'formToken is not a token this service issued for this page',
  );
}

/** What every route needs: the resolved config, the store, the clock and the rate limiter. */
export class ServerContext {
  readonly limiter: RateLimiter;
  /** The store's HMACs, which sign the tokens. */
  readonly hmacs: Hmacs;
  /** Origins that may send state-changing requests: the site origins and the service's own public origin. */
  readonly writeOrigins: Set<string>;
  /** Set when shutdown begins: answers then carry `Connection: close`, so keep-alive clients let go. */
  closing = false;
  /** normaliseUri and threadIdOf (pure functions of the URI and the config) of the URIs asked for lately. */
  private readonly pages = new Map<string, { uri: string; threadId: string }>();

  constructor(
    readonly config: QuireConfig,
    readonly store: CommentStore,
    readonly clock: () => number,
  ) {
    this.limiter = new RateLimiter(new SharedLimits(store.dataDir, store.hmacs), clock);
    this.hmacs = store.hmacs;
    this.writeOrigins = new Set(config.origins);
    if (config.publicUrl !== null) this.writeOrigins.add(new URL(config.publicUrl).origin);
  }

  now(): number {
    return this.clock();
  }

  /** Moderation as set at run time through the admin API (DATA/settings.json), else as configured. */
  async moderation(): Promise<'off' | 'all'> {
    return (await this.store.settings()).moderation ?? this.config.moderation;
  }

  /** The normalised URI of a page URI as sent, and its thread; UriError if it is not a page address. */
  page(raw: string): { uri: string; threadId: string } {
    const hit = this.pages.get(raw);
    if (hit !== undefined) return hit;
    const uri = normaliseUri(raw, this.config.uri, this.config.limits.uriChars);
    const page = { uri, threadId: threadIdOf(uri) };
    if (this.pages.size >= 1000) this.pages.clear();
    this.pages.set(raw, page);
    return page;
  }

  /** The thread and stem a comment id names, or 404 not-found. */
  commentOf(id: string): { threadId: string; stem: string } {
    const parsed = parseCommentId(id);
    if (parsed === null) throw new ProblemError(404, 'not-found', 'there is no such comment');
    return parsed;
  }

  /** Rejects with 429 and Retry-After when `client` is over `bucket`'s limit (counted across instances). */
  async rateLimit(bucket: keyof QuireConfig['rateLimits'], client: string): Promise<void> {
    const wait = await this.limiter.hit(bucket, client, this.config.rateLimits[bucket]);
    if (wait > 0) {
      throw new ProblemError(429, 'rate-limited', `too many requests; try again in ${wait} s`, {
        'retry-after': String(wait),
      });
    }
  }

  // Edit tokens: `<commentId>.<expiry ms, base 36>.<sig>`. The id in the token lets GET /api/comments show an
  // author their own pending comments; the expiry is the end of the edit window when the comment was posted.

  editToken(commentId: string, expiresMs: number): string {
    return this.hmacs.sign('edit', `${commentId}.${expiresMs.toString(36)}`);
  }

  /** {id, expires} of a genuine edit token (expired or not), or null. */
  readEditToken(token: string): { id: string; expires: number } | null {
    const payload = this.hmacs.verify('edit', token);
    if (payload === null) return null;
    const dot = payload.lastIndexOf('.');
    const expires = Number.parseInt(payload.slice(dot + 1), 36);
    if (dot <= 0 || !Number.isSafeInteger(expires)) return null;
    return { id: payload.slice(0, dot), expires };
  }

  // Form tokens: `f2-<issued ms, base 36>.<sig>`, the signature bound to the page's thread and the client's
  // network (/24, /48: a phone that changes address within its network keeps its token), neither of which is in
  // the token: a token is good for one page, from one network, for formTokenMaxAgeSeconds.

  /** What a form token's signature is bound to besides its payload. */
  private formBinding(threadId: string, address: string | undefined): string {
    return `${threadId}\0${truncateIp(address) ?? ''}`;
  }

  /**
   * A form token for the page `threadId`, for a client at `address`. Issued to the second, rounded up: every
   * page served within a second to one network carries the same token, and rounding up can only lengthen the
   * minimum compose time, by under 1 s.
   */
  formToken(
    threadId: string,
    address: string | undefined,
  ): { formToken: string; notBefore: string; expires: string } {
    const issued = Math.ceil(this.now() / 1000) * 1000;
    const spam = this.config.spam;
    return {
      formToken: this.hmacs.sign('form', `f2-${issued.toString(36)}`, this.formBinding(threadId, address)),
      notBefore: new Date(issued + spam.minComposeSeconds * 1000).toISOString(),
      expires: new Date(issued + spam.formTokenMaxAgeSeconds * 1000).toISOString(),
    };
  }

  /**
   * Throws the 400 problem that says what is wrong with a form token for a post to `threadId` from `address`,
   * or returns if it is good. A token of another page or network is 'form-token-invalid', as a forged one.
   */
  checkFormToken(token: string | undefined, threadId: string, address: string | undefined): void {
    const spam = this.config.spam;
    if (!spam.requireFormToken) return;
    if (token === undefined || token === '') {
      throw new ProblemError(400, 'form-token-missing', 'formToken is required (GET /api/form-token)');
    }
    const payload = this.hmacs.verify('form', token, this.formBinding(threadId, address));
    const issued = payload?.startsWith('f2-') ? Number.parseInt(payload.slice(3), 36) : Number.NaN;
    if (!Number.isSafeInteger(issued)) throw formTokenInvalid();
    // A token issued this second reads as up to 1 s in the future (formToken rounds up): age 0.
    const age = Math.max(0, this.now() - issued);
    if (age < spam.minComposeSeconds * 1000) {
      const wait = Math.max(1, Math.ceil((spam.minComposeSeconds * 1000 - age) / 1000));
      throw new ProblemError(
        400,
        'too-fast',
        `the comment was sent too quickly; send it again in ${wait} s`,
        {
          'retry-after': String(wait),
        },
      );
    }
    if (age > spam.formTokenMaxAgeSeconds * 1000) {
      throw new ProblemError(400, 'form-token-expired', 'formToken has expired; get a new one');
    }
  }

  // Admin session tokens: `a1-<expiry ms, base 36>.<sig>`, signed together with the password hash, so that a
  // new password ends every session.

  adminToken(): { token: string; expires: string } {
    const expires = this.now() + this.config.adminSessionSeconds * 1000;
    return {
      token: this.hmacs.sign('admin', `a1-${expires.toString(36)}`, this.config.adminPasswordHash ?? ''),
      expires: new Date(expires).toISOString(),
    };
  }

  adminTokenValid(token: string): boolean {
    if (this.config.adminPasswordHash === null) return false;
    const payload = this.hmacs.verify('admin', token, this.config.adminPasswordHash);
    if (payload === null || !payload.startsWith('a1-')) return false;
    const expires = Number.parseInt(payload.slice(3), 36);
    return Number.isSafeInteger(expires) && this.now() <= expires;
  }
}
