/**
 * Every Redis name the log uses, built in this one module.
 *
 * For the prefix `hangtime` and the channel `chat`:
 *
 * | name                      | type    | holds                                                     |
 * |---------------------------|---------|-----------------------------------------------------------|
 * | `hangtime:{chat}:events`  | stream  | the events: one entry per event, field `d` = its JSON     |
 * | `hangtime:{chat}:meta`    | hash    | `gen`: the channel's generation; `trimmed`: newest id removed by retention |
 * | `hangtime:{chat}:wake`    | pub/sub | one message per append: `<gen> <id>`                       |
 * | `hangtime:{chat}:appends:0`, `…:1` | hash | recent append ids (`<id>` → `<gen> <stream id>`), two halves of the idempotency window |
 *
 * The channel name is the hash tag (`{chat}`), so a channel's keys share one Cluster slot and
 * one script can touch both. Channel names cannot contain braces (see `CHANNEL_PATTERN`), and
 * prefixes are checked here, so the tag is always the channel and nothing else.
 */

/** A prefix: what a channel name may contain, at most 64 characters. */
export const PREFIX_PATTERN = /^[A-Za-z0-9_.:@/-]{1,64}$/;

export const DEFAULT_PREFIX = 'hangtime';

/**
 * The Redis names of one channel, from {@link redisKeys}.
 *
 * @example
 * const { events, wake } = redisKeys('hangtime', 'chat'); // 'hangtime:{chat}:events', 'hangtime:{chat}:wake'
 */
export interface ChannelKeys {
  /** The stream of events. */
  readonly events: string;
  /** The hash with the generation and the newest trimmed id. */
  readonly meta: string;
  /** The pub/sub channel an append publishes to. */
  readonly wake: string;
  /** The recent append ids, in two hashes that take turns (see the APPEND script): an append
   * re-sent after a lost reply is recognised and stored once. Each expires on its own. */
  readonly appends: readonly [string, string];
}

/**
 * The Redis names of one channel: for operators, and for publishers that are not hangtime
 * (see docs/redis.md, "Publishing from other languages").
 *
 * @example
 * redisKeys('hangtime', 'chat');
 * // { events: 'hangtime:{chat}:events', meta: 'hangtime:{chat}:meta', wake: 'hangtime:{chat}:wake',
 * //   appends: ['hangtime:{chat}:appends:0', 'hangtime:{chat}:appends:1'] }
 */
export function redisKeys(prefix: string, channel: string): ChannelKeys {
  const base = `${prefix}:{${channel}}`;
  return { events: `${base}:events`, meta: `${base}:meta`, wake: `${base}:wake`, appends: [`${base}:appends:0`, `${base}:appends:1`] };
}

/**
 * The channel a wake message name belongs to, or `undefined` for a name of another prefix.
 * @example channelOfWake('hangtime', 'hangtime:{chat}:wake') // 'chat'
 */
export function channelOfWake(prefix: string, name: string): string | undefined {
  const head = `${prefix}:{`;
  const tail = '}:wake';
  if (!name.startsWith(head) || !name.endsWith(tail) || name.length <= head.length + tail.length) return undefined;
  return name.slice(head.length, name.length - tail.length);
}
