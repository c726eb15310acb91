import { assertChannel } from '../../src/channels.js';
import { AppendUncertainError } from '../../src/errors.js';
import {
  DEFAULT_MAX_EVENT_BYTES,
  START,
  appendIdOption,
  serializeEventData,
  type EventLog,
  type ReadResult,
  type StartFrom,
  type WaitSink,
  type WaitTarget,
} from '../../src/log.js';
import { assertKnownOptions, assertPositiveInteger, assertPositiveNumber, assertStartFrom } from '../../src/options.js';
import type { SignalLike } from '../../src/signal.js';
import { POSITION_PATTERN, type ChannelCall, type Retention } from './channel.js';
import type { DurableObjectNamespaceLike, DurableObjectStubLike } from './types.js';

export interface DurableObjectLogOptions {
  /** The Durable Object namespace binding of the `HangtimeChannel` class (`env.HANGTIME`). Required. */
  readonly namespace: DurableObjectNamespaceLike;
  /** Events kept per channel; older ones are dropped. Default `1000`. */
  readonly maxEventsPerChannel?: number;
  /** Events older than this are dropped. Default `Infinity` (no age limit), as in the Redis log. */
  readonly maxAgeMs?: number;
  /** Largest event, in bytes of JSON. Default `262_144` (256 KiB; a SQLite row takes up to 2 MB). */
  readonly maxEventBytes?: number;
  /** How long an append id is remembered (`append(channel, data, { id })`). Default `60_000`. */
  readonly idempotencyWindowMs?: number;
}

const OPTION_NAMES = ['namespace', 'maxEventsPerChannel', 'maxAgeMs', 'maxEventBytes', 'idempotencyWindowMs'] as const;

/**
 * The event log on Durable Objects: each channel is one `HangtimeChannel` object (named by the
 * channel) that stores its events in SQLite and holds the polls waiting for them; one append
 * wakes them all. Create one per request from the request's `env` (see `cloudflare()`): its
 * calls then belong to the request that makes them, as Workers require.
 *
 * @example
 * import { cloudflare, durableObjectLog } from 'hangtime/cloudflare';
 * import { createHangtime } from 'hangtime';
 *
 * export default cloudflare((env) => createHangtime({ log: durableObjectLog({ namespace: env.HANGTIME }) }));
 * export { HangtimeChannel } from 'hangtime/cloudflare';
 */
