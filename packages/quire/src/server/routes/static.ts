import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { ServerContext } from '../context.js';
import { Type } from '../json-schema.js';
import { ProblemError } from '../problem.js';
import { baseUrl, type TypedApp } from './plugin.js';

/**
 * The browser side of the service: GET /js/embed.js (the embeddable comments), GET /js/admin.js and GET /admin
 * (the admin page), and GET / (a demo blog post with the comments embedded). The scripts are built by
 * scripts/build-widget.mjs into dist/widget; until then they answer 404 widget-not-built.
 */

export interface StaticOptions {
  ctx: ServerContext;
  /** Where embed.js and admin.js are; default the package's dist/widget. */
  widgetDir?: string;
}

/** dist/src/server/routes/static.js -> dist/widget. */
const DEFAULT_WIDGET_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../widget');

const SCRIPTS = new Set(['embed.js', 'admin.js']);

function html(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function csp(frameAncestors: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

/** The demo and admin pages' icon, a speech bubble; also answers /favicon.ico, which browsers ask for unbidden. */
const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#0a58ca" d="M5 4h22a3 3 0 0 1 3 3v13a3 3 0 0 1-3 3H14l-7 6v-6H5a3 3 0 0 1-3-3V7a3 3 0 0 1 3-3z"/><path fill="#fff" d="M8 10h16v2.5H8zm0 5h11v2.5H8z"/></svg>';
const ICON_LINK = '<link rel="icon" href="/favicon.svg" type="image/svg+xml">';

const PAGE_CSS = `
:root{color-scheme:light dark;--bg:#fdfcf9;--fg:#1f2328;--muted:#59636e;--rule:#e4e1da;--code:#f3f1ec;--link:#0a58ca}
@media (prefers-color-scheme:dark){:root{--bg:#14161a;--fg:#e6e6e6;--muted:#a3acb9;--rule:#30343b;--code:#1d2026;--link:#8ab4f8}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:17px/1.65 Georgia,"Iowan Old Style","Palatino Linotype",serif}
a{color:var(--link)}
.wrap{max-width:44rem;margin:0 auto;padding:0 1.25rem}
header.site{border-bottom:1px solid var(--rule);padding:1rem 0;margin-bottom:2rem;font-family:system-ui,sans-serif;font-size:.95rem}
header.site .wrap{display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}
.brand{font-weight:700;color:inherit;text-decoration:none}
h1{font-size:2.1rem;line-height:1.2;margin:0 0 .4rem}
.byline{color:var(--muted);font-family:system-ui,sans-serif;font-size:.9rem;margin:0 0 1.6rem}
pre{background:var(--code);padding:.8rem 1rem;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.8rem;line-height:1.5}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
#quire-thread{margin:3rem 0 4rem;padding-top:2rem;border-top:1px solid var(--rule);font-family:system-ui,sans-serif;font-size:1rem}
footer{color:var(--muted);font-family:system-ui,sans-serif;font-size:.85rem;border-top:1px solid var(--rule);padding:1.5rem 0 3rem}
`;

const DEMO = {
  en: {
    title: 'Comments as plain files',
    brand: 'A demo blog',
    other: ['de', 'Deutsch'],
    byline: 'A demo post of the quire comment service',
    count: 'Comments',
    body: [
      'This page is a stand-in for a post on your blog. The comments below are served by quire, the service you are running: each one is a plain file in its data directory, written so that two comments posted in the same second never overwrite each other and a power cut never leaves half a comment behind.',
      'Write a comment, reply to one, preview your Markdown, like one. For a few minutes after posting you can edit or delete your own comment: this browser keeps the key for it. The site owner moderates at /admin.',
    ],
    embed: 'Embedding it in your own pages takes two lines:',
    footer: 'Powered by quire.',
  },
  de: {
    title: 'Kommentare als einfache Dateien',
    brand: 'Ein Demo-Blog',
    other: ['', 'English'],
    byline: 'Ein Demo-Beitrag des Kommentardienstes quire',
    count: 'Kommentare',
    body: [
      'Diese Seite steht für einen Beitrag in Ihrem Blog. Die Kommentare darunter liefert quire, der Dienst, den Sie gerade betreiben: Jeder ist eine einfache Datei in dessen Datenverzeichnis, so geschrieben, dass zwei Kommentare aus derselben Sekunde einander nie überschreiben und ein Stromausfall nie einen halben Kommentar hinterlässt.',
      'Schreiben Sie einen Kommentar, antworten Sie, sehen Sie sich die Markdown-Vorschau an. Ein paar Minuten lang können Sie Ihren eigenen Kommentar bearbeiten oder löschen: Dieser Browser merkt sich den Schlüssel dazu. Moderiert wird unter /admin.',
    ],
    embed: 'Auf Ihren eigenen Seiten braucht es dafür zwei Zeilen:',
    footer: 'Betrieben mit quire.',
  },
} as const;

function demoPage(base: string, lang: 'en' | 'de'): string {
  const t = DEMO[lang];
  const snippet =
    `<script src="${base}/js/embed.js" data-quire="${base}" defer></script>\n` +
    '<section id="quire-thread"></section>';
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${html(t.title)} · quire</title>
${ICON_LINK}
<style>${PAGE_CSS}</style>
</head>
<body>
<header class="site"><div class="wrap"><a class="brand" href="/">${html(t.brand)}</a>
<nav><a href="/${t.other[0] === '' ? '' : `?lang=${t.other[0]}`}" hreflang="${t.other[0] || 'en'}">${html(t.other[1])}</a> · <a href="/admin">Admin</a></nav></div></header>
<main class="wrap">
<article>
<h1>${html(t.title)}</h1>
<p class="byline">${html(t.byline)} · <a href="#quire-thread" data-quire-count>${html(t.count)}</a></p>
${t.body.map((p) => `<p>${html(p)}</p>`).join('\n')}
<p>${html(t.embed)}</p>
<pre><code>${html(snippet)}</code></pre>
</article>
<section id="quire-thread"></section>
</main>
<footer><div class="wrap">${html(t.footer)}</div></footer>
<script src="${html(base)}/js/embed.js" data-quire="${html(base)}" defer></script>
</body>
</html>
`;
}

const ADMIN_CSS = `
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--rule:#d0d7de;--soft:#f6f8fa;--accent:#0a58ca;--err:#b3261e;--ok:#146c2e}
@media (prefers-color-scheme:dark){:root{--fg:#e6e6e6;--bg:#14161a;--muted:#a3acb9;--rule:#30343b;--soft:#1d2026;--accent:#8ab4f8;--err:#f2b8b5;--ok:#9ad5a5}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,sans-serif}
main{max-width:60rem;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
a{color:var(--accent)}
input,textarea,button,select{font:inherit;color:inherit}
input[type=password],textarea{display:block;width:100%;max-width:30rem;padding:.4rem .5rem;border:1px solid var(--rule);border-radius:6px;background:var(--soft);margin:.2rem 0 .6rem}
textarea{max-width:none}
button{cursor:pointer;padding:.25rem .75rem;border:1px solid var(--rule);border-radius:6px;background:var(--soft);margin-right:.3rem}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.bar{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap;padding:.6rem 0;border-bottom:1px solid var(--rule)}
.error{color:var(--err);font-weight:600}.status{color:var(--ok)}
.comments{list-style:none;padding:0;margin:0}
.comment{border:1px solid var(--rule);border-radius:8px;padding:.6rem .8rem;margin:.5rem 0}
.comment header{display:flex;flex-wrap:wrap;gap:.3rem .8rem;color:var(--muted);font-size:.85rem}
.comment .who{color:var(--fg);font-weight:600}
.badge{border:1px solid var(--rule);border-radius:1rem;padding:0 .5rem}
.badge.pending{border-color:#d4a72c}.badge.spam,.badge.deleted{border-color:var(--err)}
.comment.deleted,.comment.spam{opacity:.7}
.body{overflow-wrap:anywhere}
.empty{color:var(--muted)}
.reply-to{color:var(--muted);font-size:.85rem;margin:.3rem 0;padding-left:.6rem;border-left:3px solid var(--rule)}
.section-head{display:flex;justify-content:space-between;align-items:baseline;gap:1rem;flex-wrap:wrap}
.deleted-note{color:var(--muted);font-style:italic;margin:.3rem 0}
`;

function adminPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>quire admin</title>
${ICON_LINK}
<style>${ADMIN_CSS}</style>
<script src="/js/admin.js" defer></script>
</head>
<body>
<main>
<h1>quire admin</h1>
<div id="quire-admin"><p>Loading…</p></div>
<noscript><p>The admin page needs JavaScript.</p></noscript>
</main>
</body>
</html>
`;
}

function sendHtml(reply: FastifyReply, body: string, frameAncestors: string): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', csp(frameAncestors))
    .header('referrer-policy', 'same-origin')
    .send(body);
}

interface Script {
  mtimeMs: number;
  body: Buffer;
  etag: string;
}

/** Reads a built script, again whenever its file changes (a rebuild needs no restart). */
function scriptReader(dir: string): (name: string) => Promise<Script> {
  const cache = new Map<string, Script>();
  return async (name) => {
    const file = path.join(dir, name);
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(file);
    } catch {
      throw new ProblemError(
        404,
        'widget-not-built',
        `${name} is not built; run node packages/quire/scripts/build-widget.mjs`,
      );
    }
    const hit = cache.get(name);
    if (hit !== undefined && hit.mtimeMs === st.mtimeMs) return hit;
    const body = await fs.promises.readFile(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const entry = { mtimeMs: st.mtimeMs, body, etag };
    cache.set(name, entry);
    return entry;
  };
}

const scriptParams = Type.Object(
  { name: Type.Union([...SCRIPTS].map((n) => Type.Literal(n))) },
  { additionalProperties: false },
);
const demoQuery = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 16 })) });

