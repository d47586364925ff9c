import type { AdminComment, PublicComment } from '../api-types.js';
import { NO_ROW } from '../store/index-rows.js';
import { type CommentRecord, compareStems, formatCommentId } from '../store/records.js';
import type { ModeratedComment } from '../store/store.js';
import { indexDelta } from '../store/thread-index.js';
import {
  advanceForest,
  childrenOf,
  type Forest,
  forestOf,
  forestOfSliced,
  type Listed,
  publicTop,
  shownWith,
  stemOf,
} from './forest.js';
import { renderedNow, renderMarkdown } from './markdown.js';

export type { AdminComment, Listed, PublicComment };

/** The public face of a comment: never its e-mail or address. A hidden one is shown as a bare tombstone. */
export function publicComment(
  threadId: string,
  stem: string,
  r: CommentRecord,
  likes: number,
  asTombstone = false,
  render = true,
): PublicComment {
  const parent = r.parent === null ? null : formatCommentId(threadId, r.parent);
  if (asTombstone || r.status === 'deleted' || r.status === 'spam') {
    return {
      id: formatCommentId(threadId, stem),
      parent,
      author: null,
      website: null,
      text: '',
      html: '',
      created: r.created,
      edited: null,
      status: 'deleted',
      likes: 0,
      replies: [],
    };
  }
  return {
    id: formatCommentId(threadId, stem),
    parent,
    author: r.author,
    website: r.website,
    text: r.text,
    html: render ? renderMarkdown(r.text) : '',
    created: r.created,
    edited: r.edited,
    status: r.status,
    likes,
    replies: [],
  };
}

/** Characters of a parent's text an admin answer shows. */
const EXCERPT_CHARS = 140;

/**
 * The start of a comment's text for a one-line quote: its Markdown source (plain text, never HTML, so nothing to
 * render on the event loop), spaces and line breaks collapsed, at most `max` characters.
 */
export function plainExcerpt(markdown: string, max = EXCERPT_CHARS): string {
  return [...markdown.replace(/\s+/g, ' ').trim()].slice(0, max).join('');
}

/** A comment as the site owner sees it (the store decides what that is: ModeratedComment). */
export function adminComment(m: ModeratedComment): AdminComment {
  const { threadId, record: r } = m;
  return {
    id: formatCommentId(threadId, m.stem),
    threadId,
    uri: m.meta?.uri ?? null,
    title: m.meta?.title ?? null,
    parent: r.parent === null ? null : formatCommentId(threadId, r.parent),
    replyTo:
      m.replyTo === null
        ? null
        : {
            id: formatCommentId(threadId, m.replyTo.stem),
            author: m.replyTo.record.author,
            excerpt: plainExcerpt(m.replyTo.record.text),
          },
    author: r.author,
    email: r.email,
    website: r.website,
    text: r.text,
    html: renderMarkdown(r.text),
    created: r.created,
    edited: r.edited,
    deleted: r.deleted,
    restorableUntil: m.restorableUntil,
    status: r.status,
    ip: r.ip,
    ipHash: r.ipHash,
    likes: m.likes,
  };
}

export interface TreeOptions {
  /** Stems of pending comments the caller may see (their own, proven by edit tokens). */
  mine: ReadonlySet<string>;
  maxDepth: number;
  order: 'oldest' | 'newest';
  /** Stem of the last top-level comment of the previous page. */
  after: string | null;
  limit: number;
}

export interface Tree {
  comments: PublicComment[];
  /** Visible comments (not tombstones) in the whole thread. */
  total: number;
  /** Stem of this page's last top-level comment if more follow. */
  next: string | null;
}

const byName = compareStems;
const stemOfId = (id: string) => id.slice(id.lastIndexOf('_') + 1);

/**
 * The forest of each version of a thread's index. A version loaded on top of another (thread-index.ts
 * indexDelta) takes the forest of that one, advanced in place by what changed: a comment posted into a
 * 50,000-comment thread costs a few array operations, not a layout of the thread.
 */
