export { cloudflare } from './handler.js';
export type { CloudflareHandler, CloudflareOptions, HangtimeFactory } from './handler.js';
export { durableObjectLog } from './do-log.js';
export type { DurableObjectLogOptions } from './do-log.js';
export { HangtimeChannel } from './channel.js';
export type {
  DurableObjectNamespaceLike,
  DurableObjectStateLike,
  DurableObjectStorageLike,
  DurableObjectStubLike,
  ExecutionContextLike,
} from './types.js';
export { ENVIRONMENT } from '../limits.js';
export type { LimitOptions } from '../limits.js';
export { PROFILES } from '../profiles.js';
export type { PlatformProfile, ProfileName } from '../profiles.js';
