import { assertChannel } from '../channels.js';
import { START, serializeEventData, type EventLog, type LinkedAppend, type ReadResult, type WaitSink, type WaitTarget } from '../log.js';
import type { SignalLike } from '../signal.js';
import { randomId } from '../random.js';
import { withTimeout } from '../timeout.js';
import { oneRequestPerInstance } from '../instance.js';
import { Appender } from './append.js';
import { readResultOf } from './read-reply.js';
import { BlockingWaits } from './blocking.js';
import { appendIdOf, startArguments, type AppendOptions } from './arguments.js';
import { redisKeys } from './keys.js';
import { resolveOptions, type RedisLogOptions } from './options.js';
import { GENERATION_LENGTH, decodePosition, encodePosition, isRedisPosition } from './position.js';
import { runScript } from './run.js';
import { READ, START_AT, STATE, toState, type Script } from './scripts.js';
import { Subscriber } from './subscriber.js';
import type { ChannelState } from './types.js';
import { Watcher } from './watcher.js';

/**
 * The event log {@link redisLog} returns: an `EventLog` with idempotent appends, its prefix and
 * counters.
 *
 * @example
 * const { waiters } = log.stats(); // polls this process holds on the log right now
 */
export type { AppendOptions } from './arguments.js';

export interface RedisLog extends EventLog {
  /** `EventLog.append`, plus an append id (see {@link AppendOptions}). Rejects with an
   * `AppendUncertainError` when Redis did not confirm the append (see docs/redis.md). */
  append(channel: string, data: unknown, options?: AppendOptions): Promise<string>;
  /** `append`, also telling the entry before it (read in the same script). */
  appendLinked(channel: string, data: unknown, options?: AppendOptions): Promise<LinkedAppend>;
  /** The key prefix, for tools that look at the keys (see `redisKeys`). */
  readonly prefix: string;
  /** For monitoring and tests: channels watched by waiters (or lingering), waiters held. */
  stats(): { channels: number; waiters: number };
}

/** How long a channel stays subscribed after its last waiter left: long enough that the next
 * poll of a client (which comes right after an answer) finds it subscribed and known. */
const LINGER_MS = 30_000;

const EMPTY: ReadResult = { kind: 'events', events: [], more: false };

/**
 * The production event log: one Redis Stream per channel, any number of waiting polls per
 * process over two connections (commands, and one pub/sub connection for wake-ups), each new
 * batch read from Redis once per process. Works with one Redis (7.0 or newer) or a Redis Cluster.
 * See docs/redis.md.
 *
 * @example
 * import { createHangtime } from 'hangtime';
 * import { redisLog } from 'hangtime/redis';
 *
 * const log = redisLog({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', maxEventsPerChannel: 10_000 });
 * const hangtime = createHangtime({ log });
 * await log.append('chat', { text: 'hello' });
 */
