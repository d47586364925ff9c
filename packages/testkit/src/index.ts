/**
 * What the test suites of @quire/fs and quire both need, written once. Nothing here is shipped: the package is
 * private and only the packages' tests import it.
 */
export { type Exit, waitExit } from './child.js';
export { hasCommand, isRoot, requireOrSkip } from './env.js';
export { mountTmpfs, unmountQuietly } from './mounts.js';
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
