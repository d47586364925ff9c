import type { Spool } from '@quire/fs';
import { only, str } from './args.js';
import { type Command, EXIT, Failure, HELP_OPTION } from './command.js';
import { open, SUFFIX_OPTION } from './spool.js';

/** `quire append DIR`: publishes standard input as one record. */
export const command: Command = {
  usage: 'quire append DIR [--key KEY] [--suffix .EXT] [--no-fsync] [--allow-empty]',
  help: `Reads standard input to its end and publishes it as one record of the spool
DIR (created if missing), named YYYYMMDDTHHMMSSZ-N[.EXT]; prints that name, the
record's id. Readers see the whole record or none of it, and it is on disk when
the id is printed. Empty input is refused (exit 1, nothing written): it is
more often a broken pipe upstream than a record.

Options:
  --key KEY        idempotency key: a retry with the same KEY prints the
                   first record's id and writes nothing. If the retry's input
                   differs from that record, quire says so on stderr (and
                   still exits 0 with the first id): a key names one record.
  --suffix .EXT    end the record's name in .EXT, e.g. .json
  --no-fsync       skip fsync: faster, but a power cut may lose the record
  --allow-empty    publish an empty record when standard input is empty

Examples:
  echo '{"text":"hi"}' | quire append comments --suffix .json
  quire append inbox --key "$MESSAGE_ID" < message.eml`,
  options: {
    ...HELP_OPTION,
    ...SUFFIX_OPTION,
    key: { type: 'string' },
    'no-fsync': { type: 'boolean' },
    'allow-empty': { type: 'boolean' },
  },
  async run(inv) {
    const dir = only(inv, 'DIR');
    const input = await startReading(process.stdin);
    if (input.empty && inv.values['allow-empty'] !== true) {
      throw new Failure(
        'standard input is empty: nothing appended (--allow-empty publishes an empty record)',
      );
    }
    const spool = await open(dir, inv, true);
    const key = str(inv, 'key');
    if (key === undefined) {
      const r = await spool.append(input.chunks);
      process.stdout.write(`${r.id}\n`);
      return EXIT.ok;
    }
    // A keyed append reads all of its input before writing anyway (it checksums it), so keep it to compare.
    const bytes = await collect(input.chunks);
    const r = await spool.append(bytes, { key });
    if (!r.created) await warnIfDifferent(spool, key, r.id, bytes);
    process.stdout.write(`${r.id}\n`);
    return EXIT.ok;
  },
};

/**
 * Reads the first chunk, so that empty input is known before anything is created; `chunks` yields all of it.
 */
async function startReading(
  stream: AsyncIterable<Buffer>,
): Promise<{ empty: boolean; chunks: AsyncIterable<Buffer> }> {
  const it = stream[Symbol.asyncIterator]();
  let first = await it.next();
  // A pipe may deliver a zero-length read before the end.
  while (!first.done && first.value.length === 0) first = await it.next();
  const head = first;
  async function* chunks(): AsyncGenerator<Buffer> {
    if (head.done) return;
    yield head.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { empty: head.done === true, chunks: chunks() };
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

/** A reused key with other content is most likely a mistake (a key reused for a new message): say so. */
async function warnIfDifferent(spool: Spool, key: string, id: string, bytes: Buffer): Promise<void> {
  const existing = await spool.get(id);
  if (existing?.equals(bytes)) return;
  const what = existing === null ? 'which has since been deleted' : 'whose content differs from this input';
  process.stderr.write(
    `quire append: warning: key ${JSON.stringify(key)} already names record ${id}, ${what}; ` +
      'nothing was written and the first id is printed\n',
  );
}
