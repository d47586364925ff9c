import { micromark } from 'micromark';

/**
 * Comments are CommonMark, rendered by micromark with every dangerous door shut:
 * - raw HTML is off (`allowDangerousHtml: false`): `<script>`, `<img onerror=…>`, `<svg>` come out as text;
 * - only http, https, mailto, irc(s) and xmpp link targets survive (`allowDangerousProtocol: false`); a
 *   `javascript:`, `data:` or `vbscript:` target (in any case, with entities or escapes) becomes an empty href;
 * - images are off: `![alt](src)` is text plus a link, so a comment cannot make readers' browsers load anything;
 * - every link gets `rel="nofollow ugc noopener"`.
 * micromark escapes every attribute value and all text, so the only tags in the output are its own.
 */
const OPTIONS = {
  allowDangerousHtml: false,
  allowDangerousProtocol: false,
  extensions: [{ disable: { null: ['labelStartImage'] } }],
};

/** Rendered HTML by source text, oldest evicted first once the cached texts exceed CACHE_CHARS in total. */
const cache = new Map<string, string>();
const CACHE_CHARS = 16_000_000;
let cachedChars = 0;

export function renderMarkdown(text: string): string {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const html = micromark(text, OPTIONS).replace(/<a href="/g, '<a rel="nofollow ugc noopener" href="');
  cache.set(text, html);
  cachedChars += text.length + html.length;
  while (cachedChars > CACHE_CHARS) {
    const [oldText, oldHtml] = cache.entries().next().value as [string, string];
    cache.delete(oldText);
    cachedChars -= oldText.length + oldHtml.length;
  }
  return html;
}

const BARE_LINK = /\b(?:https?:\/\/|www\.)[^\s<>()]+/gi;

/**
 * Links in a comment for the spam cap: the larger of the rendered links and the bare http(s)/www. addresses
 * in the source (a bare address is not a link in CommonMark, but it is what link spam mostly is).
 */
export function countLinks(text: string): number {
  // A CommonMark link, autolink or reference needs a `[` or a `<`: without either there is nothing to render.
  const rendered = /[[<]/.test(text) ? (renderMarkdown(text).match(/<a /g) ?? []).length : 0;
  const bare = (text.match(BARE_LINK) ?? []).length;
  return Math.max(rendered, bare);
}
