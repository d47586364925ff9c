/**
 * What the test suites of @quire/fs and quire both need, written once. Nothing here is shipped: the package is
 * private and only the packages' tests import it.
 */
export { type Exit, waitExit } from './child.js';
export { hasCommand, isRoot, requireOrSkip } from './env.js';
export {
  FS_TYPES,
  type FsType,
  IMAGE_BYTES,
  LoopImage,
  mkfsCommand,
  mountOptions,
  sh,
} from './loop-image.js';
export { cannotMountImages, mountExt4Image, mountTmpfs, unmountQuietly } from './mounts.js';
export {
  type CutRunOptions,
  cannotCutPower,
  readStamped,
  Shutter,
  type StampedLine,
  StampedLog,
} from './power-cut.js';
export { prng } from './random.js';
export {
  type CachingProfile,
  HostsRig,
  RIG_SCRIPT,
  rigMissing,
  type Service,
  type SocketAnswer,
  socketRequest,
} from './rig.js';
export { tempDir } from './temp.js';
