export { Coalescer } from './coalescer.js';
export type { Chunk, Data, SyncData } from './data.js';
export {
  listNames,
  type MakeDirOptions,
  makeDir,
  makeDirSync,
  pathExists,
  pathExistsSync,
  syncDir,
  syncDirSync,
} from './dir.js';
export { isQuireError, QuireError, type QuireErrorCode } from './errors.js';
export { isLocalFilesystem } from './local-fs.js';
export { acquireLock, acquireLockSync, type Lock } from './lock.js';
export { type LockFile, type LockFileOptions, openLockFile } from './lock-file.js';
export type { LockOptions, LockSyncOptions } from './lock-options.js';
export { createMarker, type MarkerOptions } from './marker.js';
export {
  compareNames,
  formatName,
  formatStamp,
  isRecordName,
  parseName,
  type RecordName,
  type TimeSource,
} from './names.js';
export { implementation, nativeBinary } from './native-publish.js';
export {
  type CreateUniqueOptions,
  createExclusive,
  createExclusiveSync,
  createUnique,
  createUniqueSync,
  replaceFile,
  replaceFileSync,
  type WriteOptions,
  type WriteResult,
} from './publish.js';
export { type ReadOptions, readComplete, readCompleteSync } from './read.js';
export { type RemoveOptions, removeFile } from './remove.js';
export { type AppendOptions, type BatchAppend, openSpool, Spool, type SpoolOptions } from './spool.js';
export type { CheckIssue, CheckOptions, CheckReport } from './spool-check.js';
export type { AppendResult } from './spool-keys.js';
export type { ListOptions } from './spool-list.js';
export type { WatchOptions } from './spool-watch.js';
export {
  SETTLE_COARSE_MS,
  SETTLE_MS,
  type Stamp,
  sameStamp,
  settled,
  stampAsync,
  stampOf,
  unchanged,
  unchangedAsync,
} from './stamp.js';
export { type SweepOptions, type SweptTemp, sweepTemps, sweepTempsSync } from './sweep.js';
export { hostId, isProcessAlive, isTempName } from './temp.js';
export { isTransientError, READ_RETRY } from './transient.js';
export { lockPathFor, withLock, withLockSync } from './with-lock.js';
