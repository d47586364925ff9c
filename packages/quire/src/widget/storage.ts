/**
 * What the widget remembers in the host page's localStorage (key `quire`): the edit tokens of the reader's own
 * comments, which comments they liked, their name/e-mail/website for the next comment, unsent drafts and the
 * sort order they chose.
 * Storage may be unavailable (privacy modes, quotas): then nothing is remembered and nothing breaks.
 */

export interface OwnComment {
  /** The edit token: proves authorship to the server (edit, delete, see one's own pending comment). */
  t: string;
  /** End of the edit window in this browser's clock (epoch ms). */
  u: number;
  /** When it was saved (epoch ms), to forget old tokens. */
  s: number;
}

interface Saved {
  own: Record<string, OwnComment>;
  liked: Record<string, 1>;
  /** Page URI as the widget sends it -> thread id the server answered with. */
  pages: Record<string, string>;
  me: { author: string; email: string; website: string };
  drafts: Record<string, string>;
  /** The reader's sort order for every thread (issue 15). */
  sort?: SortOrder;
}

/** How a thread is sorted: oldest or newest first (the server's order), or most liked (the widget's, sort.ts). */
export type SortOrder = 'oldest' | 'newest' | 'liked';

const KEY = 'quire';
/** Tokens are kept for 90 days: long enough to see one's own comment through moderation. */
const KEEP_MS = 90 * 86400_000;
const MAX_OWN = 200;

function empty(): Saved {
  return { own: {}, liked: {}, pages: {}, me: { author: '', email: '', website: '' }, drafts: {} };
}

export function load(): Saved {
  try {
    const raw = window.localStorage.getItem(KEY);
    if (raw === null) return empty();
    const v = JSON.parse(raw) as Partial<Saved>;
    return { ...empty(), ...v };
  } catch {
    return empty();
  }
}

function save(data: Saved): void {
  try {
    window.localStorage.setItem(KEY, JSON.stringify(data));
  } catch {
    // storage full or forbidden: the widget works on without remembering
  }
}

/** Reads, changes and writes back the saved state in one step (other tabs may have written meanwhile). */
export function update(fn: (s: Saved) => void): void {
  const s = load();
  fn(s);
  const now = Date.now();
  const own = Object.entries(s.own)
    .filter(([, o]) => now - o.s < KEEP_MS)
    .sort((a, b) => b[1].s - a[1].s)
    .slice(0, MAX_OWN);
  s.own = Object.fromEntries(own);
  save(s);
}

/** The thread id of a comment id (`<threadId>_<stem>`). */
export function threadOf(commentId: string): string {
  return commentId.slice(0, commentId.lastIndexOf('_'));
}
