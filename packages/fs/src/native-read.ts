/**
 * The native readComplete attempt: where the addon is loaded (native-publish.ts), readOnce in read.ts is one
 * call of native/read.c instead of its JS steps: open, the shared OFD lock check, fstat, read to the end and
 * close in one C function, so the async API makes one trip to libuv's pool instead of four or five. The JS
 * steps stay the protocol everywhere else (QUIRE_FS_PURE_JS=1, no addon), with the same outcomes and errors;
 * retries and `accept` stay in read.ts around either.
 */
import { type Binding, binding, systemError } from './native-publish.js';

// As native/read.h numbers them.
const SYSCALLS = ['', 'open', 'fcntl', 'fstat', 'read'];
const DATA = 0;

/** The data, or null: no file, or a writer holds a lock on it (out: [state, errno, syscall]). */
function outcome(file: string, out: Float64Array, data: Buffer | undefined): Buffer | null {
  const [state, err, syscall] = out as unknown as number[];
  if (err) throw systemError(err, SYSCALLS[syscall!] ?? 'unknown', file);
  return state === DATA ? (data as Buffer) : null;
}

/** One attempt of readComplete on this thread. */
export function nativeReadSync(file: string): Buffer | null {
  const out = new Float64Array(3);
  return outcome(file, out, (binding as Binding).readSync(file, out));
}

/** One attempt of readComplete as one job on libuv's pool. */
export function nativeRead(file: string): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const out = new Float64Array(3);
    (binding as Binding).read(file, out, (data) => {
      try {
        resolve(outcome(file, out, data));
      } catch (err) {
        reject(err);
      }
    });
  });
}
