import { createReadStream } from 'node:fs';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { MAX_RECORD_CHARS, PortError, type ReadMeter } from './source.js';

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
  const reader = new RecordReader(records, fields);
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      reader.write(chunk);
      if (meter !== undefined) meter.bytes = stream.bytesRead;
      yield* reader.out.splice(0);
    }
    reader.close();
    yield* reader.out.splice(0);
  } finally {
    stream.destroy();
  }
}

/** saxes' events turned into xmlEvents' records and fields, with the limits checked as the text arrives. */
class RecordReader {
  readonly out: XmlEvent[] = [];
  private readonly parser = new SaxesParser<{ xmlns: false; position: true }>({
    xmlns: false,
    position: true,
  });
  private readonly stack: XmlNode[] = [];
  private recordChars = 0;
  private fieldText: string | null = null;
  private written = 0;
  /** Characters written when saxes last reported anything: what lies between is one pending text node. */
  private atLastEvent = 0;

  constructor(
    private readonly records: ReadonlySet<string>,
    private readonly fields: ReadonlySet<string>,
  ) {
    const p = this.parser;
    p.on('error', (err) => this.fail(err.message.replace(/^[^:]*:\d+:\d+: /, '')));
    p.on('doctype', (d) => {
      this.seen();
      if (/[[]|\bSYSTEM\b|\bPUBLIC\b/.test(d))
        this.fail('a DTD (entity declarations, external ids) is refused');
    });
    p.on('text', (t) => this.addText(t));
    p.on('cdata', (t) => this.addText(t));
    p.on('comment', () => this.seen());
    p.on('opentag', (tag: SaxesTagPlain) => this.open(tag));
    p.on('closetag', (tag: SaxesTagPlain) => this.closeTag(tag));
  }

  write(chunk: string): void {
    this.parser.write(chunk);
    this.written += chunk.length;
    if (this.written - this.atLastEvent > MAX_PENDING_CHARS)
      this.fail(`a text node larger than ${MAX_PENDING_CHARS} characters`);
  }

  close(): void {
    this.parser.close();
  }

  private fail(message: string): never {
    throw new PortError('malformed', `line ${this.parser.line}: ${message}`);
  }

  private seen(): void {
    this.atLastEvent = this.written;
  }

  private addText(t: string): void {
    this.seen();
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) {
      this.recordChars += t.length;
      if (this.recordChars > MAX_RECORD_CHARS)
        this.fail(`a record larger than ${MAX_RECORD_CHARS} characters`);
      top.text += t;
    } else if (this.fieldText !== null) {
      if (this.fieldText.length + t.length > MAX_RECORD_CHARS) this.fail('a field larger than the limit');
      this.fieldText += t;
    }
  }

  private open(tag: SaxesTagPlain): void {
    this.seen();
    const name = localName(tag.name);
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(tag.attributes)) attrs[localName(k)] = v;
    if (this.stack.length > 0 || this.records.has(name)) {
      const node: XmlNode = { name, attrs, text: '', children: [] };
      this.stack[this.stack.length - 1]?.children.push(node);
      this.stack.push(node);
      if (this.stack.length > 64) this.fail('elements nested too deep');
      return;
    }
    this.out.push({ kind: 'open', name, line: this.parser.line });
    this.fieldText = this.fields.has(name) ? '' : null;
  }

  private closeTag(tag: SaxesTagPlain): void {
    this.seen();
    const node = this.stack.pop();
    if (node !== undefined) {
      if (this.stack.length === 0) {
        this.out.push({ kind: 'record', node, line: this.parser.line });
        this.recordChars = 0;
      }
      return;
    }
    const name = localName(tag.name);
    if (this.fieldText !== null && this.fields.has(name))
      this.out.push({ kind: 'field', name, text: this.fieldText, line: this.parser.line });
    this.fieldText = null;
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
