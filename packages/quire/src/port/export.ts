import type { ThreadMeta } from '../store/records.js';
import type { CommentStore } from '../store/store.js';
import type { StoredComment } from '../store/threads.js';
import { type CommentLine, EXPORT_HEADER, type ThreadLine } from './quire-format.js';

/** The export formats. */
export const EXPORT_FORMATS = ['quire', 'disqus'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Records read at once per thread: memory stays flat whatever a thread holds. */
const BATCH = 256;

/**
 * Every thread (in id order, the same every time) with its page, and its comments in id order, read in batches.
 * What "consistent" means with files: each thread's comments are listed once, then read; a record is read whole
 * (records are published by rename or link, never written in place), so every comment is complete, and one
 * posted during the export is in (listed) or out, never half; an edit is seen before or after, whole.
 */
async function* eachThread(
  store: CommentStore,
): AsyncGenerator<{ id: string; meta: ThreadMeta; comments: () => AsyncGenerator<StoredComment> }> {
  const ids = (await store.threadIds()).sort();
  for (const id of ids) {
    const meta = await store.threadMeta(id);
    // A thread whose first comment never got written (a crash between the directory and its page) has no page.
    if (meta === null) continue;
    const stems = await store.stems(id);
    yield {
      id,
      meta,
      async *comments() {
        for (let i = 0; i < stems.length; i += BATCH)
          yield* await store.comments(id, stems.slice(i, i + BATCH));
      },
    };
  }
}

/** Our export as JSON Lines (quire-format.ts), one string per line. */
export async function* exportQuire(store: CommentStore): AsyncGenerator<string> {
  yield `${JSON.stringify(EXPORT_HEADER)}\n`;
  for await (const t of eachThread(store)) {
    const thread: ThreadLine = {
      type: 'thread',
      id: t.id,
      uri: t.meta.uri,
      title: t.meta.title,
      created: t.meta.created,
    };
    yield `${JSON.stringify(thread)}\n`;
    // One listing of the thread's votes instead of one per comment: most comments have none.
    const voted = await store.port.votedStems(t.id);
    for await (const c of t.comments()) {
      const votes = voted.has(c.stem) ? await store.port.votes(t.id, c.stem) : [];
      const line: CommentLine = { type: 'comment', thread: t.id, id: c.stem, record: c.record, votes };
      yield `${JSON.stringify(line)}\n`;
    }
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: characters XML 1.0 does not allow
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

function esc(s: string): string {
  return s
    .replace(NOT_XML, '')
    .replace(/[&<>"]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`);
}

function cdata(s: string): string {
  return `<![CDATA[${s.replace(NOT_XML, '').replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}

/** Markdown source as HTML paragraphs of text: what Disqus shows, nothing rendered (no markup to trust). */
function messageHtml(text: string): string {
  return text
    .split(/\n\s*\n/)
    .filter((p) => p.trim() !== '')
    .map((p) => `<p>${esc(p.trim()).replace(/\n/g, '<br>')}</p>`)
    .join('');
}

/** `2013-01-01T10:00:00Z`: Disqus's dates have no milliseconds. */
function disqusDate(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

const HEAD = `<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd http://disqus.com/api/schemas/1.0/disqus-internals.xsd">
<category dsq:id="quire"><forum>quire</forum><title>General</title><isDefault>true</isDefault></category>
`;

function threadXml(id: string, meta: ThreadMeta): string {
  return `<thread dsq:id="${esc(id)}"><id>${esc(id)}</id><forum>quire</forum><category dsq:id="quire"/><link>${esc(meta.uri)}</link><title>${esc(meta.title ?? '')}</title><message/><createdAt>${disqusDate(meta.created)}</createdAt><isClosed>false</isClosed><isDeleted>false</isDeleted></thread>\n`;
}

function postXml(threadId: string, c: StoredComment): string {
  const r = c.record;
  const author = `<author>${r.email === null ? '' : `<email>${esc(r.email)}</email>`}<name>${esc(r.author ?? '')}</name><isAnonymous>${r.author === null}</isAnonymous></author>`;
  const parent = r.parent === null ? '' : `<parent dsq:id="${esc(`${threadId}_${r.parent}`)}"/>`;
  return `<post dsq:id="${esc(`${threadId}_${c.stem}`)}"><id/><message>${cdata(messageHtml(r.text))}</message><createdAt>${disqusDate(r.created)}</createdAt><isDeleted>${r.status === 'deleted'}</isDeleted><isSpam>${r.status === 'spam'}</isSpam>${author}${r.ip === null ? '' : `<ipAddress>${esc(r.ip)}</ipAddress>`}<thread dsq:id="${esc(threadId)}"/>${parent}</post>\n`;
}

/**
 * A Disqus XML export (the format Disqus, Isso and Remark42 import): every thread, then every comment but the
 * pending ones (Disqus has no such state: they would come out public). Post ids are our comment ids.
 */
export async function* exportDisqus(store: CommentStore): AsyncGenerator<string> {
  yield HEAD;
  const threads: { id: string; stems: () => AsyncGenerator<StoredComment> }[] = [];
  for await (const t of eachThread(store)) {
    threads.push({ id: t.id, stems: t.comments });
    yield threadXml(t.id, t.meta);
  }
  for (const t of threads) {
    for await (const c of t.stems()) if (c.record.status !== 'pending') yield postXml(t.id, c);
  }
  yield '</disqus>\n';
}

/** The export in `format`. */
export function exportStream(store: CommentStore, format: ExportFormat): AsyncGenerator<string> {
  return format === 'disqus' ? exportDisqus(store) : exportQuire(store);
}
