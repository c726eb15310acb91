import { assertChannel, isChannel } from './channels.js';
import {
  DEFAULT_MAX_EVENT_BYTES,
  appendIdOption,
  type AppendOptions,
  type LinkedAppend,
  serializeEventData,
  type EventLog,
  type ReadOptions,
  type ReadResult,
  type StartFrom,
  type WaitSink,
  type WaitTarget,
} from './log.js';
import { MemoryChannels, type Entry } from './memory-channels.js';
import {
  assertOptionalFunction,
  assertOptions,
  assertPositiveInteger,
  assertPositiveNumber,
  assertStartFrom,
  isStartFrom,
} from './options.js';
import type { SignalLike } from './signal.js';
import { ListedWaiter, WaitList, type WaitListOwner } from './wait-list.js';

export interface MemoryLogOptions {
  /** Events kept per channel; older ones are dropped first. Default `1000`. */
  readonly maxEventsPerChannel?: number;
  /** Events older than this are dropped. Default `3_600_000` (one hour); `Infinity` keeps all. */
  readonly maxAgeMs?: number;
  /** Channels kept with their events. Beyond it, the channels appended to least recently (and
   * followed by no waiting poll) are dropped with their events: their readers get a gap.
   * Default `100_000`. */
  readonly maxChannels?: number;
  /** Largest event, in bytes of JSON. Default `262_144` (256 KiB). */
  readonly maxEventBytes?: number;
  /** How long an append id is remembered: a repeat within it (`append(channel, data, { id })`)
   * stores nothing and returns the first one's position. Default `60_000`. */
  readonly idempotencyWindowMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

export interface MemoryLog extends EventLog {
  /** Current counts, for monitoring and tests: channels, stored events, registered waiters, and
   * the records kept of forgotten channels (see docs/server.md, "The in-memory log"). */
  stats(): { channels: number; events: number; waiters: number; forgotten: number };
}

/** The waiters of one log: per channel, and their count. */
class Waiters implements WaitListOwner {
  readonly byChannel = new Map<string, WaitList>();
  count = 0;

  /** A wait on the memory log: in the list of every target channel until it settles. */
  wait(targets: readonly WaitTarget[], signal: SignalLike, sink: WaitSink): void {
    const waiter = new ListedWaiter(signal, sink);
    for (const { channel, after } of targets) {
      let list = this.byChannel.get(channel);
      if (list === undefined) this.byChannel.set(channel, (list = new WaitList(channel, this)));
      waiter.join(list, after);
    }
  }

  waiterJoined(): void {
    this.count++;
  }

  waiterLeft(): void {
    this.count--;
  }

