import { assertChannel } from './channels.js';
import {
  DEFAULT_MAX_EVENT_BYTES,
  START,
  defineWaitInto,
  serializeEventData,
  type EventLog,
  type ReadOptions,
  type ReadResult,
  type StoredEvent,
  type WaitSink,
  type WaitTarget,
} from './log.js';
import { assertKnownOptions, assertPositiveInteger, assertPositiveNumber } from './options.js';
import { randomId } from './random.js';
import type { SignalLike } from './signal.js';
import { LogWaiter } from './waiter.js';

export interface MemoryLogOptions {
  /** Events kept per channel; older ones are dropped first. Default `1000`. */
  readonly maxEventsPerChannel?: number;
  /** Events older than this are dropped. Default `3_600_000` (one hour); `Infinity` keeps all. */
  readonly maxAgeMs?: number;
  /** Largest event, in bytes of JSON. Default `262_144` (256 KiB). */
  readonly maxEventBytes?: number;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

export interface MemoryLog extends EventLog {
  /** Current counts, for monitoring and tests: channels, stored events, registered waiters. */
  stats(): { channels: number; events: number; waiters: number };
}

interface Entry extends StoredEvent {
  readonly seq: number;
  readonly bytes: number;
  readonly timeMs: number;
}

interface Channel {
  /** Random per channel creation: positions of an earlier life of the channel (another process,
   * before a restart) carry another generation and read as a gap, never as this data. */
  readonly generation: string;
  /** Retained events, oldest first; `entries[i].seq === firstSeq + i`. */
  entries: Entry[];
  /** Sequence number of the newest event ever appended (0 before the first). */
  lastSeq: number;
  /** Highest sequence number dropped by retention (0 when nothing was dropped). */
  droppedThrough: number;
}

/** The waiters of one log: per channel, and their count. */
interface Waiters {
  readonly byChannel: Map<string, Set<Waiter>>;
  count: number;
}

/** A wait on the memory log: registered on every target channel until it settles. */
class Waiter extends LogWaiter {
  constructor(
    readonly registry: Waiters,
    readonly targets: readonly WaitTarget[],
    signal: SignalLike,
    sink: WaitSink,
  ) {
    super(signal, sink);
    for (const { channel } of targets) {
      let set = registry.byChannel.get(channel);
      if (set === undefined) registry.byChannel.set(channel, (set = new Set()));
      set.add(this);
    }
    registry.count++;
  }