const laidOut = new WeakMap<ReadonlyMap<string, Listed>, Forest>();
/** The entries each forest was last advanced to: only that version's successor may advance it. */
const headOf = new WeakMap<Forest, ReadonlyMap<string, Listed>>();

/** The forest of `entries` if it is laid out, or can be by advancing its predecessor's; else undefined. */
function laidOutNow(entries: ReadonlyMap<string, Listed>): Forest | undefined {
  const f = laidOut.get(entries);
  if (f !== undefined) return f;
  const delta = indexDelta(entries);
  const from = delta?.from.deref();
  const before = from === undefined ? undefined : laidOut.get(from);
  if (delta === undefined || before === undefined || headOf.get(before) !== from) return undefined;
  if (!advanceForest(before, entries, delta.changed, delta.removed)) return undefined;
  return keep(entries, before);
}

function keep(entries: ReadonlyMap<string, Listed>, f: Forest): Forest {
  headOf.set(f, entries);
  laidOut.set(entries, f);
  return f;
}

function layout(entries: ReadonlyMap<string, Listed>): Forest {
  return laidOutNow(entries) ?? keep(entries, forestOf(entries));
}

/** Layouts under way a slice at a time, shared by the requests that wait for them. */
const building = new WeakMap<ReadonlyMap<string, Listed>, Promise<Forest>>();

/**
 * Lays out the forest of `entries` (if no earlier one can be advanced to them) a slice at a time, so that a
 * page of a big thread loaded afresh does not hold the event loop for the tens of milliseconds a layout of
 * its every comment takes; planPage after it finds the forest ready.
 */
export async function prepareLayout(entries: ReadonlyMap<string, Listed>): Promise<void> {
  if (laidOutNow(entries) !== undefined) return;
  let build = building.get(entries);
  if (build === undefined) {
    build = forestOfSliced(entries);
    building.set(entries, build);
  }
  const f = await build;
  building.delete(entries);
  if (!laidOut.has(entries)) keep(entries, f);
}

/** A page of a thread before its comments are read: its top-level stems, everything it shows, and the count. */
export interface PagePlan {
  top: string[];
  /** Every comment the page shows (top level and replies), parents before replies. */
  stems: string[];
  total: number;
  next: string | null;
  isVisible: (stem: string) => boolean;
  forest: Forest;
}

/** The first position in `top` (comment numbers in stem order, read backwards for `newest`) past `after`. */
function startAfter(f: Forest, top: ArrayLike<number>, after: string, order: 'oldest' | 'newest'): number {
  const stemAt = (k: number) => stemOf(f, top[k] as number);
  let lo = 0;
  let hi = top.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byName(stemAt(mid), after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  // Oldest: the first name after `after`; newest: the names before it.
  return order === 'oldest' ? lo : top.length - (lo - (lo > 0 && stemAt(lo - 1) === after ? 1 : 0));
}

/**
 * Which comments a page shows, from the thread's index alone (nothing read): a comment is visible if approved,
 * or pending and the caller's own. A hidden comment (deleted, spam, someone else's pending) with visible replies
 * is shown as a tombstone so the replies keep their place; one without is left out. Replies whose parent is
 * missing (removed by hand) are top level; parent cycles (only hand edits can make them) are broken. Pages count
 * top-level comments. Iterative throughout: no recursion depth to exhaust, however deep a conversation goes.
 */
export function planPage(entries: ReadonlyMap<string, Listed>, opts: TreeOptions): PagePlan {
  const f = layout(entries);
  // The forest's own verdicts: a forest advanced past these entries shows its newer comments as they are.
  const isVisible = (s: string) => {
    const i = f.rows.row(s);
    return (i !== NO_ROW && f.visible[i] === 1) || (opts.mine.has(s) && entries.get(s)?.status === 'pending');
  };
  // Only a caller with pending comments of their own sees another tree than the public's.
  const mine = [...opts.mine].flatMap((s) => {
    const i = f.rows.row(s);
    return i !== NO_ROW && entries.get(s)?.status === 'pending' ? [i] : [];
  });
  const { shown, top, total } =
    mine.length > 0 ? shownWith(f, mine) : { shown: f.shown, top: publicTop(f), total: f.total };
  const at = (k: number) => stemOf(f, (opts.order === 'newest' ? top[top.length - 1 - k] : top[k]) as number);
  const from = opts.after === null ? 0 : startAfter(f, top, opts.after, opts.order);
  const page: string[] = [];
  for (let k = from; k < Math.min(top.length, from + opts.limit); k++) page.push(at(k) as string);
  const stems: string[] = [];
  for (const root of page) {
    const queue = [f.rows.row(root)];
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q] as number;
      stems.push(stemOf(f, s));
      for (const c of childrenOf(f, s)) if (shown[c] === 1 && f.parent[c] === s) queue.push(c);
    }
  }
  const more = from + opts.limit < top.length;
  return {
    top: page,
    stems,
    total,
    next: more ? (page[page.length - 1] ?? null) : null,
    isVisible,
    forest: f,
  };
}

