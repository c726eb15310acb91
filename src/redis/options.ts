import { Redis, type Cluster } from 'ioredis';
import { DEFAULT_MAX_EVENT_BYTES } from '../log.js';
import { assertOptionalFunction, assertOptions, assertPositiveInteger, assertPositiveNumber, show } from '../options.js';
import { DEFAULT_PREFIX, PREFIX_PATTERN } from './keys.js';
import type { RedisClient } from './types.js';

/**
 * Options of `redisLog()`: where Redis is, the key prefix, retention. See docs/redis.md.
 *
 * @example
 * const options: RedisLogOptions = { url: 'redis://127.0.0.1:6379', maxEventsPerChannel: 10_000, maxAgeMs: 86_400_000 };
 */
export interface RedisLogOptions {
  /** An ioredis client or Cluster you own. The log sends its commands on it and never closes it. */
  readonly client?: Redis | Cluster;
  /** Or a Redis URL (`redis://` or `rediss://`): the log opens its own connection on first use
   * and closes it in `close()`. Exactly one of `client` and `url`. */
  readonly url?: string;
  /** First part of every key. Default `'hangtime'`. Never use ioredis' `keyPrefix` instead. */
  readonly prefix?: string;
  /** Events kept per channel; older ones are trimmed. Default `1000`. */
  readonly maxEventsPerChannel?: number;
  /** Events older than this (by their Redis time) are trimmed. Default `Infinity` (no age limit). */
  readonly maxAgeMs?: number;
  /** `'approximate'` (default) lets a channel overshoot its limits by 1/16 and trims the excess at
   * once; `'exact'` trims on every append. Readers behind trimmed events get a gap either way. */
  readonly trim?: 'approximate' | 'exact';
  /** Largest event, in bytes of JSON. Default `262_144` (256 KiB). */
  readonly maxEventBytes?: number;
  /** Longest any Redis command may take before its promise rejects (for an append: all its
   * attempts together). Default `5_000`. */
  readonly commandTimeoutMs?: number;
  /** `'replicated'` (default): when a channel's master has replicas online, an append resolves
   * only once one of them has the event (`WAIT 1`), so a failover cannot lose it. `'leader'`:
   * an append resolves once the master has it, a little sooner; a failover can lose the newest
   * acknowledged events. See docs/redis.md, "Durability". */
  readonly durability?: 'replicated' | 'leader';
  /** With `durability: 'replicated'`, how long an append waits for a replica before it rejects
   * with an `AppendUncertainError`. Below `commandTimeoutMs`. Default `1_000`. */
  readonly replicationTimeoutMs?: number;
  /** How long an append id is remembered: an append sent again with the same id within this
   * window (a retry, or a command the client re-sent after a lost reply) is stored once.
   * Default `60_000`. */
  readonly idempotencyWindowMs?: number;
  /** How long the generation of a channel without events lives when only readers touched it
   * (`start()` must tie even an empty channel's position to a generation, so that a loss of
   * history is noticed later). Each read pushes it back; the first append makes it permanent.
   * A reader that comes back after it expired gets a 410 (`reset`). Default `86_400_000` (a day). */
  readonly emptyChannelTtlMs?: number;
  /** `CLIENT SETNAME` of the connections the log opens (the pub/sub one gets `-sub`). Default `'hangtime'`. */
  readonly connectionName?: string;
  /** How polls wait for events. `'shared'`: one pub/sub connection beside the command
   * connection carries the wake-ups of every poll the process holds (many polls per process).
   * `'blocking'`: a blocking `XREAD` on the command connection, one Redis connection in all, for
   * a process that holds one poll at a time (a second poll held at once waits the shared way).
   * `'auto'` (default): blocking while the process has only ever held one poll at a time (always
   * on platforms whose adapter says one request per instance: AWS Lambda, Netlify), shared for
   * good from the first time it holds two. See docs/redis.md, "Waiting modes". */
  readonly waiting?: 'auto' | 'blocking' | 'shared';
  /** Receives errors no caller is waiting for (connection loss, a failed background check,
   * an entry that is not a hangtime event). Never `console`. */
  readonly onError?: (error: unknown) => void;
}

export interface ResolvedOptions {
  readonly client: RedisClient;
  /** Whether the log opened the client itself (and so closes it). */
  readonly ownsClient: boolean;
  readonly prefix: string;
  readonly retention: readonly [maxLen: number, slackLen: number, maxAgeMs: number, slackMs: number];
  readonly maxEventBytes: number;
  readonly commandTimeoutMs: number;
  readonly durability: 'replicated' | 'leader';
  readonly replicationTimeoutMs: number;
  readonly idempotencyWindowMs: number;
  readonly emptyChannelTtlMs: number;
  readonly connectionName: string;
  readonly waiting: 'auto' | 'blocking' | 'shared';
  readonly onError: (error: unknown) => void;
}

const OPTION_NAMES = [
  'client',
  'url',
  'prefix',
  'maxEventsPerChannel',
  'maxAgeMs',
  'trim',
  'maxEventBytes',
  'commandTimeoutMs',
  'durability',
  'replicationTimeoutMs',
  'idempotencyWindowMs',
  'emptyChannelTtlMs',
  'connectionName',
  'waiting',
  'onError',
];

