import { compareNames } from '@quire/fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type CommentRecord, formatCommentId, type ThreadMeta } from '../../store/records.js';
import { normaliseUri, threadIdOf } from '../../store/uri.js';
import type { ServerContext } from '../context.js';
import { renderMarkdown } from '../markdown.js';
import { problemResponses } from '../schemas.js';

interface Entry {
  threadId: string;
  stem: string;
  record: CommentRecord;
  meta: ThreadMeta | null;
}

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

function baseUrl(ctx: ServerContext, request: FastifyRequest): string {
  if (ctx.config.publicUrl !== null) return ctx.config.publicUrl;
  const host = /^[A-Za-z0-9.:[\]-]{1,255}$/.test(request.host) ? request.host : 'localhost';
  return `${request.protocol}://${host}`;
}

function atom(ctx: ServerContext, self: string, title: string, id: string, entries: Entry[]): string {
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

/** Atom feeds of the newest approved comments: of the whole site, or of one page with ?uri=. */
export function registerFeedRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { config, store } = ctx;
  const max = config.limits.feedEntries;

  /** The newest approved comments of one thread, newest first, reading only as many files as needed. */
  const newest = async (threadId: string, meta: ThreadMeta | null, n: number): Promise<Entry[]> => {
    const out: Entry[] = [];
    const stems = await store.stems(threadId, { reverse: true });
    for (let i = 0; i < stems.length && out.length < n; i += n) {
      const batch = await store.comments(threadId, stems.slice(i, i + n));
      for (const c of batch) {
        if (c.record.status === 'approved' && out.length < n)
          out.push({ threadId, stem: c.stem, record: c.record, meta });
      }
    }
    return out;
  };

  app.get<{ Querystring: { uri?: string } }>(
    '/feed.atom',
    {
      schema: {
        tags: ['feeds'],
        summary: 'Atom feed of the newest comments (of one page with ?uri=)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { uri: { type: 'string', minLength: 1, maxLength: config.limits.uriChars } },
        },
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
        const uri = normaliseUri(request.query.uri, config.uri, config.limits.uriChars);
        const threadId = threadIdOf(uri);
        const meta = await store.threadMeta(threadId);
        const entries = await newest(threadId, meta, max);
        const self = `${base}/feed.atom?uri=${encodeURIComponent(uri)}`;
        body = atom(ctx, self, `Comments on ${meta?.title ?? uri}`, `urn:quire:thread:${threadId}`, entries);
      } else {
        const candidates: { threadId: string; stem: string }[] = [];
        for (const threadId of await store.threadIds()) {
          for (const stem of await store.stems(threadId, { reverse: true, limit: max })) {
            candidates.push({ threadId, stem });
          }
        }
        // Newest names first across threads; then read until `max` approved ones are found.
        candidates.sort((a, b) => compareNames(`${b.stem}.json`, `${a.stem}.json`));
        const byThread = new Map<string, ThreadMeta | null>();
        const entries: Entry[] = [];
        for (const c of candidates) {
          if (entries.length >= max) break;
          const record = await store.comment(c.threadId, c.stem);
          if (record === null || record.status !== 'approved') continue;
          if (!byThread.has(c.threadId)) byThread.set(c.threadId, await store.threadMeta(c.threadId));
          entries.push({ ...c, record, meta: byThread.get(c.threadId) ?? null });
        }
        body = atom(ctx, `${base}/feed.atom`, config.siteName, 'urn:quire:site', entries);
      }
      return reply.type('application/atom+xml; charset=utf-8').send(body);
    },
  );
}
