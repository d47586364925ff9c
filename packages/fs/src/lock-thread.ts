import { Worker } from 'node:worker_threads';

/** One fcntl lock call for the lock thread: a try (F_OFD_SETLK) or an unlock of a byte range. */
type LockRequest =
  | { op: 'try'; fd: number; offset: number; length: number; shared: boolean }
  | { op: 'unlock'; fd: number; offset: number; length: number };

/** A LockRequest as sent, numbered for its reply. */
export type LockCall = LockRequest & { id: number };

/** Its answer: whether the try was granted, or the error the call threw (errno fields kept). */
export type LockReply =
  | { id: number; ok: boolean; error?: undefined }
  | {
      id: number;
      ok?: undefined;
      error: { message: string; code?: string | undefined; errno?: number | undefined };
    };

type Pending = { resolve: (ok: boolean) => void; reject: (err: Error) => void };

let worker: Worker | undefined;
const pending = new Map<number, Pending>();
let ids = 0;

function failAll(err: Error): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
}

function thread(): Worker {
  if (worker !== undefined) return worker;
  // No flags of the parent's (`node --input-type=module -e` would refuse to start a worker from a file).
  const w = new Worker(new URL('./lock-thread-worker.js', import.meta.url), { execArgv: [] });
  w.on('message', (r: LockReply) => {
    const p = pending.get(r.id);
    if (p === undefined) return;
    pending.delete(r.id);
    if (pending.size === 0) w.unref();
    if (r.error === undefined) p.resolve(r.ok);
    else p.reject(Object.assign(new Error(r.error.message), { code: r.error.code, errno: r.error.errno }));
  });
  const gone = (err: Error) => {
    if (worker === w) worker = undefined;
    failAll(err);
  };
  w.on('error', gone);
  w.on('exit', (code) => gone(new Error(`the lock thread exited (${code})`)));
  w.unref();
  worker = w;
  return w;
}

function send(call: LockRequest): Promise<boolean> {
  const w = thread();
  const id = ++ids;
  return new Promise<boolean>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    // Held only while a call is out: an idle lock thread never keeps the process alive.
    if (pending.size === 1) w.ref();
    const numbered: LockCall = { ...call, id };
    w.postMessage(numbered);
  });
}

/**
 * fcntl(F_OFD_SETLK) on `fd` on the lock thread, not the calling one: true if granted. A lock call on a network
 * filesystem (NFS, GlusterFS) is a round trip to the server, which must never stall an event loop; an OFD lock
 * belongs to the open file description, not to the thread that asked, so any thread may make the call. Errors
 * are those native.tryLock throws (code and errno kept).
 */
export function tryLockOffThread(
  fd: number,
  offset: number,
  length: number,
  shared: boolean,
): Promise<boolean> {
  return send({ op: 'try', fd, offset, length, shared });
}

/** Unlocks a byte range of `fd` on the lock thread (as tryLockOffThread). */
export async function unlockOffThread(fd: number, offset: number, length: number): Promise<void> {
  await send({ op: 'unlock', fd, offset, length });
}
