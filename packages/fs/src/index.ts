export type { Chunk, Data, SyncData } from './data.js';
export { isQuireError, QuireError, type QuireErrorCode } from './errors.js';
export {
  acquireLock,
  acquireLockSync,
  type Lock,
  type LockFile,
  type LockFileOptions,
  type LockOptions,
  type LockSyncOptions,
  lockPathFor,
  openLockFile,
  withLock,
  withLockSync,
} from './lock.js';
export {
  compareNames,
  formatName,
  formatStamp,
  isRecordName,
  parseName,
  type RecordName,
  type TimeSource,
} from './names.js';
export {
  type CreateUniqueOptions,
  type CreateUniqueResult,
  createExclusive,
  createExclusiveSync,
  createUnique,
  createUniqueSync,
  replaceFile,
  replaceFileSync,
  type WriteOptions,
} from './publish.js';
export { readComplete, readCompleteSync } from './read.js';
export {
  type AppendOptions,
  type AppendResult,
  type CheckIssue,
  type CheckOptions,
  type CheckReport,
  type ListOptions,
  openSpool,
  Spool,
  type SpoolOptions,
  type WatchOptions,
} from './spool.js';
export { type SweepOptions, type SweptTemp, sweepTemps, sweepTempsSync } from './sweep.js';
export { isTempName } from './temp.js';
