import { describe } from './args.js';
import { invalidArg } from './errors.js';

/** What a file's content can be given as. Typed arrays and DataViews contribute all their bytes. */
export type Chunk = string | ArrayBufferView;
/** What the async writers take: one chunk, or chunks from a sync or async iterable, written in order. */
export type Data = Chunk | Iterable<Chunk> | AsyncIterable<Chunk>;
/** What the sync writers take: one chunk, or chunks from a sync iterable. */
export type SyncData = Chunk | Iterable<Chunk>;

/** Normalised content: one buffer, or a stream of chunks still to be drawn. */
export type Content =
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'iter'; chunks: Iterable<unknown> }
  | { kind: 'async'; chunks: AsyncIterable<unknown> };

/** One chunk as a Buffer over the same memory; ERR_INVALID_ARG for anything that is not a chunk. */
export function toBytes(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk; // already one: no new view to make
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  // All bytes of the view, not `length` elements: a Uint16Array(4) is 8 bytes.
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw invalidArg(`data chunks must be strings, Buffers, TypedArrays or DataViews, got ${describe(chunk)}`);
}

/** The caller's data, checked and normalised; an async iterable only where the async API runs. */
export function toContent(data: unknown, allowAsync: boolean): Content {
  if (typeof data === 'string' || ArrayBuffer.isView(data)) return { kind: 'bytes', bytes: toBytes(data) };
  if (typeof data === 'object' && data !== null) {
    if (Symbol.asyncIterator in data) {
      if (!allowAsync)
        throw invalidArg('an async iterable needs the async API; the sync API takes bytes or an iterable');
      return { kind: 'async', chunks: data as AsyncIterable<unknown> };
    }
    if (Symbol.iterator in data) return { kind: 'iter', chunks: data as Iterable<unknown> };
  }
  throw invalidArg(
    `data must be a string, Buffer, TypedArray, DataView or an (async) iterable of them, got ${describe(data)}`,
  );
}
