/**
 * HTML of Disqus, WordPress and Remark42 comments becomes Markdown, our only text format: the paragraphs, line
 * breaks, emphasis, code, quotes and http(s)/mailto links a comment uses are kept as Markdown; every other tag is
 * dropped with its attributes (its text kept; the text of script, style and similar dropped too). What comes
 * out is rendered like any posted comment (raw HTML off, unsafe link targets removed), so nothing executable
 * survives even if this conversion missed something.
 */

const NAMED: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  copy: '©',
};

/** Decodes the character references of an HTML text (named ones of NAMED, decimal and hex). */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (m, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '';
    }
    return NAMED[ref.toLowerCase()] ?? m;
  });
}

/** Markdown's punctuation in plain text, escaped so the text stays text. */
function escapeMarkdown(s: string): string {
  return s.replace(/([\\`*_[\]<>#|~])/g, '\\$1');
}

const DROP_WITH_CONTENT = /^(script|style|iframe|object|embed|template|noscript|svg|math|head|title)$/;
const SAFE_HREF = /^(https?:|mailto:)/i;

function attr(tag: string, name: string): string | null {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m === null ? null : decodeEntities(m[1] ?? m[2] ?? m[3] ?? '');
}

/** One tag's Markdown, or '' when the tag only goes. `links` holds the targets of the open <a> tags. */
function tagMarkdown(name: string, closing: boolean, tag: string, links: (string | null)[]): string {
  switch (name) {
    case 'br':
      return '  \n';
    case 'p':
    case 'div':
    case 'ul':
    case 'ol':
    case 'pre':
    case 'h1':
    case 'h2':
    case 'h3':
    case 'h4':
    case 'h5':
    case 'h6':
      return '\n\n';
    case 'li':
      return closing ? '' : '\n- ';
    case 'blockquote':
      return closing ? '\n\n' : '\n\n> ';
    case 'b':
    case 'strong':
      return '**';
    case 'i':
    case 'em':
      return '*';
    case 'code':
      return '`';
    case 'a': {
      if (!closing) {
        const href = attr(tag, 'href');
        const safe = href !== null && SAFE_HREF.test(href.trim()) ? href.trim() : null;
        links.push(safe);
        return safe === null ? '' : '[';
      }
      const href = links.pop();
      return href === null || href === undefined ? '' : `](${href.replace(/[()\s]/g, encodeURIComponent)})`;
    }
    default:
      return '';
  }
}

/** Markdown of an HTML fragment (see the module's doc). */
export function htmlToMarkdown(html: string): string {
  let out = '';
  let dropping: string | null = null;
  const links: (string | null)[] = [];
  const re = /<!--[\s\S]*?(?:-->|$)|<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>|<!\[CDATA\[|\]\]>|<![^>]*>/g;
  let last = 0;
  for (let m = re.exec(html); m !== null; m = re.exec(html)) {
    const text = html.slice(last, m.index);
    last = re.lastIndex;
    if (dropping === null) out += escapeMarkdown(decodeEntities(text).replace(/\s+/g, ' '));
    const name = m[2]?.toLowerCase();
    if (name === undefined) continue;
    const closing = m[1] === '/';
    if (dropping !== null) {
      if (closing && name === dropping) dropping = null;
      continue;
    }
    if (DROP_WITH_CONTENT.test(name)) {
      if (!closing && !m[0].endsWith('/>')) dropping = name;
      continue;
    }
    out += tagMarkdown(name, closing, m[0], links);
  }
  if (dropping === null) out += escapeMarkdown(decodeEntities(html.slice(last)).replace(/\s+/g, ' '));
  return out
    .split('\n')
    .map((l) => l.replace(/^ +/, '').replace(/(?<! ) +$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * WordPress keeps comments as text with a little HTML, and its paragraphs as blank lines: the same conversion,
 * with the text's own line breaks kept.
 */
export function wordpressToMarkdown(text: string): string {
  return htmlToMarkdown(text.replace(/\r\n?/g, '\n').replace(/\n\n+/g, '<p>').replace(/\n/g, '<br>'));
}
