import { wordpressToMarkdown } from './html.js';
import { parseDate, type ReadMeter, type SourceItem, type SourceThread } from './source.js';
import { childText, type XmlNode, xmlEvents } from './xml.js';

const STATES: Readonly<Record<string, 'approved' | 'pending' | 'spam' | 'deleted'>> = {
  '1': 'approved',
  '0': 'pending',
  spam: 'spam',
  trash: 'deleted',
};

function comment(node: XmlNode, line: number, item: SourceThread | null): SourceItem | null {
  const key = childText(node, 'comment_id');
  const where = `line ${line}${key === null ? '' : ` (comment ${key})`}`;
  if (key === null) return { kind: 'bad', where, reason: 'comment without comment_id' };
  if (item === null) return { kind: 'bad', where, reason: 'comment outside an item' };
  const type = childText(node, 'comment_type') ?? 'comment';
  // Pingbacks and trackbacks are links between blogs, not comments anyone wrote here.
  if (type !== 'comment') return { kind: 'bad', where, reason: `comment_type ${type} is not imported` };
  const approved = childText(node, 'comment_approved') ?? '1';
  const status = STATES[approved];
  if (status === undefined) return { kind: 'bad', where, reason: `comment_approved ${approved} is unknown` };
  const parent = childText(node, 'comment_parent');
  return {
    kind: 'comment',
    comment: {
      key,
      thread: item.key,
      parent: parent === null || parent === '0' ? null : parent,
      author: childText(node, 'comment_author'),
      email: childText(node, 'comment_author_email'),
      website: childText(node, 'comment_author_url'),
      text: wordpressToMarkdown(node.children.find((c) => c.name === 'comment_content')?.text ?? ''),
      status,
      created: parseDate(childText(node, 'comment_date_gmt')),
      edited: null,
      address: childText(node, 'comment_author_IP'),
      likes: 0,
      where,
    },
  };
}

/**
 * WordPress's export (WXR, RSS 2.0 with `wp:` elements): each `<item>` is a post (`link`, `title`,
 * `wp:post_id`) whose `<wp:comment>` elements are its comments. The item's fields come before its comments.
 */
export async function* readWordpress(file: string, meter?: ReadMeter): AsyncGenerator<SourceItem> {
  let item: SourceThread | null = null;
  let announced = false;
  let inItem = false;
  for await (const ev of xmlEvents(
    file,
    new Set(['comment']),
    new Set(['link', 'title', 'post_id']),
    meter,
  )) {
    if (ev.kind === 'open') {
      if (ev.name === 'item') {
        inItem = true;
        announced = false;
        item = { key: `line-${ev.line}`, url: '', title: null, created: null };
      }
      continue;
    }
    if (ev.kind === 'field') {
      if (!inItem || item === null) continue;
      if (ev.name === 'link') item.url = ev.text.trim();
      else if (ev.name === 'title') item.title = ev.text.trim() || null;
      else item.key = ev.text.trim();
      continue;
    }
    if (!announced && item !== null) {
      announced = true;
      yield { kind: 'thread', thread: { ...item } };
    }
    const out = comment(ev.node, ev.line, item);
    if (out !== null) yield out;
  }
}
