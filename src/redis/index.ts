/**
 * `hangtime/redis`: the Redis Streams event log. See docs/redis.md.
 *
 * @example
 * import { redisLog } from 'hangtime/redis';
 * const log = redisLog({ url: 'redis://127.0.0.1:6379' });
 */
export { redisLog } from './redis-log.js';
export type { AppendOptions, RedisLog } from './redis-log.js';
export type { RedisLogOptions } from './options.js';
export { redisKeys } from './keys.js';
export type { ChannelKeys } from './keys.js';
export { AppendUncertainError, isAppendUncertainError } from './errors.js';
