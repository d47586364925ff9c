import path from 'node:path';
import { validatePath } from './args.js';
import { durableOption } from './dir.js';
import { errnoCode } from './errors.js';
import { call, type Steps, wrapAsync } from './steps.js';

/** Options of removeFile. */
export interface RemoveOptions {
  /** fsync the directory after the unlink, so the removal survives a power cut (default true). */
  durable?: boolean;
}

function* removeSteps(file: string, durable: boolean): Steps<boolean> {
  try {
    yield* call({ op: 'unlink', path: file });
  } catch (err) {
    // Someone else removed it first (or it never was): not an error, and nothing of ours to make durable.
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  if (durable) yield* call({ op: 'syncDir', dir: path.dirname(file) });
  return true;
}

/**
 * Removes the file `file` (unlink(2)). Resolves to true if this call removed it, false if there was none: of
 * any number of concurrent calls for one name, at most one gets true. With `durable` (the default) the
 * directory is fsynced after the unlink, so the removal survives a power cut. Never removes a directory.
 */
export function removeFile(file: string, opts?: RemoveOptions): Promise<boolean> {
  return wrapAsync('removeFile', () => {
    const durable = durableOption('removeFile', opts);
    return removeSteps(path.resolve(validatePath(file, 'file', 'removeFile')), durable);
  });
}
