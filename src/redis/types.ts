import type { Cluster, Redis } from 'ioredis';

/**
 * Types shared by the modules of the Redis log. They live here, importing nothing of the log,
 * so that scripts, watcher and subscriber depend on this file and not on each other (no import
 * cycles inside `src/redis`).
 */

/** A client the log can send commands to: one Redis connection or a Cluster. */
export type RedisClient = Redis | Cluster;

/** What a check, a read or an append saw of a channel. */
export type ChannelState = { readonly exists: false } | { readonly exists: true; readonly generation: string; readonly last: string };
