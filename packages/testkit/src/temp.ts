import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/**
 * A fresh directory under the OS temp dir, removed when the test ends. Removal is retried a few times: a store's
 * derived data (the recent-comments index) is written just after the call that caused it returns, so a file may
 * appear while the directory is being removed (ENOTEMPTY).
 */
export function tempDir(t: TestContext, prefix = 'quire-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 }));
  return dir;
}
