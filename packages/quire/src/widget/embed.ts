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

/** The page's count elements ([data-quire-count]) and the page URI each counts. */
function countElements(): { el: HTMLElement; uri: string }[] {
  const uriOf = (el: HTMLElement) => {
    const v = el.dataset.quireCount;
    if (v) return new URL(v, window.location.href).href;
    if (el instanceof HTMLAnchorElement && el.href) return el.href.replace(/#.*$/, '');
    return pageUri();
  };
  return Array.from(document.querySelectorAll<HTMLElement>('[data-quire-count]'))
    .slice(0, 100)
    .map((el) => ({ el, uri: uriOf(el) }));
}

/**
 * Fills the count elements: at once with the server's counts, and for a page whose thread is on this page, with
 * the thread's own count whenever it changes (a comment posted or deleted here), which then stays the word.
 */
function counts(call: Call, lang: string): (uri: string, total: number) => void {
  const els = countElements();
  const s = strings(lang);
  const fromThreads = new Set<string>();
  const show = (uri: string, n: number) => {
    for (const e of els) if (e.uri === uri) e.el.textContent = s.count(n);
  };
  const uris = [...new Set(els.map((e) => e.uri))];
  if (uris.length > 0) {
    const q = uris.map((u) => `uri=${encodeURIComponent(u)}`).join('&');
    call<{ counts: Record<string, number> }>('GET', `/api/counts?${q}`).then(
      ({ data }) => {
        for (const [uri, n] of Object.entries(data.counts)) if (!fromThreads.has(uri)) show(uri, n);
      },
      // counts are decoration: leave the elements as the page wrote them
      () => {},
    );
  }
  return (uri, total) => {
    fromThreads.add(uri);
    show(uri, total);
  };
}

function start(): void {
  const call = client(serviceBase(), 'omit');
  const pageLang = document.documentElement.lang || navigator.language;
  const roots = document.querySelectorAll<HTMLElement>('#quire-thread, [data-quire-thread]');
  if (roots.length > 0) addStyle();
  const counted = counts(call, pageLang);
  for (const root of roots) {
    if (root.dataset.quireMounted === '1') continue;
    root.dataset.quireMounted = '1';
    const uri = root.dataset.uri ? new URL(root.dataset.uri, window.location.href).href : pageUri();
    const thread = new Thread({
      root,
      call,
      s: strings(root.dataset.lang || pageLang),
      uri,
      title: root.dataset.title || document.title,
      onCount: (total) => counted(uri, total),
    });
    void thread.load();
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
