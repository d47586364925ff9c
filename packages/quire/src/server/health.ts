import fs from 'node:fs';
import path from 'node:path';
import { replaceFile } from '@quire/fs';
import type { ServerContext } from './context.js';
import { type StorageFault, StorageHealth, storageFault } from './storage-faults.js';

const healths = new WeakMap<ServerContext, StorageHealth>();

/**
 * The storage health of a server: what its requests' writes met, and a probe that really writes (a small file
 * DATA/.health, replaced, not fsynced: a stat or an access check says nothing of a full disk).
 */
export function storageHealth(ctx: ServerContext): StorageHealth {
  let health = healths.get(ctx);
  if (health === undefined) {
    const file = path.join(ctx.store.dataDir, '.health');
    const threads = ctx.store.threadsDir;
    health = new StorageHealth(async () => {
      // The threads directory too: the store refuses to write when it vanished (and does not re-create it).
      await fs.promises.access(threads, fs.constants.W_OK);
      await replaceFile(file, `${new Date(ctx.now()).toISOString()}\n`, { durable: false });
    });
    healths.set(ctx, health);
  }
  return health;
}

/**
 * The storage fault an error is: a full or failing disk (storageFault), or the store's refusal to write into a
 * data directory that vanished (`data-dir-missing`: it is not re-created without its secret and settings).
 */
export function faultOf(err: unknown): StorageFault | undefined {
  if ((err as { code?: unknown } | null)?.code === 'data-dir-missing') {
    return {
      status: 503,
      code: 'storage-unavailable',
      detail: 'the server’s data directory is missing',
      retryAfterSeconds: 30,
    };
  }
  return storageFault(err);
}
