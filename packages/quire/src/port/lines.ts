import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { MAX_RECORD_CHARS, PortError, type ReadMeter } from './source.js';

/**
 * The lines of a (gzip'd, with `gzip`) text file with their numbers, streamed: a line longer than
 * MAX_RECORD_CHARS stops with PortError 'malformed' instead of growing in memory, as does a broken gzip stream.
 */
export async function* readLines(
  file: string,
  gzip = false,
  meter?: ReadMeter,
): AsyncGenerator<{ line: string; n: number }> {
  const raw = createReadStream(file, { highWaterMark: 64 * 1024 });
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  stream.setEncoding('utf8');
  let pending = '';
  let n = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      pending += chunk;
      if (meter !== undefined) meter.bytes = raw.bytesRead;
      let start = 0;
      for (let at = pending.indexOf('\n'); at >= 0; at = pending.indexOf('\n', start)) {
        n++;
        yield { line: pending.slice(start, at), n };
        start = at + 1;
      }
      pending = pending.slice(start);
      if (pending.length > MAX_RECORD_CHARS) {
        throw new PortError('malformed', `line ${n + 1}: longer than ${MAX_RECORD_CHARS} characters`);
      }
    }
  } catch (err) {
    if (err instanceof PortError) throw err;
    const code = (err as { code?: string }).code ?? '';
    if (gzip && code.startsWith('Z_')) {
      throw new PortError('malformed', `line ${n + 1}: the gzip stream is broken (${code})`);
    }
    throw err;
  } finally {
    raw.destroy();
  }
  if (pending.length > 0) yield { line: pending, n: n + 1 };
}