  emptied(list: WaitList): void {
    if (this.byChannel.get(list.channel) === list) this.byChannel.delete(list.channel);
  }
}

const OPTION_NAMES = ['maxEventsPerChannel', 'maxAgeMs', 'maxChannels', 'maxEventBytes', 'idempotencyWindowMs', 'now'] as const;

/** Append ids remembered at most, whatever the window: a bound on memory (about 100 bytes each). */
const MAX_APPEND_IDS = 100_000;

/**
 * The embedded event log: everything in this process's memory, bounded per channel by count
 * and age, and in channels. The default for development, tests, demos and single-process
 * servers; history is lost when the process ends (clients then get a gap, not wrong data).
 * Use `hangtime/redis` when several processes or functions must share events.
 *
 * @example
 * const log = memoryLog({ maxEventsPerChannel: 500, maxAgeMs: 10 * 60_000 });
 * await log.append('chat', { text: 'hi' });
 */
export function memoryLog(options: MemoryLogOptions = {}): MemoryLog {
  assertOptions(options, OPTION_NAMES, 'memoryLog()');
  const maxEventBytes = assertPositiveInteger(options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES, 'maxEventBytes');
  const idempotencyWindowMs = assertPositiveNumber(options.idempotencyWindowMs ?? 60_000, 'idempotencyWindowMs');
  assertOptionalFunction(options.now, 'now');
  const now = options.now ?? Date.now;
  // Recent append ids, by channel and id, oldest first (a Map keeps insertion order).
  const appendIds = new Map<string, { readonly position: string; readonly atMs: number }>();
  // Kept apart from the channels so that waiting on a channel never creates it.
  const waiters = new Waiters();
  const store = new MemoryChannels({
    maxEvents: assertPositiveInteger(options.maxEventsPerChannel ?? 1000, 'maxEventsPerChannel'),
    maxAgeMs: assertPositiveNumber(options.maxAgeMs ?? 3_600_000, 'maxAgeMs'),
    maxChannels: assertPositiveInteger(options.maxChannels ?? 100_000, 'maxChannels'),
    now,
    hasWaiters: (channel) => waiters.byChannel.has(channel),
  });
  let closed = false;

  // Channels appended to in this tick whose waiters are not woken yet. Waking is deferred to a
  // microtask so that appends made together (a loop, a Promise.all) reach a woken poll as one
  // batch instead of one answer each. Nothing is missed meanwhile: a waiter that registers
  // after the append sees the event itself and is woken at once.
  const toWake = new Set<string>();

  function wake(channel: string): void {
    if (!waiters.byChannel.has(channel)) return;
    if (toWake.size === 0) queueMicrotask(wakeNow);
    toWake.add(channel);
  }

  function wakeNow(): void {
    const channelsToWake = [...toWake];
    toWake.clear();
    for (const channel of channelsToWake) {
      const list = waiters.byChannel.get(channel);
      if (list !== undefined) for (const waiter of list.waiters()) waiter.settle(true);
    }
  }

  function waitInto(targets: readonly WaitTarget[], signal: SignalLike, sink: WaitSink): void {
    if (signal.aborted || closed) return sink.woken(false);
    for (const { channel, after } of targets) if (store.follows(channel, after)) return sink.woken(true);
    waiters.wait(targets, signal, sink);
  }

  const linked = (position: string): LinkedAppend => ({ position, previous: store.previousOf(position) });

  function appendNow(channel: string, json: string, bytes: number): string {
    const position = store.append(channel, json, bytes);
    wake(channel);
    return position;
  }

  async function appendLinked(channel: string, data: unknown, appendOptions?: AppendOptions): Promise<LinkedAppend> {
    assertChannel(channel);
    const id = appendIdOption(appendOptions);
    if (closed) throw new Error('The memory log is closed');
    const { json, bytes } = serializeEventData(data, maxEventBytes);
    if (id === undefined) return linked(appendNow(channel, json, bytes));
    const key = `${channel}\u0000${id}`;
    const nowMs = now();
    for (const [oldKey, { atMs }] of appendIds) {
      if (atMs > nowMs - idempotencyWindowMs && appendIds.size < MAX_APPEND_IDS) break;
      appendIds.delete(oldKey);
    }
    const earlier = appendIds.get(key);
    if (earlier !== undefined) return { position: earlier.position, previous: null };
    const position = appendNow(channel, json, bytes);
    appendIds.set(key, { position, atMs: nowMs });
    return linked(position);
  }

  return {
    maxEventBytes,

    async append(channel, data, appendOptions) {
      return (await appendLinked(channel, data, appendOptions)).position;
    },

    appendLinked,

    async read(channel, after, { limit, maxBytes }: ReadOptions): Promise<ReadResult> {
      const located = store.locate(channel, after, true);
      if (typeof located !== 'number') return located;
      const entries = store.entries(channel);
      const first = entries[0]?.n;
      if (first === undefined) return { kind: 'events', events: [], more: false };
      const start = Math.max(0, located - first + 1);
      const events: Entry[] = [];
      let bytes = 0;
      for (let i = start; i < entries.length && events.length < limit; i++) {
        const entry = entries[i]!;
        bytes += entry.bytes;
        if (events.length > 0 && bytes > maxBytes) break;
        events.push(entry);
      }
      return { kind: 'events', events, more: start + events.length < entries.length };
    },

    async start(channel, from: StartFrom) {
      assertChannel(channel);
      return store.start(channel, assertStartFrom(from));
    },

    // Everything is in memory: always known, for a valid request (`start` says what is wrong
    // with an invalid one).
    startKnown: (channel, from) => (isChannel(channel) && isStartFrom(from) ? store.start(channel, from) : undefined),

    waitFor: (targets, signal) => new Promise<boolean>((resolve) => waitInto(targets, signal, { woken: resolve })),

    waitInto,

    isPosition: (value) => store.isPosition(value),

    stats() {
      return { ...store.stats(), waiters: waiters.count };
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const list of [...waiters.byChannel.values()]) for (const waiter of list.waiters()) waiter.settle(false);
    },
  };
}