  protected release(): void {
    const { byChannel } = this.registry;
    for (const { channel } of this.targets) {
      const set = byChannel.get(channel);
      if (set?.delete(this) && set.size === 0) byChannel.delete(channel);
    }
    this.registry.count--;
  }
}

const POSITION = /^([0-9a-z]{6})-([0-9a-z]{9})$/;

/**
 * The embedded event log: everything in this process's memory, bounded per channel by count
 * and age. The default for development, tests, demos and single-process servers; history is
 * lost when the process ends (clients then get a gap, not wrong data). Use `hangtime/redis`
 * when several processes or functions must share events.
 *
 * @example
 * const log = memoryLog({ maxEventsPerChannel: 500, maxAgeMs: 10 * 60_000 });
 * await log.append('chat', { text: 'hi' });
 */
export function memoryLog(options: MemoryLogOptions = {}): MemoryLog {
  assertKnownOptions(options, ['maxEventsPerChannel', 'maxAgeMs', 'maxEventBytes', 'now'], 'memoryLog()');
  const maxEvents = assertPositiveInteger(options.maxEventsPerChannel ?? 1000, 'maxEventsPerChannel');
  const maxAgeMs = assertPositiveNumber(options.maxAgeMs ?? 3_600_000, 'maxAgeMs');
  const maxEventBytes = assertPositiveInteger(options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES, 'maxEventBytes');
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError(`Expected \`now\` to be a function, got ${typeof now}`);

  const channels = new Map<string, Channel>();
  // Kept apart from `channels` so that waiting on a channel never creates it.
  const waiters: Waiters = { byChannel: new Map(), count: 0 };
  let closed = false;

  const position = (channel: Channel, seq: number): string =>
    seq === 0 ? START : `${channel.generation}-${seq.toString(36).padStart(9, '0')}`;

  function trimByAge(channel: Channel): void {
    if (maxAgeMs === Infinity) return;
    const oldestKept = now() - maxAgeMs;
    let drop = 0;
    while (drop < channel.entries.length && channel.entries[drop]!.timeMs < oldestKept) drop++;
    if (drop > 0) dropOldest(channel, drop);
  }

  function dropOldest(channel: Channel, count: number): void {
    channel.droppedThrough = channel.entries[count - 1]!.seq;
    channel.entries.splice(0, count);
  }

  /** The sequence number `after` names in `channel`, or a gap when it names lost history. */
  function locate(channel: Channel | undefined, after: string): number | Extract<ReadResult, { kind: 'gap' }> {
    if (after === START) {
      if (channel === undefined || channel.droppedThrough === 0) return 0;
      return { kind: 'gap', resumeAfter: position(channel, channel.droppedThrough), missed: channel.droppedThrough };
    }
    const match = POSITION.exec(after);
    if (channel === undefined || match === null || match[1] !== channel.generation) {
      // Another generation: history this reader had is gone; resume at the oldest retained.
      const resumeAfter = channel === undefined ? START : position(channel, channel.droppedThrough);
      return { kind: 'gap', resumeAfter, missed: null };
    }
    const seq = parseInt(match[2]!, 36);
    if (seq > channel.lastSeq) {
      // Only a forged position can be ahead of the channel; do not let it skip events.
      return { kind: 'gap', resumeAfter: position(channel, channel.droppedThrough), missed: null };
    }
    if (seq < channel.droppedThrough) {
      return { kind: 'gap', resumeAfter: position(channel, channel.droppedThrough), missed: channel.droppedThrough - seq };
    }
    return seq;
  }

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
      const set = waiters.byChannel.get(channel);
      if (set !== undefined) for (const waiter of set) waiter.settle(true);
    }
  }

  function waitInto(targets: readonly WaitTarget[], signal: SignalLike, sink: WaitSink): void {
    if (signal.aborted || closed) return sink.woken(false);
    for (const { channel, after } of targets) {
      const located = locate(channels.get(channel), after);
      if (typeof located !== 'number' || located < (channels.get(channel)?.lastSeq ?? 0)) return sink.woken(true);
    }
    new Waiter(waiters, targets, signal, sink);
  }

  const log: MemoryLog = {
    maxEventBytes,

    async append(channelName, data) {
      assertChannel(channelName);
      if (closed) throw new Error('The memory log is closed');
      const { json, bytes } = serializeEventData(data, maxEventBytes);
      let channel = channels.get(channelName);
      if (channel === undefined) {
        channel = { generation: randomId(6), entries: [], lastSeq: 0, droppedThrough: 0 };
        channels.set(channelName, channel);
      }
      const seq = ++channel.lastSeq;
      const entry: Entry = { seq, position: position(channel, seq), json, bytes, timeMs: now() };
      channel.entries.push(entry);
      if (channel.entries.length > maxEvents) dropOldest(channel, channel.entries.length - maxEvents);
      trimByAge(channel);
      wake(channelName);
      return entry.position;
    },

    async read(channelName, after, { limit, maxBytes }: ReadOptions) {
      const channel = channels.get(channelName);
      if (channel !== undefined) trimByAge(channel);
      const located = locate(channel, after);
      if (typeof located !== 'number') return located;
      if (channel === undefined) return { kind: 'events', events: [], more: false };
      const start = located - (channel.entries[0]?.seq ?? channel.lastSeq + 1) + 1;
      const events: Entry[] = [];
      let bytes = 0;
      for (let i = start; i < channel.entries.length && events.length < limit; i++) {
        const entry = channel.entries[i]!;
        bytes += entry.bytes;
        if (events.length > 0 && bytes > maxBytes) break;
        events.push(entry);
      }
      return { kind: 'events', events, more: start + events.length < channel.entries.length };
    },

    async head(channelName) {
      const channel = channels.get(channelName);
      return channel === undefined ? START : position(channel, channel.lastSeq);
    },

    waitFor(targets: readonly WaitTarget[], signal: SignalLike) {
      return new Promise<boolean>((resolve) => waitInto(targets, signal, { woken: resolve }));
    },

    isPosition(value) {
      return value === START || POSITION.test(value);
    },

    stats() {
      let events = 0;
      for (const channel of channels.values()) events += channel.entries.length;
      return { channels: channels.size, events, waiters: waiters.count };
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const set of [...waiters.byChannel.values()]) for (const waiter of [...set]) waiter.settle(false);
    },
  };
  defineWaitInto(log, waitInto);
  return log;
}
