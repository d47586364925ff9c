import { DEFAULT_CONFIG } from '../config-defaults.js';
import { ByteLru } from '../store/lru.js';
import { renderFull, renderPlain } from './markdown-render.js';
import { TaskPool, TaskPoolError, WORKER_IDLE_MS } from './task-pool.js';

export { renderPlain } from './markdown-render.js';

/**
 * The rendering budget. micromark's cost grows faster than its input on some texts (measured on this project's
 * 2-vCPU machines: 5,000 characters of `*_` took 1.2 s, of setext headings 1.1 s, plain prose ~6 µs a
 * character), and no cap on characters short of a few hundred bounds it. So:
 * - texts of up to SYNC_CHARS characters, and plain texts (renderPlain, linear), are rendered on the spot;
 * - any other text is rendered on a worker thread of its own pool, killed after `timeoutMs`: such a text is
 *   refused when posted (422 `markdown-too-complex`), and one already stored (imported, or posted under a larger
 *   budget) is shown as escaped plain text;
 * - rendered HTML is cached by text, so a page view renders nothing it rendered before.
 */
export interface MarkdownBudget {
  /** Longest time one text may take to render, in ms. */
  timeoutMs: number;
  /** Worker threads rendering at once. */
  workers: number;
  /** Texts waiting for a worker at most; more are refused with `markdown-busy`. */
  maxQueue: number;
}

/** Up to this many characters micromark's worst case is a few milliseconds, cheaper than a trip to a worker. */
export const SYNC_CHARS = 256;

export const DEFAULT_MARKDOWN_BUDGET: Readonly<MarkdownBudget> = { timeoutMs: 250, workers: 1, maxQueue: 64 };

export type MarkdownErrorCode = 'markdown-too-complex' | 'markdown-busy';

