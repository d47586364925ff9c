import { htmlToMarkdown } from './html.js';
import { parseDate, type ReadMeter, type SourceItem } from './source.js';
import { child, childText, type XmlNode, xmlEvents } from './xml.js';

/** `true` in a Disqus flag element. */
function flag(node: XmlNode, name: string): boolean {
  return childText(node, name)?.toLowerCase() === 'true';
}

/** The `dsq:id` of a Disqus element or of its child `name`. */
function dsqId(node: XmlNode | undefined): string | null {
  const id = node?.attrs.id?.trim();
  return id === undefined || id === '' ? null : id;
}

function post(node: XmlNode, line: number): SourceItem {
  const where = `line ${line}`;
  const key = dsqId(node);
  const thread = dsqId(child(node, 'thread'));
  if (key === null) return { kind: 'bad', where, reason: 'post without dsq:id' };
  if (thread === null) return { kind: 'bad', where: `${where} (post ${key})`, reason: 'post without thread' };
  const author = child(node, 'author');
  const status = flag(node, 'isDeleted')
    ? 'deleted'
    : flag(node, 'isSpam')
      ? 'spam'
      : childText(node, 'isApproved')?.toLowerCase() === 'false'
        ? 'pending'
        : 'approved';
  return {
    kind: 'comment',
    comment: {
      key,
      thread,
      parent: dsqId(child(node, 'parent')),
      author: author === undefined ? null : (childText(author, 'name') ?? childText(author, 'username')),
      email: author === undefined ? null : childText(author, 'email'),
      website: null,
      text: htmlToMarkdown(child(node, 'message')?.text ?? ''),
      status,
      created: parseDate(childText(node, 'createdAt')),
      edited: null,
      address: childText(node, 'ipAddress'),
      likes: 0,
      where: `${where} (post ${key})`,
    },
  };
}

/**
 * The Disqus XML export: `<thread dsq:id>` elements (link, title), then `<post dsq:id>` elements (message in
 * HTML, createdAt, isDeleted, isSpam, author name and e-mail, ipAddress, `<thread dsq:id>`, `<parent dsq:id>`).
 */
export async function* readDisqus(file: string, meter?: ReadMeter): AsyncGenerator<SourceItem> {
  for await (const ev of xmlEvents(file, new Set(['thread', 'post', 'category']), new Set(), meter)) {
    if (ev.kind !== 'record') continue;
    const { node, line } = ev;
    if (node.name === 'thread') {
      const key = dsqId(node);
      const url = childText(node, 'link');
      if (key === null || url === null) {
        yield { kind: 'bad', where: `line ${line}`, reason: 'thread without dsq:id or link' };
        continue;
      }
      const created = parseDate(childText(node, 'createdAt'));
      const title = childText(node, 'title');
      yield {
        kind: 'thread',
        thread: { key, url, title, created: Number.isFinite(created) ? created : null },
      };
    } else if (node.name === 'post') yield post(node, line);
  }
}
