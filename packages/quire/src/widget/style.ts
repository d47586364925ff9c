/**
 * The widget's CSS, added once per page. It inherits the host page's font and text colour, draws with
 * translucent greys that work on light and dark pages, and switches its accent colours with
 * prefers-color-scheme (or the thread element's data-theme="light"|"dark"). The name, e-mail and website fields
 * are flex items as wide as their labels (or wider): a row breaks before a label would wrap, at any width.
 */
const LIGHT = '--q-accent:#0a58ca;--q-on-accent:#fff;--q-error:#b3261e;--q-ok:#146c2e;--q-mark:#fff4ce';
const DARK = '--q-accent:#8ab4f8;--q-on-accent:#0b1b33;--q-error:#f2b8b5;--q-ok:#9ad5a5;--q-mark:#3d3420';

export const CSS = `
.quire{${LIGHT};--q-line:rgba(128,128,128,.45);--q-soft:rgba(128,128,128,.12);font:inherit;color:inherit;line-height:1.5;overflow-wrap:anywhere}
.quire[data-theme=dark]{${DARK}}
@media (prefers-color-scheme:dark){.quire:not([data-theme=light]){${DARK}}}
.quire *{box-sizing:border-box}
.quire [hidden]{display:none!important}
.quire h2,.quire h3{font-size:1.3em;line-height:1.3;margin:0 0 .6em}
.quire h3{font-size:1em;margin:0 0 .4em}
.quire a{color:var(--q-accent)}
.quire input,.quire textarea,.quire button{font:inherit;color:inherit;margin:0}
.quire input,.quire textarea{display:block;width:100%;padding:.45em .6em;border:1px solid var(--q-line);border-radius:6px;background:var(--q-soft)}
.quire textarea{min-height:6.5em;resize:vertical}
.quire button{cursor:pointer;padding:.3em .85em;border:1px solid var(--q-line);border-radius:6px;background:var(--q-soft)}
.quire button:disabled{cursor:progress;opacity:.7}
.quire .quire-primary{background:var(--q-accent);border-color:var(--q-accent);color:var(--q-on-accent);font-weight:600}
.quire :focus-visible{outline:2px solid var(--q-accent);outline-offset:2px}
.quire-form{margin:0 0 1.5em}
.quire-fields{display:flex;flex-wrap:wrap;gap:.6em;align-items:flex-end;margin:0 0 .6em}
.quire-fields>div{flex:1 1 10em;min-width:fit-content}
.quire label{display:block;font-size:.9em;margin:0 0 .2em}
.quire .quire-check{display:flex;gap:.5em;align-items:center;margin:0 0 .6em}
.quire .quire-check input{display:inline;width:auto;margin:0}.quire .quire-check label{margin:0}
.quire-sort{display:flex;gap:.5em;align-items:center;justify-content:flex-end;margin:0 0 .6em}
.quire-sort label{margin:0}.quire-sort select{font:inherit;color:inherit;background:var(--q-soft);border:1px solid var(--q-line);border-radius:6px;padding:.2em .4em}
.quire-avatar{position:relative;display:inline-block;width:32px;height:32px;border-radius:50%;overflow:hidden;flex:none;align-self:center}
.quire-avatar>*{position:absolute;inset:0;width:100%;height:100%}
.quire-note,.quire-hint,.quire-time,.quire-edited{font-size:.85em;opacity:.8}
.quire-hint{margin:.3em 0}
.quire-buttons,.quire-actions{display:flex;flex-wrap:wrap;gap:.4em;align-items:center}
.quire-actions{margin-top:.3em}
.quire-actions button{font-size:.85em;padding:.1em .6em}
.quire-hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
.quire-sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.quire-error{color:var(--q-error);font-weight:600;margin:.4em 0}
.quire-status{color:var(--q-ok);margin:.4em 0}
.quire-error:empty,.quire-status:empty{margin:0}
.quire-preview{min-height:6.5em;padding:.45em .6em;border:1px dashed var(--q-line);border-radius:6px}
.quire-list,.quire-replies{list-style:none;margin:0;padding:0}
.quire-replies{margin:0 0 0 .9em;padding:0 0 0 .9em;border-left:2px solid var(--q-soft)}
.quire-c{margin:0 0 1.1em}
.quire-c>article{border-radius:6px;padding:.3em .5em}
.quire-c>article:target,.quire-c>article.quire-new{background:var(--q-mark)}
.quire-meta{display:flex;flex-wrap:wrap;gap:.2em .6em;align-items:baseline}
.quire-author{font-weight:600}
.quire-body>:first-child{margin-top:.2em}.quire-body>:last-child{margin-bottom:.2em}
.quire-body pre{overflow:auto;padding:.5em;background:var(--q-soft);border-radius:4px}
.quire-body blockquote{margin:.4em 0;padding-left:.8em;border-left:3px solid var(--q-line)}
.quire-deleted{font-style:italic;opacity:.75}
.quire-pending{font-size:.85em;margin:.3em 0;padding:.2em .5em;border:1px dashed var(--q-line);border-radius:4px}
.quire-liked{border-color:var(--q-accent)!important}
.quire-loading .quire-list{min-height:16em}
.quire-skel{height:4.4em;margin:0 0 1.1em;border-radius:6px;background:var(--q-soft);animation:quire-pulse 1.4s ease-in-out infinite alternate}
@keyframes quire-pulse{to{opacity:.45}}
@media (prefers-reduced-motion:reduce){.quire-skel{animation:none}}
`;

let added = false;

/**
 * Adds the CSS once. A constructed stylesheet needs no `style-src 'unsafe-inline'` in the host page's
 * Content-Security-Policy; browsers without them get a <style> element.
 */
export function addStyle(): void {
  if (added) return;
  added = true;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  } catch {
    const style = document.createElement('style');
    style.textContent = CSS;
    document.head.append(style);
  }
}
