export { Coalescer } from './coalescer.js';
export { listNames, makeDir, makeDirSync, pathExists, pathExistsSync, syncDir, syncDirSync, } from './dir.js';
export { isQuireError, QuireError } from './errors.js';
export { acquireLock, acquireLockSync } from './lock.js';
export { openLockFile } from './lock-file.js';
export { createMarker } from './marker.js';
export { compareNames, formatName, formatStamp, isRecordName, parseName, } from './names.js';
export { implementation } from './native-publish.js';
export { createExclusive, createExclusiveSync, createUnique, createUniqueSync, replaceFile, replaceFileSync, } from './publish.js';
export { readComplete, readCompleteSync } from './read.js';
export { openSpool, Spool } from './spool.js';
export { SETTLE_COARSE_MS, SETTLE_MS, settled, stampOf, unchanged } from './stamp.js';
export { sweepTemps, sweepTempsSync } from './sweep.js';
export { hostId, isTempName } from './temp.js';
export { isTransientError, READ_RETRY } from './transient.js';
export { lockPathFor, withLock, withLockSync } from './with-lock.js';
//# sourceMappingURL=index.js.map