/** Validate the options (precise `TypeError`s) and open nothing yet: the URL client connects lazily. */
export function resolveOptions(options: RedisLogOptions): ResolvedOptions {
  assertOptions(options, OPTION_NAMES, 'redisLog()');
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new TypeError(`Expected \`prefix\` to be 1 to 64 characters of A-Z a-z 0-9 _ - . : @ /, got ${show(prefix)}`);
  }
  const maxLen = assertPositiveInteger(options.maxEventsPerChannel ?? 1000, 'maxEventsPerChannel');
  const maxAgeMs = assertPositiveNumber(options.maxAgeMs ?? Infinity, 'maxAgeMs');
  const trim = options.trim ?? 'approximate';
  if (trim !== 'approximate' && trim !== 'exact') {
    throw new TypeError(`Expected \`trim\` to be 'approximate' or 'exact', got ${show(trim)}`);
  }
  const maxEventBytes = assertPositiveInteger(options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES, 'maxEventBytes');
  const commandTimeoutMs = assertPositiveNumber(options.commandTimeoutMs ?? 5_000, 'commandTimeoutMs');
  const durability = options.durability ?? 'replicated';
  if (durability !== 'replicated' && durability !== 'leader') {
    throw new TypeError(`Expected \`durability\` to be 'replicated' or 'leader', got ${show(durability)}`);
  }
  // By default at most half the command timeout, so that a WAIT that runs out still leaves the
  // append time to say so (an AppendUncertainError with the position) before its own timeout.
  const replicationTimeoutMs =
    options.replicationTimeoutMs === undefined
      ? Math.max(1, Math.min(1_000, Math.floor(commandTimeoutMs / 2)))
      : assertPositiveInteger(options.replicationTimeoutMs, 'replicationTimeoutMs');
  if (options.replicationTimeoutMs !== undefined && replicationTimeoutMs >= commandTimeoutMs) {
    throw new TypeError(
      `Expected \`replicationTimeoutMs\` to be below \`commandTimeoutMs\` (${commandTimeoutMs}), got ${replicationTimeoutMs}`,
    );
  }
  const idempotencyWindowMs = assertPositiveInteger(options.idempotencyWindowMs ?? 60_000, 'idempotencyWindowMs');
  const emptyChannelTtlMs = assertPositiveInteger(options.emptyChannelTtlMs ?? 86_400_000, 'emptyChannelTtlMs');
  const connectionName = options.connectionName ?? 'hangtime';
  if (typeof connectionName !== 'string' || !/^[A-Za-z0-9_.:-]{1,60}$/.test(connectionName)) {
    throw new TypeError(`Expected \`connectionName\` to be 1 to 60 characters of A-Z a-z 0-9 _ - . :, got ${show(connectionName)}`);
  }
  const waiting = options.waiting ?? 'auto';
  if (waiting !== 'auto' && waiting !== 'blocking' && waiting !== 'shared') {
    throw new TypeError(`Expected \`waiting\` to be 'auto', 'blocking' or 'shared', got ${show(waiting)}`);
  }
  assertOptionalFunction(options.onError, 'onError');
  const onError = options.onError ?? (() => {});

  const approximate = trim === 'approximate';
  const ageMs = maxAgeMs === Infinity ? 0 : Math.ceil(maxAgeMs);
  const retention = [maxLen, approximate ? Math.floor(maxLen / 16) : 0, ageMs, approximate ? Math.floor(ageMs / 16) : 0] as const;
  const common = {
    prefix,
    retention,
    maxEventBytes,
    commandTimeoutMs,
    durability,
    replicationTimeoutMs,
    idempotencyWindowMs,
    emptyChannelTtlMs,
    connectionName,
    waiting,
    onError,
  };

  if ((options.client === undefined) === (options.url === undefined)) {
    throw new TypeError('Expected exactly one of `client` (an ioredis client or Cluster) and `url` (a Redis URL)');
  }
  if (options.client !== undefined) return { ...common, client: checkClient(options.client), ownsClient: false };
  const url = options.url;
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new TypeError(`Expected \`url\` to be a redis:// or rediss:// URL, got ${show(url)}`);
  }
  const client = new Redis(url, {
    connectionName,
    lazyConnect: true,
    // A command in flight when the connection broke is sent again after reconnecting (the
    // ioredis default): appends carry an id, so a second run stores nothing, and the Redis
    // history they were built for, so a second run on a Redis that lost its data (and the id's
    // record) stores nothing either (see histories.ts). With `false`, ioredis neither sends nor
    // fails such a command (checked on ioredis 5 and 6): it would only end at commandTimeoutMs.
    autoResendUnfulfilledCommands: true,
    // Fail queued commands after one reconnection attempt instead of twenty: a poll must
    // answer within its budget, and the next poll retries anyway.
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
  });
  client.on('error', onError);
  return { ...common, client, ownsClient: true };
}

function checkClient(client: unknown): RedisClient {
  const candidate = client as Partial<Redis> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.evalsha !== 'function' ||
    typeof candidate.duplicate !== 'function' ||
    typeof candidate.isCluster !== 'boolean'
  ) {
    throw new TypeError(`Expected \`client\` to be an ioredis client or Cluster, got ${show(client)}`);
  }
  const redis = client as RedisClient;
  const keyPrefix = redis.isCluster
    ? ((redis as Cluster).options.keyPrefix ?? (redis as Cluster).options.redisOptions?.keyPrefix)
    : (redis as Redis).options.keyPrefix;
  if (keyPrefix) {
    // ioredis prefixes keys but not pub/sub names, and publishers in other languages would
    // have to know both prefixes: one documented prefix is simpler.
    throw new TypeError(
      `Expected \`client\` without ioredis' \`keyPrefix\` (got ${show(keyPrefix)}): use the \`prefix\` option of redisLog()`,
    );
  }
  return redis;
}