function scriptRoutes(app: TypedApp, dir: string): void {
  const script = scriptReader(dir);
  // The app answers `cache-control: no-store` by default; scripts may be cached for a while (and revalidated).
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/js/') && reply.statusCode < 400) {
      reply.header('cache-control', 'public, max-age=300, must-revalidate');
    }
    done(null, payload);
  });
  app.get(
    '/js/:name',
    {
      schema: {
        tags: ['widget'],
        summary: 'The embeddable comments (embed.js) and the admin page script (admin.js)',
        params: scriptParams,
      },
    },
    async (request, reply) => {
      const s = await script(request.params.name);
      reply
        .type('text/javascript; charset=utf-8')
        .header('etag', s.etag)
        .header('cross-origin-resource-policy', 'cross-origin');
      if (request.headers['if-none-match'] === s.etag) return reply.code(304).send();
      return reply.send(s.body);
    },
  );
}

function pageRoutes(app: TypedApp, ctx: ServerContext): void {
  app.get(
    '/',
    {
      schema: {
        tags: ['widget'],
        summary: 'A demo blog post with the comments embedded (?lang=de for German)',
        querystring: demoQuery,
      },
    },
    async (request, reply) =>
      sendHtml(reply, demoPage(baseUrl(ctx, request), request.query.lang === 'de' ? 'de' : 'en'), "'self'"),
  );
  for (const url of ['/favicon.svg', '/favicon.ico']) {
    app.get(
      url,
      { schema: { tags: ['widget'], summary: "The pages' icon (SVG)" } },
      async (_request, reply) =>
        reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(ICON),
    );
  }
  app.get(
    '/admin',
    { schema: { tags: ['admin'], summary: 'The admin page: log in, moderate, edit, delete' } },
    // Headers before send(): once the hooks are synchronous, send() writes the response at once.
    async (_request, reply) =>
      sendHtml(
        reply.header('x-frame-options', 'DENY').header('x-robots-tag', 'noindex'),
        adminPage(),
        "'none'",
      ),
  );
}

const plugin: FastifyPluginAsyncTypebox<StaticOptions> = async (app, opts) => {
  scriptRoutes(app, opts.widgetDir ?? DEFAULT_WIDGET_DIR);
  pageRoutes(app, opts.ctx);
};

(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'quire-static';

/** Fastify plugin (encapsulated): `await app.register(staticRoutes, { ctx })`. */
export const staticRoutes = plugin;
