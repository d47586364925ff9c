type Child = Node | string | null | undefined | false;
type Attr = string | number | boolean | null | undefined | ((e: Event) => void);

/**
 * Makes an element. Attributes are set with setAttribute (`on…` keys take listeners); children are nodes or
 * strings, and strings always become text nodes, so nothing passed here is ever parsed as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Record<string, Attr> | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Only http(s) URLs become links: anything else (javascript:, data:) is dropped. */
export function safeHref(url: string | null): string | null {
  if (url === null) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

let seq = 0;

/** A fresh id prefix for the elements of one form or thread (labels point at inputs by id). */
export function nextId(): string {
  return `quire-${++seq}`;
}
