import { START, type ReadResult, type StartFrom, type StoredEvent } from './log.js';
import { randomId } from './random.js';

/**
 * The channels of the memory log and their positions: what is stored, what retention dropped,
 * and what the log can still tell a reader whose history is gone.
 *
 * A position is `<generation>-<incarnation>-<n>`:
 * - `generation`: random per log instance. Another process's (or a restarted process's)
 *   positions carry another one, and read as a gap (`reset`): that history is gone.
 * - `incarnation`: which life of the channel within this log. A channel whose events have all
 *   expired and that nobody waits on is forgotten (so that a log fed many channel names stays
 *   bounded); if it is appended to again, it is a new incarnation. Incarnations are numbered
 *   from one counter per log, which also stamps the position of a channel that has no events
 *   (`<counter>` with `n` = 0): a "nothing yet" position remembers when it was taken, so a
 *   reader holding it is told when a whole life of the channel passed and was forgotten
 *   without it (issue 9.1 of the project: such readers used to skip it silently).
 * - `n`: the event's number within its incarnation, from 1.
 *
 * A forgotten channel leaves a small record (its incarnation and last `n`), so that its
 * readers still get exact answers: nothing missed, or how many. The records are capped; past
 * the cap the oldest go, and readers of those channels get a gap with `missed: null`.
 */

export interface Entry extends StoredEvent {
  readonly n: number;
  readonly bytes: number;
  readonly timeMs: number;
}

interface Channel {
  readonly incarnation: number;
  /** Retained events, oldest first; `entries[i].n === entries[0].n + i`. */
  entries: Entry[];
  /** `n` of the newest event appended (at least 1: a channel exists from its first event). */
  lastN: number;
  /** `n` of the newest event dropped by retention (0 when nothing was dropped). */
  droppedThrough: number;
  /** When the newest event was appended (for the channel cap). */
  appendedAtMs: number;
  /** The latest forgotten incarnation of this channel, when its record was kept. */
  readonly previous: Forgotten | undefined;
  /** Incarnations up to this one may have been forgotten without a record (see `evictedUpTo`). */
  readonly unknownUpTo: number;
}

/** What is kept of a forgotten incarnation. */
interface Forgotten {
  readonly incarnation: number;
  readonly lastN: number;
}

export interface MemoryChannelsOptions {
  readonly maxEvents: number;
  readonly maxAgeMs: number;
  readonly maxChannels: number;
  readonly now: () => number;
  /** Whether a poll waits on the channel (such a channel is never forgotten or dropped). */
  readonly hasWaiters: (channel: string) => boolean;
}

type Gap = Extract<ReadResult, { kind: 'gap' }>;

const POSITION = /^([0-9a-z]{6})-([0-9a-z]{7})-([0-9a-z]{9})$/;

/** Records of forgotten channels kept at most (about 100 bytes each). */
const MAX_FORGOTTEN = 10_000;

/** Appends between two sweeps for forgettable channels, at least (and at least one per channel). */
const SWEEP_EVERY = 1_000;

export class MemoryChannels {
  readonly #options: MemoryChannelsOptions;
  readonly #generation = randomId(6);
  readonly #channels = new Map<string, Channel>();
  /** Forgotten channels, oldest first. */
  readonly #forgotten = new Map<string, Forgotten>();
  /** The highest incarnation whose record was dropped from `#forgotten`. */
  #evictedUpTo = 0;
  /** Numbers incarnations and stamps "nothing yet" positions; it moves at every creation and
   * every forgetting, so a stamp taken after a forgetting is above the forgotten incarnation. */
  #counter = 0;
  #appendsSinceSweep = 0;
  /** Appends until the next sweep: the channel count at the last sweep, at least SWEEP_EVERY. */
  #sweepEvery = SWEEP_EVERY;
  /** Sweep when the channel count passes this: the cap, or above it when a sweep could not get
   * under it (every channel waited on), so that such a state does not sweep on every append. */
  #capCheckAbove: number;

  constructor(options: MemoryChannelsOptions) {
    this.#options = options;
    this.#capCheckAbove = options.maxChannels;
  }

