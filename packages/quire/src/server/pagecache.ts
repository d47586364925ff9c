import { randomBytes } from 'node:crypto';

/**
 * Serialised answers of GET /api/comments, per thread and view version (CommentStore.view: a new version for
 * every load, and a load follows every change of the thread's files), for callers without edit tokens: what
 * they see depends only on the thread, the page asked for and the moderation setting. Each answer is kept as
 * the bytes before and after its form token, which is the only part made anew for every request. Holding the
 * bytes spares the tree, the Markdown, the JSON serialiser and the UTF-8 length of a page of up to 200
 * comments on every request.
 *
 * Whole answers are lent out from a small pool: a request writes its token into a free answer's slot (a few
 * dozen bytes) instead of copying the page into a new buffer, and gives the buffer back once its response has
 * finished (Node has handed the bytes to the kernel). Fresh page-sized buffers for every request cost more in
 * garbage collection than all the rest of the request (measured: 40-60 µs of GC threads per request).
 */
export interface CachedPage {
  head: Buffer;
  tail: Buffer;
  /** Answers not lent out; their slots hold stale tokens. */
  free: Buffer[];
  /** Byte length of the quoted token the pooled answers have room for (form tokens have one length for years). */
  slot: number;
}

export interface LentAnswer {
  body: Buffer;
  /** Call once the response is finished with `body` (never while it may still be written). */
  done: () => void;
}

/** Stands in for the form token while a page is serialised; random, so no comment can contain it. */
export const TOKEN_SLOT = `quire-form-token-${randomBytes(16).toString('hex')}`;

const MAX_BYTES = 64 * 1024 * 1024;
const MAX_PAGES_PER_THREAD = 16;
/** Answers kept per page for lending: about the responses in flight at once. */
const MAX_FREE = 8;

interface ThreadPages {
  version: number;
  pages: Map<string, CachedPage>;
  bytes: number;
}

export class PageCache {
  /** Least recently used first. */
  private readonly threads = new Map<string, ThreadPages>();
  private bytes = 0;

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
    const at = serialised.indexOf(slot);
    if (at < 0) return undefined;
    const page: CachedPage = {
      head: Buffer.from(serialised.slice(0, at)),
      tail: Buffer.from(serialised.slice(at + slot.length)),
      free: [],
      slot: 0,
    };
    // As if every pooled answer were there.
    const size = (1 + MAX_FREE) * (page.head.length + page.tail.length);
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
      if (this.bytes <= MAX_BYTES || old === t) break;
      this.drop(id, old);
    }
    return page;
  }

  /** The whole answer with `token` in its slot, lent until `done` is called. */
  static lend(page: CachedPage, token: string): LentAnswer {
    const quoted = JSON.stringify(token);
    const n = Buffer.byteLength(quoted);
    if (page.slot === 0) page.slot = n;
    const { head, tail } = page;
    if (n !== page.slot) {
      const t = Buffer.from(quoted);
      return { body: Buffer.concat([head, t, tail], head.length + n + tail.length), done: () => {} };
    }
    let body = page.free.pop();
    if (body === undefined) {
      body = Buffer.allocUnsafe(head.length + n + tail.length);
      head.copy(body, 0);
      tail.copy(body, head.length + n);
    }
    body.write(quoted, head.length, n, 'utf8');
    const lent = body;
    let returned = false;
    return {
      body: lent,
      done: () => {
        if (returned) return;
        returned = true;
        if (page.free.length < MAX_FREE) page.free.push(lent);
      },
    };
  }

  private drop(threadId: string, t: ThreadPages): void {
    if (this.threads.get(threadId) === t) this.threads.delete(threadId);
    this.bytes -= t.bytes;
  }
}
