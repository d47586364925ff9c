import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const fixturesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A fresh directory under the OS temp dir, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'quire-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export const isRoot = process.getuid?.() === 0;

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

/** Starts `node fixtures/<name>.js args...` with stdout/stderr piped. */
export function spawnFixture(
  name: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  return spawn(process.execPath, [path.join(fixturesDir, `${name}.js`), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Collects a child's output and resolves when it exits. */
export function waitExit(child: ChildProcess): Promise<Exit> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs a fixture to completion and fails with its stderr if it did not exit 0. */
export async function runFixture(name: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  const r = await waitExit(spawnFixture(name, args, opts));
  if (r.code !== 0) throw new Error(`fixture ${name} exited ${r.code ?? r.signal}: ${r.stderr}`);
  return r;
}
