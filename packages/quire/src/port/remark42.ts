import { htmlToMarkdown } from './html.js';
import { readLines } from './lines.js';
import { PortError, parseDate, type ReadMeter, type SourceItem } from './source.js';

interface Remark42Comment {
  id?: unknown;
  pid?: unknown;
  text?: unknown;
  orig?: unknown;
  user?: { name?: unknown };
  locator?: { url?: unknown };
  time?: unknown;
  votes?: unknown;
  score?: unknown;
  delete?: unknown;
  title?: unknown;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** Likes of a Remark42 comment: its positive votes (`votes` maps voters to true/false), else its score. */
function likesOf(c: Remark42Comment): number {
  if (typeof c.votes === 'object' && c.votes !== null) {
    return Object.values(c.votes as Record<string, unknown>).filter((v) => v === true).length;
  }
  return typeof c.score === 'number' && c.score > 0 ? Math.floor(c.score) : 0;
}

/**
 * Remark42's backup (`remark42.SITE-YYYYMMDD.gz`): gzip'd JSON lines, the site's info first, then one comment a
 * line (id, pid, text in HTML, orig: the Markdown it was written in, user, locator.url, time, votes, score,
 * delete). The Markdown of `orig` is taken when there is one, else the HTML is converted (html.ts). Remark42 keeps
 * no e-mail and only a hash of the address, and has no pending or spam state.
 */
export async function* readRemark42(file: string, meter?: ReadMeter): AsyncGenerator<SourceItem> {
  const pages = new Set<string>();
  let first = true;
  for await (const { line, n } of readLines(file, true, meter)) {
    if (line.trim() === '') continue;
    let c: Remark42Comment;
    try {
      c = JSON.parse(line) as Remark42Comment;
    } catch {
      throw new PortError('malformed', `line ${n}: not JSON`);
    }
    if (typeof c !== 'object' || c === null) throw new PortError('malformed', `line ${n}: not a JSON object`);
    if (first) {
      first = false;
      if (c.locator === undefined) continue; // the site's info
    }
    const where = `line ${n}`;
    const key = str(c.id);
    const url = str(c.locator?.url);
    if (key === null || url === null) {
      yield { kind: 'bad', where, reason: 'comment without id or locator.url' };
      continue;
    }
    if (!pages.has(url)) {
      pages.add(url);
      yield { kind: 'thread', thread: { key: url, url, title: str(c.title), created: null } };
    }
    const deleted = c.delete === true;
    yield {
      kind: 'comment',
      comment: {
        key,
        thread: url,
        parent: str(c.pid),
        author: str(c.user?.name),
        email: null,
        website: null,
        text: str(c.orig) ?? htmlToMarkdown(typeof c.text === 'string' ? c.text : ''),
        status: deleted ? 'deleted' : 'approved',
        created: parseDate(typeof c.time === 'string' ? c.time : null),
        edited: null,
        address: null,
        likes: likesOf(c),
        where: `${where} (comment ${key})`,
      },
    };
  }
}
