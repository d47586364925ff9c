/**
 * quire: a self-hosted blog comment service whose comments are plain files (docs/comment-service.md).
 */
export {
  ConfigError,
  configFromEnv,
  DEFAULT_CONFIG,
  DEFAULT_TRACKING_PARAMS,
  ENV_VARS,
  type LimitsConfig,
  type QuireConfig,
  type QuireConfigInput,
  type RateLimit,
  type RateLimitsConfig,
  readConfigFile,
  resolveConfig,
  type SpamConfig,
  type UriConfig,
} from './config.js';
export { Importer, type ImportOptions } from './port/importer.js';
export type { SourceItem } from './port/source.js';
export { buildApp, type LogOptions } from './server/app.js';
export { ServerContext } from './server/context.js';
export { countLinks, renderMarkdown, renderPlain } from './server/markdown.js';
export { hashPassword, verifyPassword } from './server/password.js';
export { type Problem, problemType } from './server/problem.js';
export {
  loadConfig,
  type RunningServer,
  type StartOptions,
  startServer,
} from './server/start.js';
export type { AdminComment, PublicComment } from './server/views.js';
export {
  type CommentRecord,
  type CommentStatus,
  formatCommentId,
  parseCommentId,
  type ThreadMeta,
  textHashOf,
  tombstone,
} from './store/records.js';
export { CommentStore, type StoredComment, StoreError, StoreUnavailableError } from './store/store.js';
export { normaliseUri, THREAD_ID, threadIdOf, UriError } from './store/uri.js';
