/** The six publishing calls as one table, for tests that check a behaviour over every writer it applies to. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  createExclusive,
  createExclusiveSync,
  createUnique,
  createUniqueSync,
  hostId,
  implementation,
  QuireError,
  replaceFile,
  replaceFileSync,
  type WriteResult,
} from '@quire/fs';

export const T = Date.UTC(2026, 10, 26, 10, 15, 0, 999); // 2026-11-26T10:15:00.999Z
export const STAMP = '20261126T101500Z';

/**
 * Whether writers here publish from an unnamed O_TMPFILE inode (the native path on a filesystem that has it,
 * as the OS temp dir's ext4 or tmpfs does), so no temp name is ever made; else from a named temp.
 */
export const nameless = implementation === 'native' && process.env.QUIRE_FS_NO_TMPFILE !== '1';

export const list = (dir: string) => fs.readdirSync(dir).sort();
export const isCode = (code: string) => (err: unknown) => err instanceof QuireError && err.code === code;

/** One of the six publishing calls, given a directory to work in. Async ones return the API's own promise. */
export interface Writer {
  name: string;
  sync: boolean;
  /** Calls the API on `dir` (unique) or `dir/file` (the others); returns the published path. */
  call(dir: string, data: any, opts?: any): string | Promise<string>;
}

export const file = (dir: string) => path.join(dir, 'file');
export const writers: Writer[] = [
  { name: 'createUniqueSync', sync: true, call: (d, data, o) => createUniqueSync(d, data, o).path },
  { name: 'createUnique', sync: false, call: (d, data, o) => createUnique(d, data, o).then((r) => r.path) },
  {
    name: 'createExclusiveSync',
    sync: true,
    call: (d, data, o) => published(createExclusiveSync(file(d), data, o)),
  },
  {
    name: 'createExclusive',
    sync: false,
    call: (d, data, o) => createExclusive(file(d), data, o).then(published),
  },
  { name: 'replaceFileSync', sync: true, call: (d, data, o) => published(replaceFileSync(file(d), data, o)) },
  { name: 'replaceFile', sync: false, call: (d, data, o) => replaceFile(file(d), data, o).then(published) },
];

/** The path createExclusive and replaceFile resolve to, checked against the name they resolve to as well. */
function published(r: WriteResult): string {
  assert.equal(path.basename(r.path), r.name);
  assert.equal(r.attempts, 1);
  return r.path;
}
export const syncWriters = writers.filter((w) => w.sync);
export const asyncWriters = writers.filter((w) => !w.sync);

/**
 * The error a writer fails with: a sync writer must throw, an async one must reject (never throw synchronously).
 */
export async function failure(w: Writer, dir: string, data: unknown, opts?: unknown): Promise<unknown> {
  let result: string | Promise<string>;
  try {
    result = w.call(dir, data, opts);
  } catch (err) {
    if (w.sync) return err;
    assert.fail(`${w.name} threw synchronously instead of rejecting: ${String(err)}`);
  }
  assert.ok(!w.sync, `${w.name} did not throw`);
  try {
    await result;
  } catch (err) {
    return err;
  }
  assert.fail(`${w.name} resolved`);
}

export async function expectCode(w: Writer, code: string, dir: string, data: unknown, opts?: unknown) {
  const err = await failure(w, dir, data, opts);
  assert.ok(err instanceof QuireError, `${w.name}: not a QuireError: ${String(err)}`);
  assert.equal(err.code, code, `${w.name}: ${err.message}`);
  return err;
}

/** A name of the form this process's temps have, for writer `pid`: the sweep judges it by that pid. */
export const ownTemp = (pid: number): string => `.quire-${pid}-0123456789ab+${hostId()}`;
