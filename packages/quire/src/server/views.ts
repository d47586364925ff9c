import type { AdminComment, PublicComment } from '../api-types.js';
import { type CommentRecord, compareStems, formatCommentId } from '../store/records.js';
import type { ModeratedComment, StoredComment } from '../store/store.js';
import { renderedNow, renderMarkdown } from './markdown.js';

export type { AdminComment, PublicComment };

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
const stemOf = (id: string) => id.slice(id.lastIndexOf('_') + 1);

/** A thread's comments as a forest: who replies to whom, at what depth, in breadth-first order. */
interface Forest {
  byStem: Map<string, CommentRecord>;
  children: Map<string, string[]>;
  roots: string[];
  /** Breadth-first from the roots: every parent before its replies. */
  order: string[];
  depth: Map<string, number>;
  parentOf: Map<string, string | null>;
}

function forestOf(comments: readonly StoredComment[]): Forest {
  const byStem = new Map<string, CommentRecord>();
  for (const c of comments) byStem.set(c.stem, c.record);
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const c of comments) {
    const parent = c.record.parent;
    if (parent !== null && parent !== c.stem && byStem.has(parent)) {
      const list = children.get(parent);
      if (list === undefined) children.set(parent, [c.stem]);
      else list.push(c.stem);
    } else roots.push(c.stem);
  }
  // Breadth-first from the roots; whatever is left unreached sits on a cycle: its first member becomes a root.
  const forest: Forest = { byStem, children, roots, order: [], depth: new Map(), parentOf: new Map() };
  const visit = (root: string) => {
    forest.depth.set(root, 0);
    forest.parentOf.set(root, null);
    const queue = [root];
    for (let i = 0; i < queue.length; i++) {
      const s = queue[i] as string;
      forest.order.push(s);
      for (const child of children.get(s) ?? []) {
        if (forest.depth.has(child)) continue;
        forest.depth.set(child, (forest.depth.get(s) ?? 0) + 1);
        forest.parentOf.set(child, s);
        queue.push(child);
      }
    }
  };
  for (const r of roots) visit(r);
  for (const c of comments) {
    if (!forest.depth.has(c.stem)) {
      roots.push(c.stem);
      visit(c.stem);
    }
  }
  return forest;
}

/** The comments shown (visible ones, and hidden ones with shown replies) and the number of visible ones. */
function shownOf(f: Forest, isVisible: (stem: string) => boolean): { shown: Set<string>; total: number } {
  const shown = new Set<string>();
  let total = 0;
  for (let i = f.order.length - 1; i >= 0; i--) {
    const s = f.order[i] as string;
    if (isVisible(s)) total++;
    if (isVisible(s) || (f.children.get(s) ?? []).some((c) => shown.has(c) && f.parentOf.get(c) === s))
      shown.add(s);
  }
  return { shown, total };
}

/** The nodes of the shown comments, replies attached (below maxDepth, to the deepest allowed ancestor). */
function nodesOf(
  threadId: string,
  f: Forest,
  shown: ReadonlySet<string>,
  isVisible: (stem: string) => boolean,
  likes: ReadonlyMap<string, number>,
  maxDepth: number,
): Map<string, PublicComment> {
  // Built in breadth-first order, so every parent's node exists before its replies are attached.
  const nodes = new Map<string, PublicComment>();
  const container = new Map<string, PublicComment | null>();
  for (const s of f.order) {
    if (!shown.has(s)) continue;
    const r = f.byStem.get(s) as CommentRecord;
    const node = publicComment(threadId, s, r, likes.get(s) ?? 0, !isVisible(s), false);
    nodes.set(s, node);
    const parent = f.parentOf.get(s) ?? null;
    const holder = parent === null ? null : (container.get(parent) ?? null);
    holder?.replies.push(node);
    // Replies to a comment at maxDepth go where its own siblings are.
    container.set(s, (f.depth.get(s) ?? 0) < maxDepth ? node : holder);
  }
  for (const node of nodes.values()) {
    if (node.replies.length > 1) node.replies.sort((a, b) => byName(stemOf(a.id), stemOf(b.id)));
  }
  return nodes;
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

/**
 * Nests a thread's comments by parent. A comment is visible if approved, or pending and the caller's own. A
 * hidden comment (deleted, spam, someone else's pending) with visible replies is shown as a tombstone so the
 * replies keep their place; one without is left out. Replies whose parent is missing (removed by hand) are
 * top level; parent cycles (only hand edits can make them) are broken. Pages count top-level comments. The
 * HTML is left empty: prepareMarkdown the page's treeTexts, then renderTree. Iterative throughout: no recursion
 * depth to exhaust, however deep a conversation goes.
 */
export function buildTree(
  threadId: string,
  comments: readonly StoredComment[],
  likes: ReadonlyMap<string, number>,
  opts: TreeOptions,
): Tree {
  const f = forestOf(comments);
  const isVisible = (s: string) => {
    const r = f.byStem.get(s) as CommentRecord;
    return r.status === 'approved' || (r.status === 'pending' && opts.mine.has(s));
  };
  const { shown, total } = shownOf(f, isVisible);
  const nodes = nodesOf(threadId, f, shown, isVisible, likes, opts.maxDepth);
  let top = f.roots.filter((s) => shown.has(s)).sort(byName);
  if (opts.order === 'newest') top.reverse();
  if (opts.after !== null) {
    const after = opts.after;
    top = top.filter((s) => (opts.order === 'newest' ? byName(s, after) < 0 : byName(s, after) > 0));
  }
  const page = top.slice(0, opts.limit);
  return {
    comments: page.map((s) => nodes.get(s) as PublicComment),
    total,
    next: top.length > opts.limit ? (page[page.length - 1] ?? null) : null,
  };
}
