/**
 * quire's embeddable comments. On any page:
 *
 *   <script src="https://comments.example.org/js/embed.js" data-quire="https://comments.example.org" defer></script>
 *   <section id="quire-thread"></section>
 *
 * Optional attributes of the thread element: data-uri (the page the comments belong to; default this page's
 * address without its #fragment), data-title (default document.title), data-lang (default <html lang>),
 * data-theme="light"|"dark" (default: the reader's prefers-color-scheme). Elements with data-quire-count
 * (its value a page URI, or empty for this page or the link's target) get that page's comment count.
 */
import { type Call, client } from './api.js';
import { strings } from './i18n.js';
import { addStyle } from './style.js';
import { Thread } from './thread.js';

const script =
  (document.currentScript as HTMLScriptElement | null) ??
  document.querySelector<HTMLScriptElement>('script[data-quire]');

function serviceBase(): string {
  const attr = script?.dataset.quire;
  const src = script?.src || window.location.href;
  const url = attr ? new URL(attr, window.location.href) : new URL('..', src);
  return url.href.replace(/\/+$/, '');
}

function pageUri(): string {
  const u = new URL(window.location.href);
  u.hash = '';
  return u.href;
}

async function counts(call: Call, lang: string): Promise<void> {
  const els = Array.from(document.querySelectorAll<HTMLElement>('[data-quire-count]')).slice(0, 100);
  if (els.length === 0) return;
  const uriOf = (el: HTMLElement) => {
    const v = el.dataset.quireCount;
    if (v) return new URL(v, window.location.href).href;
    if (el instanceof HTMLAnchorElement && el.href) return el.href.replace(/#.*$/, '');
    return pageUri();
  };
  const uris = [...new Set(els.map(uriOf))];
  const q = uris.map((u) => `uri=${encodeURIComponent(u)}`).join('&');
  try {
    const { data } = await call<{ counts: Record<string, number> }>('GET', `/api/counts?${q}`);
    const s = strings(lang);
    for (const el of els) {
      const n = data.counts[uriOf(el)];
      if (typeof n === 'number') el.textContent = s.count(n);
    }
  } catch {
    // counts are decoration: leave the elements as the page wrote them
  }
}

function start(): void {
  const call = client(serviceBase(), 'omit');
  const pageLang = document.documentElement.lang || navigator.language;
  const roots = document.querySelectorAll<HTMLElement>('#quire-thread, [data-quire-thread]');
  if (roots.length > 0) addStyle();
  for (const root of roots) {
    if (root.dataset.quireMounted === '1') continue;
    root.dataset.quireMounted = '1';
    const thread = new Thread({
      root,
      call,
      s: strings(root.dataset.lang || pageLang),
      uri: root.dataset.uri ? new URL(root.dataset.uri, window.location.href).href : pageUri(),
      title: root.dataset.title || document.title,
    });
    void thread.load();
  }
  void counts(call, pageLang);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
