import { createRequire } from 'node:module';

/**
 * fs-native-extensions: OFD fcntl locks on Linux (flock on macOS, LockFileEx on Windows). OFD locks belong to the
 * open file description, so they exclude other fds of this process, other threads and other processes, and they
 * vanish when the holder closes the fd or dies (fcntl(2); docs/design.md, "Why fs-native-extensions", says why
 * this backend and not fs-ext, os-lock or a lock directory).
 */
export interface NativeLocks {
  tryLock(fd: number, offset: number, length: number, opts?: { shared?: boolean }): boolean;
  waitForLock(fd: number, opts?: { shared?: boolean }): Promise<void>;
  waitForLockSync(fd: number, opts?: { shared?: boolean }): void;
  unlock(fd: number, offset?: number, length?: number): void;
}

/** The native binding, loaded once. */
export const native = createRequire(import.meta.url)('fs-native-extensions') as NativeLocks;