  append(name: string, json: string, bytes: number): string {
    const now = this.#options.now();
    let channel = this.#channels.get(name);
    if (channel === undefined) {
      const previous = this.#forgotten.get(name);
      this.#forgotten.delete(name);
      channel = {
        incarnation: ++this.#counter,
        entries: [],
        lastN: 0,
        droppedThrough: 0,
        appendedAtMs: now,
        previous,
        unknownUpTo: this.#evictedUpTo,
      };
      this.#channels.set(name, channel);
    }
    const n = ++channel.lastN;
    const entry: Entry = { n, position: this.#position(channel.incarnation, n), json, bytes, timeMs: now };
    channel.entries.push(entry);
    channel.appendedAtMs = now;
    if (channel.entries.length > this.#options.maxEvents) this.#drop(channel, channel.entries.length - this.#options.maxEvents);
    this.#trimByAge(channel, now);
    if (++this.#appendsSinceSweep >= this.#sweepEvery || this.#channels.size > this.#capCheckAbove) this.#sweep(now);
    return entry.position;
  }

  /** Retained events of a channel (none for a channel that does not exist). */
  entries(name: string): readonly Entry[] {
    return this.#channels.get(name)?.entries ?? [];
  }

  /**
   * Where a reader at `after` stands: the `n` after which it reads in the channel's current
   * incarnation (0 for a channel that does not exist), or the gap it must be told of.
   * @param trim apply age retention first (reads do; the wait's quick check need not)
   */
  locate(name: string, after: string, trim = false): number | Gap {
    const channel = this.#channels.get(name);
    if (channel !== undefined && trim) this.#trimByAge(channel, this.#options.now());
    const match = POSITION.exec(after);
    if (match === null || match[1] !== this.#generation) {
      // Another life of the log (or START): everything it has now is new to this reader.
      return gap('reset', null, this.#oldest(channel));
    }
    const incarnation = parseInt(match[2]!, 36);
    const n = parseInt(match[3]!, 36);
    // A position this log never handed out (forged, or another channel's): what the reader had
    // is unknown, so everything retained is new to it.
    const forged = (): Gap => gap('reset', null, this.#oldest(channel));
    if (incarnation > this.#counter) return forged();
    if (channel !== undefined && incarnation === channel.incarnation) {
      // Ahead of the newest event: the reader had everything there is.
      if (n > channel.lastN) return gap('reset', null, this.#newest(channel));
      if (n < channel.droppedThrough) return gap('retention', channel.droppedThrough - n, this.#oldest(channel));
      return n;
    }
    // A stamp taken before the channel's current incarnation was created (or the channel is gone).
    if (channel !== undefined && incarnation > channel.incarnation) return forged();
    const previous = channel === undefined ? this.#forgotten.get(name) : channel.previous;
    const unknownUpTo = channel === undefined ? this.#evictedUpTo : channel.unknownUpTo;
    /** Events of forgotten incarnations this reader never got: 0, a count, or unknown. */
    let missed: number | null;
    if (previous !== undefined && incarnation === previous.incarnation) {
      if (n > previous.lastN) return forged();
      missed = previous.lastN - n;
    } else if (incarnation >= Math.max(previous?.incarnation ?? 0, unknownUpTo)) {
      // A "nothing yet" stamp with no forgotten incarnation after it (a stamp never equals an
      // incarnation of its channel: creating one and forgetting one both move the counter).
      // A real position would name an incarnation.
      if (n !== 0) return forged();
      missed = 0;
    } else {
      missed = null;
    }
    if (channel === undefined) return missed === 0 ? 0 : gap('retention', missed, this.#stamp());
    if (missed === 0 && channel.droppedThrough === 0) return 0;
    return gap('retention', missed === null ? null : missed + channel.droppedThrough, this.#oldest(channel));
  }

  /** Whether a reader at `after` has events to read, or a gap to be told of. */
  follows(name: string, after: string): boolean {
    const channel = this.#channels.get(name);
    // The usual wait: a reader at the newest event (a re-poll) has nothing to read, with no parsing.
    if (channel !== undefined && after === channel.entries[channel.entries.length - 1]?.position) return false;
    const located = this.locate(name, after);
    return typeof located !== 'number' || located < (channel?.lastN ?? 0);
  }

  start(name: string, from: StartFrom): string {
    const channel = this.#channels.get(name);
    if (channel === undefined) return this.#stamp();
    this.#trimByAge(channel, this.#options.now());
    if (from === 'now') return this.#newest(channel);
    if (from === 'oldest') return this.#oldest(channel);
    return this.#position(channel.incarnation, Math.max(channel.droppedThrough, channel.lastN - from.last));
  }

  isPosition(value: string): boolean {
    return value === START || POSITION.test(value);
  }

  stats(): { channels: number; events: number; forgotten: number } {
    let events = 0;
    for (const channel of this.#channels.values()) events += channel.entries.length;
    return { channels: this.#channels.size, events, forgotten: this.#forgotten.size };
  }

  /** The position of the event before the one at `position` in its channel, or `null` for the
   * first event of an incarnation (readers then hold a stamp, not a position of an event). */
  previousOf(position: string): string | null {
    const last = position.lastIndexOf('-');
    const n = parseInt(position.slice(last + 1), 36);
    return n > 1 ? `${position.slice(0, last + 1)}${(n - 1).toString(36).padStart(9, '0')}` : null;
  }

  #position(incarnation: number, n: number): string {
    return `${this.#generation}-${incarnation.toString(36).padStart(7, '0')}-${n.toString(36).padStart(9, '0')}`;
  }

  /** The position of a channel that has no events: a stamp of the counter. */
  #stamp(): string {
    return this.#position(this.#counter, 0);
  }

  #newest(channel: Channel | undefined): string {
    if (channel === undefined) return this.#stamp();
    // The newest event's own position when it is retained (no string built per new reader).
    return channel.entries[channel.entries.length - 1]?.position ?? this.#position(channel.incarnation, channel.lastN);
  }

  #oldest(channel: Channel | undefined): string {
    return channel === undefined ? this.#stamp() : this.#position(channel.incarnation, channel.droppedThrough);
  }

  #drop(channel: Channel, count: number): void {
    channel.droppedThrough = channel.entries[count - 1]!.n;
    channel.entries.splice(0, count);
  }

  #trimByAge(channel: Channel, now: number): void {
    if (this.#options.maxAgeMs === Infinity) return;
    const oldestKept = now - this.#options.maxAgeMs;
    let drop = 0;
    while (drop < channel.entries.length && channel.entries[drop]!.timeMs < oldestKept) drop++;
    if (drop > 0) this.#drop(channel, drop);
  }

  /**
   * Forget channels whose events have all expired and that nobody waits on; past
   * `maxChannels`, also drop the channels appended to least recently, down to 15/16 of it.
   * Runs every max(SWEEP_EVERY, channels) appends, or when a new channel passes the cap, so
   * its cost per append stays constant (amortised).
   */
  #sweep(now: number): void {
    this.#appendsSinceSweep = 0;
    const { hasWaiters, maxChannels } = this.#options;
    const kept: Array<[string, Channel]> = [];
    for (const [name, channel] of this.#channels) {
      this.#trimByAge(channel, now);
      if (hasWaiters(name)) continue;
      if (channel.entries.length === 0) this.#forget(name, channel);
      else kept.push([name, channel]);
    }
    const excess = this.#channels.size - maxChannels;
    if (excess > 0) {
      // Down to 15/16 of the cap at once, so that the sort is rare.
      kept.sort(([, a], [, b]) => a.appendedAtMs - b.appendedAtMs);
      for (const [name, channel] of kept.slice(0, excess + Math.floor(maxChannels / 16))) this.#forget(name, channel);
    }
    this.#sweepEvery = Math.max(SWEEP_EVERY, this.#channels.size);
    this.#capCheckAbove = Math.max(maxChannels, this.#channels.size + Math.floor(maxChannels / 16));
  }

  #forget(name: string, channel: Channel): void {
    this.#channels.delete(name);
    this.#forgotten.set(name, { incarnation: channel.incarnation, lastN: channel.lastN });
    // Stamps taken from now on are above the forgotten incarnation.
    this.#counter++;
    if (this.#forgotten.size > MAX_FORGOTTEN) {
      const [oldestName, oldest] = this.#forgotten.entries().next().value as [string, Forgotten];
      this.#forgotten.delete(oldestName);
      this.#evictedUpTo = Math.max(this.#evictedUpTo, oldest.incarnation);
    }
  }
}

function gap(reason: Gap['reason'], missed: number | null, resumeAfter: string): Gap {
  return { kind: 'gap', resumeAfter, missed, reason };
}