export function redisLog(options: RedisLogOptions): RedisLog {
  const resolved = resolveOptions(options);
  const { client, ownsClient, prefix, retention, maxEventBytes, commandTimeoutMs, emptyChannelTtlMs, connectionName, waiting, onError } =
    resolved;
  let closing: Promise<void> | undefined;
  // Bumped by every append this process completes: a read started after one never joins a
  // read sent before it (read-your-writes), see `coalesce`.
  let appendsDone = 0;
  const inFlight = new Map<string, Promise<unknown>>();
  const appender = new Appender(client, resolved);

  const run = (script: Script, channel: string, args: ReadonlyArray<string | number>, what: string): Promise<unknown> => {
    const keys = redisKeys(prefix, channel);
    return withTimeout(
      runScript(client, script, [keys.events, keys.meta], args),
      commandTimeoutMs,
      () => new Error(`Redis did not answer ${what} on channel "${channel}" within ${commandTimeoutMs} ms`),
    );
  };

  const check = async (channel: string): Promise<ChannelState> => {
    const snapshot = watcher.snapshot(channel);
    const state = toState(await command(() => run(STATE, channel, [newGeneration(), emptyChannelTtlMs], 'a check')));
    // Both ways of waiting learn from every answer (the watcher only when it is still news).
    watcher.observe(channel, state, snapshot);
    blocking.observe(channel, state);
    return state;
  };

  const blocking = new BlockingWaits({
    client,
    prefix,
    connectionName,
    check,
    onError,
    handOver: (targets, signal, sink) => watcher.waitInto(targets, signal, sink),
    moved: (channel) => watcher.unsure(channel),
  });
  /** `waiting: 'auto'`: set once this process held two polls at once (not on one-request-per-
   * instance platforms, where that is a rare overlap rather than how the process runs). */
  let holdsMany = false;

  /** Whether a wait starting now may block on the command connection (see `waiting`). */
  function mayBlock(): boolean {
    // Once `holdsMany` is set (only in 'auto'), the answer is settled: a busy process asks
    // nothing more on this path, which every one of its polls takes.
    if (waiting === 'shared' || holdsMany) return false;
    const busy = blocking.waiters + watcher.waiters > 0;
    if (waiting === 'blocking') return !busy;
    if (busy && !oneRequestPerInstance()) holdsMany = true;
    return !holdsMany && !busy;
  }

  /** Every command but a wait's XREAD: a blocking wait must not hold the connection it needs
   * (see blocking.ts). One sent while a poll blocks means this process does more than one
   * thing at a time: `'auto'` waits the shared way from then on. */
  function command<T>(send: () => Promise<T>): Promise<T> {
    if (blocking.blocked && waiting === 'auto' && !oneRequestPerInstance()) holdsMany = true;
    return blocking.command(send);
  }

  const subscriber = new Subscriber(
    client,
    `${connectionName}-sub`,
    {
      onReady: () => watcher.onReady(),
      onLost: () => watcher.onLost(),
      onMessage: (name, message) => watcher.onMessage(name, message),
      onError,
    },
    commandTimeoutMs,
  );
  const watcher = new Watcher({ prefix, subscriber, check, onError, lingerMs: LINGER_MS });

  /**
   * Identical reads in flight share one Redis command: after an append wakes N waiters, the
   * hold of each reads the same channel after the same position, and Redis sees one read.
   * The key carries what this process has learnt since (its own appends, wake messages), so a
   * read never joins one that was sent before an append it already knows of.
   */
  function coalesce<T>(key: string, channel: string, load: () => Promise<T>): Promise<T> {
    const full = `${key}\u0000${appendsDone}\u0000${watcher.snapshot(channel)?.messages ?? -1}`;
    let pending = inFlight.get(full) as Promise<T> | undefined;
    if (pending === undefined) {
      pending = load().finally(() => inFlight.delete(full));
      inFlight.set(full, pending);
    }
    return pending;
  }

  /**
   * A start at 'now' on a channel this process watches (polls wait on it), from what it knows of
   * the head: a burst of new clients starting there costs Redis nothing. A start that races an
   * append whose message has not come yet starts just before that event and gets it: nothing is
   * missed. Undefined when not known (see `watcher.knownHead`).
   */
  function knownHead(channel: string): string | undefined {
    const head = watcher.knownHead(channel);
    return head === undefined ? undefined : encodePosition(head.generation, head.last);
  }

  function assertOpen(): void {
    if (closing !== undefined) throw new Error('The Redis log is closed');
  }

  async function readFromRedis(channel: string, after: string, limit: number, maxBytes: number): Promise<ReadResult> {
    const position = after === START ? undefined : decodePosition(after);
    // START (an old cursor's position of no generation) reads nothing: always a gap. A string
    // that is no position of ours neither ('!' is never a generation).
    const afterId = after === START ? '' : (position?.id ?? '0-0');
    const afterGeneration = after === START ? '' : (position?.generation ?? '!');
    const snapshot = watcher.snapshot(channel);
    const args = [newGeneration(), afterId, afterGeneration, limit, maxBytes, ...retention, emptyChannelTtlMs];
    const reply = (await command(() => run(READ, channel, args, 'a read'))) as unknown[];
    const { result, generation, last } = readResultOf(reply, { channel, position, afterId, maxEventBytes, onError });
    watcher.observe(channel, { exists: true, generation, last }, snapshot);
    blocking.observe(channel, { exists: true, generation, last });
    return result;
  }

  function wait(targets: readonly WaitTarget[], signal: SignalLike, sink: WaitSink): void {
    if (mayBlock() && blocking.waitInto(targets, signal, sink)) return;
    watcher.waitInto(targets, signal, sink);
  }

  const log: RedisLog = {
    prefix,
    maxEventBytes,

    async append(channel, data, appendOptions) {
      return (await log.appendLinked(channel, data, appendOptions)).position;
    },

    async appendLinked(channel, data, appendOptions) {
      assertChannel(channel);
      const appendId = appendIdOf(appendOptions);
      assertOpen();
      const { json } = serializeEventData(data, maxEventBytes);
      const snapshot = watcher.snapshot(channel);
      const keys = redisKeys(prefix, channel);
      const { generation, id, duplicate, previous } = await command(() =>
        appender.append({ channel, keys, json, appendId, freshGeneration: newGeneration() }),
      );
      appendsDone++;
      // Wakes this process's waiters now, without waiting for the message. A duplicate's id is
      // an older entry's, not the head: it says nothing of where the channel stands.
      if (!duplicate) {
        watcher.observe(channel, { exists: true, generation, last: id }, snapshot);
        blocking.observe(channel, { exists: true, generation, last: id });
      }
      return {
        position: encodePosition(generation, id),
        previous: duplicate || previous === '' ? null : encodePosition(generation, previous),
      };
    },

    async read(channel, after, { limit, maxBytes }) {
      assertChannel(channel);
      assertOpen();
      // Known to be up to date (see watcher.ts): the poll that follows an answer costs no read.
      if (watcher.knownEmpty(channel, after)) return EMPTY;
      return coalesce(`r\u0000${channel}\u0000${after}\u0000${limit}\u0000${maxBytes}`, channel, () =>
        readFromRedis(channel, after, limit, maxBytes),
      );
    },

    async start(channel, from) {
      assertChannel(channel);
      const [mode, n] = startArguments(from);
      assertOpen();
      const known = mode === 'now' ? knownHead(channel) : undefined;
      if (known !== undefined) return known;
      return coalesce(`s\u0000${channel}\u0000${mode}\u0000${n}`, channel, async () => {
        const snapshot = watcher.snapshot(channel);
        const args = [newGeneration(), mode, n, emptyChannelTtlMs, ...retention];
        const [generation, last, at] = ((await command(() => run(START_AT, channel, args, 'a start'))) as unknown[]).map(String) as [
          string,
          string,
          string,
        ];
        watcher.observe(channel, { exists: true, generation, last }, snapshot);
        blocking.observe(channel, { exists: true, generation, last });
        return encodePosition(generation, at);
      });
    },

    // Without a command only where `start` needs none: at 'now' on a channel known to be current.
    startKnown: (channel, from) => (from === 'now' && closing === undefined ? knownHead(channel) : undefined),

    waitFor(targets, signal) {
      try {
        for (const { channel } of targets) assertChannel(channel);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<boolean>((resolve) => wait(targets, signal, { woken: resolve }));
    },

    // The hold's promise-free wait. Channels come validated from the hold: no check per poll.
    waitInto: (targets, signal, sink) => wait(targets, signal, sink),

    isPosition: isRedisPosition,

    stats: () => {
      const { channels, waiters } = watcher.stats();
      return { channels, waiters: waiters + blocking.waiters };
    },

    close() {
      closing ??= (async () => {
        watcher.close();
        blocking.close();
        appender.close();
        await subscriber.close();
        if (ownsClient && client.status !== 'end') {
          // Never connected (lazy): nothing to say goodbye to.
          if (client.status === 'wait') client.disconnect();
          else await withTimeout(client.quit(), commandTimeoutMs, () => new Error('QUIT timed out')).catch(() => client.disconnect());
        }
      })();
      return closing;
    },
  };
  return log;
}

const newGeneration = (): string => randomId(GENERATION_LENGTH);
