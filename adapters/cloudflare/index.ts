export { cloudflare } from './handler.js';
export type { CloudflareHandler, CloudflareOptions, HangtimeFactory } from './handler.js';
export { durableObjectLog } from './do-log.js';
export type { DurableObjectLogOptions } from './do-log.js';
export { HangtimeChannel } from './channel.js';
export type { DurableObjectNamespaceLike, DurableObjectStateLike, DurableObjectStorageLike, DurableObjectStubLike, ExecutionContextLike } from './types.js';
export { ENVIRONMENT, PROFILES } from '../profiles.js';
export type { LimitOptions, PlatformProfile, ProfileName } from '../profiles.js';
