import { createReadStream } from 'node:fs';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { PortError, type ReadMeter } from './source.js';

/** An element of a record, with its text (text and CDATA of the element itself) and child elements. */
export interface XmlNode {
  /** The local name: `wp:comment` is `comment`. */
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlNode[];
}

/** What xmlEvents yields: a whole record element, or a field outside records. */
export type XmlEvent =
  | { kind: 'record'; node: XmlNode; line: number }
  | { kind: 'open'; name: string; line: number }
  | { kind: 'field'; name: string; text: string; line: number };

/** A record larger than this (its text, all fields together) stops the import: no comment is that long. */
export const MAX_RECORD_CHARS = 4 * 1024 * 1024;
/** Input the parser may hold between two events (one text node, one CDATA section, one comment). */
const MAX_PENDING_CHARS = MAX_RECORD_CHARS;

function localName(qname: string): string {
  const at = qname.indexOf(':');
  return at < 0 ? qname : qname.slice(at + 1);
}

/**
 * The records of an XML file, read as a stream (saxes: never the whole file in memory): each element named in
 * `records` (local name) as a tree, and outside records, the opening of elements and the text of those named in
 * `fields`. A DTD is refused (no entity is ever declared, let alone expanded or fetched: the billion laughs and
 * external entities stop here), an undefined entity is an error, and so is a record or a text node larger than
 * MAX_RECORD_CHARS. Errors are PortError 'malformed' naming the line.
 */
export async function* xmlEvents(
  file: string,
  records: ReadonlySet<string>,
  fields: ReadonlySet<string>,
  meter?: ReadMeter,
): AsyncGenerator<XmlEvent> {
  const parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  const out: XmlEvent[] = [];
  const stack: XmlNode[] = [];
  let recordChars = 0;
  let fieldText: string | null = null;
  let written = 0;
  let atLastEvent = 0;
  const fail = (message: string): never => {
    throw new PortError('malformed', `line ${parser.line}: ${message}`);
  };
  const seen = () => {
    atLastEvent = written;
  };
  const addText = (t: string) => {
    seen();
    const top = stack[stack.length - 1];
    if (top !== undefined) {
      recordChars += t.length;
      if (recordChars > MAX_RECORD_CHARS) fail(`a record larger than ${MAX_RECORD_CHARS} characters`);
      top.text += t;
    } else if (fieldText !== null) {
      if (fieldText.length + t.length > MAX_RECORD_CHARS) fail('a field larger than the limit');
      fieldText += t;
    }
  };
  parser.on('error', (err) => fail(err.message.replace(/^[^:]*:\d+:\d+: /, '')));
  parser.on('doctype', (d) => {
    seen();
    if (/[[]|\bSYSTEM\b|\bPUBLIC\b/.test(d)) fail('a DTD (entity declarations, external ids) is refused');
  });
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('comment', seen);
  parser.on('opentag', (tag: SaxesTagPlain) => {
    seen();
    const name = localName(tag.name);
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(tag.attributes)) attrs[localName(k)] = v;
    if (stack.length > 0 || records.has(name)) {
      const node: XmlNode = { name, attrs, text: '', children: [] };
      stack[stack.length - 1]?.children.push(node);
      stack.push(node);
      if (stack.length > 64) fail('elements nested too deep');
      return;
    }
    out.push({ kind: 'open', name, line: parser.line });
    fieldText = fields.has(name) ? '' : null;
  });
  parser.on('closetag', (tag: SaxesTagPlain) => {
    seen();
    const node = stack.pop();
    if (node !== undefined) {
      if (stack.length === 0) {
        out.push({ kind: 'record', node, line: parser.line });
        recordChars = 0;
      }
      return;
    }
    const name = localName(tag.name);
    if (fieldText !== null && fields.has(name))
      out.push({ kind: 'field', name, text: fieldText, line: parser.line });
    fieldText = null;
  });
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      parser.write(chunk);
      written += chunk.length;
      if (meter !== undefined) meter.bytes = stream.bytesRead;
      if (written - atLastEvent > MAX_PENDING_CHARS)
        fail(`a text node larger than ${MAX_PENDING_CHARS} characters`);
      yield* out.splice(0);
    }
    parser.close();
    yield* out.splice(0);
  } finally {
    stream.destroy();
  }
}

/** The first child named `name`, if any. */
export function child(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((c) => c.name === name);
}

/** The trimmed text of the first child named `name`; null when there is none or it is empty. */
export function childText(node: XmlNode, name: string): string | null {
  const t = child(node, name)?.text.trim();
  return t === undefined || t === '' ? null : t;
}
