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
    return { id: m.id, error: { message: e.message, code: e.code, errno: e.errno } };
  }
}

parentPort?.on('message', (m: LockCall) => parentPort?.postMessage(run(m)));
