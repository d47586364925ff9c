import { h } from './dom.js';
import type { Comment } from './types.js';

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element (h() makes HTML elements only). */
function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * An identicon drawn here from the comment's `avatar` key (a keyed hash the server makes: server/avatars.ts):
 * a 5×5 grid, mirrored left to right, in one colour. The first 3 hex digits pick the hue, the next 15 bits which
 * cells of the left three columns are filled. Nothing is fetched.
 */
export function identicon(key: string): SVGElement {
  const n = (from: number, len: number) => Number.parseInt(key.slice(from, from + len), 16) || 0;
  const hue = Math.round((n(0, 3) / 4096) * 360);
  const bits = n(3, 4) * 16 + n(7, 1);
  const art = svg('svg', {
    viewBox: '0 0 5 5',
    width: 32,
    height: 32,
    'aria-hidden': 'true',
    focusable: 'false',
  });
  art.append(svg('rect', { width: 5, height: 5, fill: `hsl(${hue} 45% 92%)` }));
  for (let i = 0; i < 15; i++) {
    if (((bits >> i) & 1) === 0) continue;
    const row = i % 5;
    const col = Math.floor(i / 5);
    for (const x of col === 2 ? [2] : [col, 4 - col]) {
      art.append(svg('rect', { x, y: row, width: 1, height: 1, fill: `hsl(${hue} 55% 45%)` }));
    }
  }
  return art;
}

/**
 * A comment's picture: its identicon, and with the site's Gravatar setting on (the server then sends
 * `gravatar`), the author's Gravatar over it, which falls back to the identicon where gravatar.com has none.
 * Null for a comment without an avatar key (a tombstone).
 */
export function avatar(c: Comment): HTMLElement | null {
  if (c.avatar === undefined) return null;
  const box = h('span', { class: 'quire-avatar', 'aria-hidden': 'true' });
  box.append(identicon(c.avatar));
  if (c.gravatar !== undefined) {
    const img = h('img', {
      src: `https://www.gravatar.com/avatar/${c.gravatar}?s=64&d=404`,
      alt: '',
      width: 32,
      height: 32,
      loading: 'lazy',
      referrerpolicy: 'no-referrer',
    });
    img.addEventListener('error', () => img.remove());
    box.append(img);
  }
  return box;
}
