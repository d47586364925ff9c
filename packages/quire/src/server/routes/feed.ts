import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { formatCommentId } from '../../store/records.js';
import type { FeedEntry } from '../../store/store.js';
import { clientGone } from '../abort.js';
import type { ServerContext } from '../context.js';
import { Type } from '../json-schema.js';
import { prepareMarkdown, renderMarkdown } from '../markdown.js';
import { problemResponses } from '../schemas.js';
import { baseUrl, type RoutesOptions } from './plugin.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

function xml(s: string): string {
  return s
    .replace(XML_FORBIDDEN, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function atom(ctx: ServerContext, self: string, title: string, id: string, entries: FeedEntry[]): string {
  const updated =
    entries[0]?.record.edited ?? entries[0]?.record.created ?? new Date(ctx.now()).toISOString();
  const parts = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <title>${xml(title)}</title>`,
    `  <id>${xml(id)}</id>`,
    `  <link rel="self" href="${xml(self)}"/>`,
    `  <updated>${xml(updated)}</updated>`,
    '  <generator>quire</generator>',
  ];
  for (const e of entries) {
    const r = e.record;
    const cid = formatCommentId(e.threadId, e.stem);
    const page = e.meta?.uri;
    const name = r.author ?? 'Anonymous';
    parts.push(
      '  <entry>',
      `    <id>urn:quire:comment:${xml(cid)}</id>`,
      `    <title>${xml(`${name} on ${e.meta?.title ?? page ?? 'a page'}`)}</title>`,
      `    <author><name>${xml(name)}</name></author>`,
      `    <published>${xml(r.created)}</published>`,
      `    <updated>${xml(r.edited ?? r.created)}</updated>`,
      ...(page === undefined ? [] : [`    <link rel="alternate" href="${xml(`${page}#comment-${cid}`)}"/>`]),
      `    <content type="html">${xml(renderMarkdown(r.text))}</content>`,
      '  </entry>',
    );
  }
  parts.push('</feed>', '');
  return parts.join('\n');
}

/**
 * The site feed's entries, from the recent-comments index (a bounded read, whatever the size of the site), kept
 * in memory: read again when this process changed a comment (the index's version) or, for changes made by other
 * processes, after feedCacheSeconds. Concurrent requests share one read.
 */
function siteEntries(ctx: ServerContext): () => Promise<FeedEntry[]> {
  const { store } = ctx;
  const ttlMs = ctx.config.feedCacheSeconds * 1000;
  let cached: { version: number; at: number; entries: Promise<FeedEntry[]> } | undefined;
  return () => {
    const now = performance.now();
    const version = store.recent.version;
    if (cached === undefined || cached.version !== version || now - cached.at >= ttlMs) {
      const entries = store.newestApproved(ctx.config.limits.feedEntries);
      const mine = { version, at: now, entries };
      cached = mine;
      entries.catch(() => {
        if (cached === mine) cached = undefined;
      });
    }
    return cached.entries;
  };
}

/** Atom feeds of the newest approved comments: of the whole site, or of one page with ?uri=. */
export const feedRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { ctx }) => {
  const { config, store } = ctx;
  const max = config.limits.feedEntries;
  const siteFeed = siteEntries(ctx);

  app.get(
    '/feed.atom',
    {
      schema: {
        tags: ['feeds'],
        summary: 'Atom feed of the newest comments (of one page with ?uri=)',
        querystring: Type.Object(
          { uri: Type.Optional(Type.String({ minLength: 1, maxLength: config.limits.uriChars })) },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'Atom 1.0',
            content: { 'application/atom+xml': { schema: { type: 'string' } } },
          },
          ...problemResponses(400, 429),
        },
      },
    },
    async (request, reply) => {
      const base = baseUrl(ctx, request);
      let body: string;
      if (request.query.uri !== undefined) {
        const { uri, threadId } = ctx.page(request.query.uri);
        const meta = await store.threadMeta(threadId);
        const entries = await store.newestApproved(max, threadId);
        await prepareMarkdown(
          entries.map((e) => e.record.text),
          clientGone(reply),
        );
        const self = `${base}/feed.atom?uri=${encodeURIComponent(uri)}`;
        body = atom(ctx, self, `Comments on ${meta?.title ?? uri}`, `urn:quire:thread:${threadId}`, entries);
      } else {
        const entries = await siteFeed();
        await prepareMarkdown(
          entries.map((e) => e.record.text),
          clientGone(reply),
        );
        body = atom(ctx, `${base}/feed.atom`, config.siteName, 'urn:quire:site', entries);
      }
      return reply.type('application/atom+xml; charset=utf-8').send(body);
    },
  );
};
