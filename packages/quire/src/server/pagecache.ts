import { randomBytes } from 'node:crypto';
import { Gate } from '../store/gate.js';

/**
 * Serialised answers of GET /api/comments, per thread and version (CommentStore.view: a new version for every
 * change of the thread's files), for callers without edit tokens: what they see depends only on the thread, the
 * page asked for and the moderation setting. Each answer is kept once, as the whole answer for the latest form
 * token, the only part that changes with time, and where that token is in it. Form tokens are issued per second
 * (ServerContext.formToken), so within a second every request gets the very same Buffer: no tree, Markdown, JSON
 * serialiser or UTF-8 length per request, and no copy of the page either (measured with wrk, a 155 KiB page:
 * 5.9-6.5k GETs/s when each request wrote its token into a buffer lent from a pool, 8.3-9.1k/s from the one
 * shared Buffer; a fresh buffer per request costs more still, in garbage collection). A Buffer handed to a
 * response is never written again: a new token makes a new Buffer from the parts of the last around it.
 */
export interface CachedPage {
  /** The whole answer for `token`. */
  body: Buffer;
  /** Where the token's JSON string starts in `body`, and its bytes. */
  at: number;
  length: number;
  token: string;
}

/** Stands in for the form token while a page is serialised; random, so no comment can contain it. */
export const TOKEN_SLOT = `quire-form-token-${randomBytes(16).toString('hex')}`;

const MAX_PAGES_PER_THREAD = 16;

interface ThreadPages {
  version: number;
  pages: Map<string, CachedPage>;
  bytes: number;
}

/**
 * Pages made at once. A page not kept costs its records' reads, Markdown and serialisation on the event loop:
 * 64 requests for 64 different pages all making theirs at once only fill each turn of the loop with more of
 * that work (the event-loop delay every request then waits), not finish sooner on the same CPUs.
 */
const MAKES_AT_ONCE = 4;

/** The answers kept, least recently used thread first, at most `maxBytes` in all (config `cache.pageBytes`). */
export class PageCache {
  /** Least recently used first. */
  private readonly threads = new Map<string, ThreadPages>();
  private bytes = 0;
  /** Pages being made, by thread, version and key: concurrent requests for one page share its making. */
  private readonly making = new Map<string, Promise<CachedPage | undefined>>();
  private readonly gate = new Gate(MAKES_AT_ONCE);

  constructor(private readonly maxBytes: number) {}

  /**
   * The page kept for `key`, else made by `make` (serialised with TOKEN_SLOT as its form token; undefined: not
   * to be kept) and kept: one making per page at a time, shared by whoever asks meanwhile, and at most
   * MAKES_AT_ONCE pages made at once. Undefined when the making kept nothing.
   */
  make(
    threadId: string,
    version: number,
    key: string,
    make: () => Promise<string | undefined>,
  ): Promise<CachedPage | undefined> {
    const kept = this.get(threadId, version, key);
    if (kept !== undefined) return Promise.resolve(kept);
    const id = JSON.stringify([threadId, version, key]);
    let making = this.making.get(id);
    if (making === undefined) {
      making = this.gate
        .run(async () => {
          const s = this.get(threadId, version, key) === undefined ? await make() : undefined;
          return s === undefined ? this.get(threadId, version, key) : this.put(threadId, version, key, s);
        })
        .finally(() => this.making.delete(id));
      this.making.set(id, making);
    }
    return making;
  }

  get(threadId: string, version: number, key: string): CachedPage | undefined {
    const t = this.threads.get(threadId);
    if (t === undefined || t.version !== version) return undefined;
    this.threads.delete(threadId);
    this.threads.set(threadId, t);
    return t.pages.get(key);
  }

  /** Splits a page serialised with TOKEN_SLOT as its form token and keeps it; undefined if there is no slot. */
  put(threadId: string, version: number, key: string, serialised: string): CachedPage | undefined {
    const slot = `"${TOKEN_SLOT}"`;
    // Found in the bytes: its byte offset at once, and no search or slice of the string (garbage of a page's size).
    const body = Buffer.from(serialised);
    const at = body.indexOf(slot, 0, 'latin1');
    if (at < 0) return undefined;
    const page: CachedPage = { body, at, length: slot.length, token: '' };
    const size = body.length;
    let t = this.threads.get(threadId);
    if (t !== undefined && t.version !== version) {
      this.drop(threadId, t);
      t = undefined;
    }
    if (t === undefined) {
      t = { version, pages: new Map(), bytes: 0 };
      this.threads.set(threadId, t);
    }
    if (t.pages.size >= MAX_PAGES_PER_THREAD) {
      this.drop(threadId, t);
      t = { version, pages: new Map(), bytes: 0 };
      this.threads.set(threadId, t);
    }
    t.pages.set(key, page);
    t.bytes += size;
    this.bytes += size;
    for (const [id, old] of this.threads) {
      if (this.bytes <= this.maxBytes || old === t) break;
      this.drop(id, old);
    }
    return page;
  }

  /** The whole answer with `token` in its slot: made once per token, then shared (never written again). */
  static answer(page: CachedPage, token: string): Buffer {
    if (page.token !== token) {
      const b = page.body;
      const value = Buffer.from(JSON.stringify(token));
      page.body = Buffer.concat([b.subarray(0, page.at), value, b.subarray(page.at + page.length)]);
      page.length = value.length;
      page.token = token;
    }
    return page.body;
  }

  private drop(threadId: string, t: ThreadPages): void {
    if (this.threads.get(threadId) === t) this.threads.delete(threadId);
    this.bytes -= t.bytes;
  }
}
