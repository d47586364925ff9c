import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export const isRoot = process.getuid?.() === 0;

/** Whether `cmd` is on the PATH. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Skips the test, printing why, when a precondition (root, a system tool) is missing; in CI (CI=true) a missing
 * precondition fails instead, because .ci/run installs everything and runs as root, so a skip there hides a bug.
 */
export function requireOrSkip(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`cannot run in CI: ${reason}`);
  console.log(`# SKIP ${t.name}: ${reason}`);
  t.skip(reason);
  return false;
}