export function durableObjectLog(options: DurableObjectLogOptions): EventLog {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected durableObjectLog() options to be an object, got ${options === null ? 'null' : typeof options}`);
  }
  assertKnownOptions(options, OPTION_NAMES, 'durableObjectLog()');
  const { namespace } = options;
  if (
    typeof namespace !== 'object' ||
    namespace === null ||
    typeof namespace.idFromName !== 'function' ||
    typeof namespace.get !== 'function'
  ) {
    throw new TypeError('Expected `namespace` to be a Durable Object namespace binding (env.HANGTIME) of the HangtimeChannel class');
  }
  const maxEventBytes = assertPositiveInteger(options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES, 'maxEventBytes');
  if (maxEventBytes > 2_000_000)
    throw new TypeError(`Expected \`maxEventBytes\` to be at most 2000000 (a SQLite row in a Durable Object), got ${maxEventBytes}`);
  const maxAgeMs = assertPositiveNumber(options.maxAgeMs ?? Infinity, 'maxAgeMs');
  const retention: Retention = {
    maxEvents: assertPositiveInteger(options.maxEventsPerChannel ?? 1000, 'maxEventsPerChannel'),
    maxAgeMs: maxAgeMs === Infinity ? null : maxAgeMs,
    idempotencyWindowMs: assertPositiveNumber(options.idempotencyWindowMs ?? 60_000, 'idempotencyWindowMs'),
  };
  const stubs = new Map<string, DurableObjectStubLike>();
  /** Waits in progress: `close()` ends them (`false`). */
  const waits = new Set<(woken: boolean) => void>();
  let closed = false;

  function stub(channel: string): DurableObjectStubLike {
    let found = stubs.get(channel);
    if (found === undefined) stubs.set(channel, (found = namespace.get(namespace.idFromName(channel) as never)));
    return found;
  }

  /**
   * One call to a channel's object. A stub that saw its object reset (a restart, a deploy) stays
   * broken, so a failure drops it; a call that is safe to repeat (a read, a start, an append
   * with an id) is then sent once more on a fresh stub when the runtime says it may be
   * (`retryable`, or the object was reset), as Cloudflare's error-handling guide advises.
   */
  async function call<T>(channel: string, body: ChannelCall, repeatable: boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await stub(channel).fetch('https://hangtime/', { method: 'POST', body: JSON.stringify(body) });
        if (!response.ok) {
          const text = await response.text();
          throw new Error(`The Durable Object of channel ${channel} answered ${response.status}: ${text.slice(0, 200)}`);
        }
        return (await response.json()) as T;
      } catch (error) {
        stubs.delete(channel);
        const flags = (typeof error === 'object' && error !== null ? error : {}) as { retryable?: unknown; durableObjectReset?: unknown };
        const transient = flags.retryable === true || flags.durableObjectReset === true;
        if (!repeatable || !transient || attempt >= 2) throw error;
      }
    }
  }

  function waitInto(targets: readonly WaitTarget[], signal: SignalLike, sink: WaitSink): void {
    if (signal.aborted || closed) return sink.woken(false);
    // One wait per channel's object; the first to answer settles, and the others are cancelled
    // (their objects drop the waiter). Each wait is defined by its position, so an append at any
    // moment around it wakes it: race-free across objects.
    const controller = new AbortController();
    let settled = false;
    const settle = (woken: boolean): void => {
      if (settled) return;
      settled = true;
      waits.delete(settle);
      signal.removeEventListener('abort', onAbort);
      controller.abort();
      sink.woken(woken);
    };
    const onAbort = (): void => settle(false);
    waits.add(settle);
    signal.addEventListener('abort', onAbort, { once: true });
    for (const { channel, after } of targets) {
      stub(channel)
        .fetch('https://hangtime/', {
          method: 'POST',
          body: JSON.stringify({ op: 'wait', after } satisfies ChannelCall),
          signal: controller.signal,
        })
        .then(async (response) => {
          if (!response.ok || response.body === null) return settle(true);
          const reader = response.body.getReader();
          controller.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
          await reader.read();
          settle(true);
        })
        // The object went away (restart, deploy): a spurious wake; the hold reads and sees.
        .catch(() => {
          if (!settled) stubs.delete(channel);
          settle(true);
        });
    }
  }

  return {
    maxEventBytes,

    async append(channel, data, appendOptions) {
      assertChannel(channel);
      const id = appendIdOption(appendOptions);
      if (closed) throw new Error('The Durable Object log is closed');
      const { json, bytes } = serializeEventData(data, maxEventBytes);
      try {
        return await call<string>(channel, { op: 'append', json, bytes, id: id ?? null, retention }, id !== undefined);
      } catch (error) {
        if (id === undefined) throw error;
        throw new AppendUncertainError(`The Durable Object of channel ${channel} did not confirm the append; retry with the same id`, {
          channel,
          appendId: id,
          cause: error,
        });
      }
    },

    read(channel, after, { limit, maxBytes }) {
      return call<ReadResult>(channel, { op: 'read', after, limit, maxBytes, retention }, true);
    },

    async start(channel, from: StartFrom) {
      assertChannel(channel);
      return call<string>(channel, { op: 'start', from: assertStartFrom(from), retention }, true);
    },

    waitFor: (targets, signal) => new Promise<boolean>((resolve) => waitInto(targets, signal, { woken: resolve })),

    waitInto,

    isPosition: (value) => value === START || POSITION_PATTERN.test(value),

    async close() {
      closed = true;
      for (const settle of [...waits]) settle(false);
    },
  };
}
