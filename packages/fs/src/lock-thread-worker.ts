/**
 * The thread of lock-thread.ts: carries out fcntl lock calls for the threads that must not block on them. It
 * opens no fd (Node closes a worker's own fds when it exits, which would end locks held on them).
 */
import { parentPort } from 'node:worker_threads';
import type { LockCall, LockReply } from './lock-thread.js';
import { native } from './native.js';

function run(m: LockCall): LockReply {
  try {
    if (m.op === 'try') {
      return { id: m.id, ok: native.tryLock(m.fd, m.offset, m.length, { shared: m.shared }) };
    }
    native.unlock(m.fd, m.offset, m.length);
    return { id: m.id, ok: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // The binding names errnos libuv has no name for (ESTALE) only in `code`: "Unknown system error -116". The
    // number goes along, so that errnoCode (errors.ts) names it on the other side and ESTALE is retried.
    const unnamed = /^Unknown system error (-\d+)$/.exec(e.code ?? '');
    const errno = typeof e.errno === 'number' ? e.errno : unnamed ? Number(unnamed[1]) : undefined;
    return { id: m.id, error: { message: e.message, code: e.code, errno } };
  }
}

parentPort?.on('message', (m: LockCall) => parentPort?.postMessage(run(m)));
