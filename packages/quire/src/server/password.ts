import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { ScryptTask } from './password-worker.js';
import { TaskPool, TaskPoolError, WORKER_IDLE_MS } from './task-pool.js';

/** scrypt parameters: N=2^15, r=8, p=1 (OWASP's minimum for scrypt), 32 MiB of memory per check. */
const N = 1 << 15;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(
  pw: string,
  salt: Buffer,
  n: number,
  r: number,
  p: number,
  keylen: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(pw, salt, keylen, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * The admin password hash for the config (`adminPasswordHash` / QUIRE_ADMIN_PASSWORD_HASH):
 * `scrypt$N$r$p$<salt base64>$<hash base64>`. The password itself is never stored.
 */
export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string' || password.length < 8) {
    throw new Error('the admin password must have at least 8 characters');
  }
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P, KEYLEN);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** A password check refused because too many are waiting: the caller answers "try later" (429/503). */
export class LoginBusyError extends Error {
  override readonly name = 'LoginBusyError';
  readonly code = 'login-busy';
}

/**
 * Checks run one at a time on a worker thread of their own, with at most CHECKS_QUEUED waiting: each costs
 * 32 MiB and ~100 ms of a core, and on libuv's threadpool (crypto.scrypt's home) a flood of logins queued every
 * file read and fsync of the comment service behind it (measured: a comment POST answered after 60 s during
 * 400 wrong logins). A flood beyond the queue is refused at once.
 */
const CHECKS_QUEUED = 16;
const checks = new TaskPool<ScryptTask, Uint8Array>({
  file: new URL('./password-worker.js', import.meta.url),
  size: 1,
  maxQueue: CHECKS_QUEUED,
  idleMs: WORKER_IDLE_MS,
  timeoutMs: 10_000,
});

/**
 * True if `password` matches `hash` (from hashPassword). Constant-time comparison; false for a malformed hash.
 * Rejects with LoginBusyError when too many checks are waiting, and stops a check whose caller aborts.
 */
export async function verifyPassword(password: string, hash: string, signal?: AbortSignal): Promise<boolean> {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((x) => Number.isSafeInteger(x) && x > 0) || n > 1 << 20 || r > 32 || p > 16)
    return false;
  const salt = Buffer.from(parts[4] as string, 'base64');
  const want = Buffer.from(parts[5] as string, 'base64');
  if (salt.length < 8 || want.length < 16 || password.length > 1024) return false;
  let got: Uint8Array;
  try {
    got = await checks.run({ password, salt, n, r, p, keylen: want.length }, signal);
  } catch (err) {
    if (err instanceof TaskPoolError && err.code === 'task-busy') {
      throw new LoginBusyError('too many password checks are waiting; try again in a moment');
    }
    throw err;
  }
  return timingSafeEqual(got, want);
}