/** A text that could not be rendered within the budget (`markdown-too-complex`) or now (`markdown-busy`). */
export class MarkdownError extends Error {
  override readonly name = 'MarkdownError';
  constructor(
    readonly code: MarkdownErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Who a render is for. Previews have workers of their own and are not cached: anyone may ask for previews
 * (within their rate limit), and however many ask, comments being posted and pages being shown neither wait
 * behind them nor lose their cached HTML to them.
 */
export type RenderLane = 'content' | 'preview';

let budget: MarkdownBudget = { ...DEFAULT_MARKDOWN_BUDGET };
const pools = new Map<RenderLane, TaskPool<string, string>>();

/** Sets the budget (the server does at start); renders under way finish under the old one. */
export function setMarkdownBudget(b: Partial<MarkdownBudget>): void {
  budget = { ...budget, ...b };
  for (const pool of pools.values()) void pool.close();
  pools.clear();
}

function renderPool(lane: RenderLane): TaskPool<string, string> {
  let pool = pools.get(lane);
  if (pool === undefined) {
    pool = new TaskPool({
      file: new URL('./markdown-worker.js', import.meta.url),
      size: budget.workers,
      maxQueue: budget.maxQueue,
      idleMs: WORKER_IDLE_MS,
      timeoutMs: budget.timeoutMs,
    });
    pools.set(lane, pool);
  }
  return pool;
}

/**
 * Rendered HTML by source text, least recently used first out, within `cache.markdownBytes` (each entry counted
 * at two bytes a character, the most a string takes): bounded whatever the site's size.
 */
let cache = new ByteLru<string, string>(DEFAULT_CONFIG.cache.markdownBytes);

/** Sets the Markdown cache's budget in bytes (the server does at start, from `cache.markdownBytes`); empties it. */
export function setMarkdownCacheBytes(bytes: number): void {
  cache = new ByteLru(bytes);
}

/** Bytes the Markdown cache holds now (never more than its budget). */
export function markdownCacheBytes(): number {
  return cache.bytes;
}

function remember(text: string, html: string): string {
  cache.set(text, html, 2 * (text.length + html.length) + 64);
  return html;
}

/** The HTML of `text` if it can be had without a worker: cached, plain, or short; else undefined. */
export function renderedNow(text: string, keep = true): string | undefined {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const plain = renderPlain(text);
  if (plain === undefined && text.length > SYNC_CHARS) return undefined;
  const html = plain ?? renderFull(text);
  return keep ? remember(text, html) : html;
}

const ESCAPES: Record<string, string> = { '"': '&quot;', '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** What a text over the budget is shown as: its paragraphs, escaped, line breaks kept. Linear. */
export function renderEscaped(text: string): string {
  const paras = text.split(/\n{2,}/).filter((p) => p.trim() !== '');
  return paras
    .map((p) => `<p>${p.replace(/["&<>]/g, (c) => ESCAPES[c] ?? c).replace(/\n/g, '<br>\n')}</p>`)
    .join('\n');
}

/**
 * The HTML of `text`, synchronously and within the budget: a text that would need a worker and was not rendered
 * before (prepareMarkdown) comes out as escaped plain text. Callers that can wait use renderMarkdownAsync.
 */
export function renderMarkdown(text: string): string {
  return renderedNow(text) ?? renderEscaped(text);
}

/**
 * The HTML of `text`, rendered on a worker of `lane`'s pool if it must be. Rejects with MarkdownError when the
 * text takes longer than the budget or the workers are saturated; `signal` stops the render when the client goes
 * away.
 */
export async function renderMarkdownAsync(
  text: string,
  signal?: AbortSignal,
  lane: RenderLane = 'content',
): Promise<string> {
  const now = renderedNow(text, lane === 'content');
  if (now !== undefined) return now;
  try {
    const html = await renderPool(lane).run(text, signal);
    return lane === 'content' ? remember(text, html) : html;
  } catch (err) {
    if (!(err instanceof TaskPoolError)) throw err;
    if (err.code === 'task-timeout') {
      throw new MarkdownError(
        'markdown-too-complex',
        `the text's Markdown takes longer than ${budget.timeoutMs} ms to render; simplify its formatting`,
      );
    }
    // Failed in the worker, or the caller went away: nobody to tell but the caller.
    if (err.code === 'task-failed' || err.code === 'task-aborted') throw err;
    throw new MarkdownError('markdown-busy', 'the Markdown renderer is busy; try again in a moment');
  }
}

/**
 * Renders every text not yet cached, so that renderMarkdown serves each from the cache; a text over the budget is
 * cached as escaped plain text. For pages that render many stored texts at once.
 */
export async function prepareMarkdown(texts: Iterable<string>, signal?: AbortSignal): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (const text of texts) {
    if (renderedNow(text) !== undefined) continue;
    pending.push(
      renderMarkdownAsync(text, signal).catch((err: unknown) => {
        if (err instanceof MarkdownError && err.code === 'markdown-too-complex')
          remember(text, renderEscaped(text));
      }),
    );
  }
  await Promise.all(pending);
}

const BARE_LINK = /\b(?:https?:\/\/|www\.)[^\s<>()]+/gi;

/**
 * Links in a comment for the spam cap: the larger of the rendered links and the bare http(s)/www. addresses
 * in the source (a bare address is not a link in CommonMark, but it is what link spam mostly is). Exact once
 * the text was rendered (renderMarkdownAsync, as every post is); before, a text over the budget counts its bare
 * addresses and its link-like `](`.
 */
export function countLinks(text: string): number {
  let rendered = 0;
  // A CommonMark link, autolink or reference needs a `[` or a `<`: without either there is nothing to render.
  if (/[[<]/.test(text)) {
    const html = renderedNow(text);
    rendered = (html === undefined ? text.match(/\]\(|<https?:/gi) : html.match(/<a /g))?.length ?? 0;
  }
  const bare = (text.match(BARE_LINK) ?? []).length;
  return Math.max(rendered, bare);
}