/**
 * The page's comments nested by parent, from the plan and the records of its stems (a stem without a record,
 * removed since the index was read, is left out with its replies). Replies below maxDepth go to the deepest
 * allowed ancestor. The HTML is left empty: prepareMarkdown the page's treeTexts, then renderTree.
 */
export function buildTree(
  threadId: string,
  plan: PagePlan,
  records: ReadonlyMap<string, CommentRecord>,
  entries: ReadonlyMap<string, Listed>,
  maxDepth: number,
): Tree {
  const f = plan.forest;
  const nodes = new Map<string, PublicComment>();
  const container = new Map<string, PublicComment | null>();
  for (const s of plan.stems) {
    const r = records.get(s);
    const i = f.rows.row(s);
    const p = f.parent[i] as number;
    const parent = p < 0 ? null : stemOf(f, p);
    if (r === undefined || (parent !== null && !container.has(parent))) continue;
    const node = publicComment(threadId, s, r, entries.get(s)?.likes ?? 0, !plan.isVisible(s), false);
    nodes.set(s, node);
    const holder = parent === null ? null : (container.get(parent) ?? null);
    holder?.replies.push(node);
    // Replies to a comment at maxDepth go where its own siblings are.
    container.set(s, (f.depth[i] as number) < maxDepth ? node : holder);
  }
  for (const node of nodes.values()) {
    if (node.replies.length > 1) node.replies.sort((a, b) => byName(stemOfId(a.id), stemOfId(b.id)));
  }
  const comments = plan.top.flatMap((s) => {
    const n = nodes.get(s);
    return n === undefined ? [] : [n];
  });
  return { comments, total: plan.total, next: plan.next };
}

/** Every comment of a page of comments, replies included. Iterative: no recursion depth to exhaust. */
function* eachComment(comments: readonly PublicComment[]): Generator<PublicComment> {
  const stack = [...comments];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    yield node;
    stack.push(...node.replies);
  }
}

/** The Markdown texts a page of comments shows, for prepareMarkdown before renderTree. */
export function treeTexts(comments: readonly PublicComment[]): string[] {
  const texts: string[] = [];
  for (const c of eachComment(comments)) if (c.status !== 'deleted') texts.push(c.text);
  return texts;
}

/**
 * Fills in the HTML of a page of comments (buildTree leaves it empty, so that only a page is ever rendered).
 * Returns false if some text was not rendered before (prepareMarkdown) and is shown escaped for now: such a page
 * must not be cached.
 */
export function renderTree(comments: readonly PublicComment[]): boolean {
  let complete = true;
  for (const c of eachComment(comments)) {
    if (c.status === 'deleted') continue;
    const html = renderedNow(c.text);
    if (html === undefined) complete = false;
    c.html = html ?? renderMarkdown(c.text);
  }
  return complete;
}
