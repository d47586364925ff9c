import { scryptSync } from 'node:crypto';
import { serveTasks } from './task-pool.js';

export interface ScryptTask {
  password: string;
  salt: Uint8Array;
  n: number;
  r: number;
  p: number;
  keylen: number;
}

/** A password.ts worker: scrypt on this thread, so checks never occupy libuv's threadpool that file I/O needs. */
serveTasks<ScryptTask, Uint8Array>(({ password, salt, n, r, p, keylen }) =>
  scryptSync(password, salt, keylen, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }),
);
