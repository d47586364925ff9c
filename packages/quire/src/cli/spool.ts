import fs from 'node:fs';
import path from 'node:path';
import { isQuireError, openSpool, type Spool } from '@quire/fs';
import { str } from './args.js';
import { Failure, type Invocation } from './command.js';

/** `--suffix`, which every spool command takes. */
export const SUFFIX_OPTION = { suffix: { type: 'string' } } as const;
export const SUFFIX_HELP = '  --suffix .EXT    only records whose name ends in .EXT';

/** Opens the spool DIR; only append creates it (with `create`), and says so when it cannot. */
export async function open(dir: string, inv: Invocation, create = false): Promise<Spool> {
  const suffix = str(inv, 'suffix');
  try {
    return await openSpool(dir, {
      create,
      ...(suffix === undefined ? {} : { suffix }),
      ...(inv.values['no-fsync'] === true ? { durable: false } : {}),
    });
  } catch (err) {
    // mkdir -p says EEXIST when DIR is a file.
    if (isQuireError(err, 'ENOTDIR') || isQuireError(err, 'EEXIST'))
      throw new Failure(`${dir}: not a directory`);
    if (!isQuireError(err)) throw err;
    // Creating DIR is what append does when it is missing, so "no such directory" would mislead there.
    if (create) {
      const why = whyNotCreated(dir, err.code);
      if (why !== undefined) throw new Failure(`cannot create directory ${dir}: ${why}`);
    }
    if (err.code === 'ENOENT') throw new Failure(`${dir}: no such directory`);
    throw err;
  }
}

/** Why mkdir -p of `dir` failed with `code`, in words; undefined for a code not explained here. */
function whyNotCreated(dir: string, code: string): string | undefined {
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  if (code === 'EROFS') return 'read-only file system (EROFS)';
  if (code !== 'ENOENT') return undefined;
  // mkdir -p made every missing parent, so an ENOENT comes from a file system that takes no new entries (/proc).
  let existing = path.dirname(path.resolve(dir));
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  return `${existing} does not take new directories (mkdir failed with ENOENT)`;
}

export function printIds(ids: readonly string[]): void {
  process.stdout.write(ids.map((id) => `${id}\n`).join(''));
}

/** Calls `handler` on SIGINT, SIGTERM and SIGHUP, instead of dying, until the returned function is called. */
export function trapStopSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
