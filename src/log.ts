/**
 * The event-log contract. Every log (the in-memory one in `memory-log.ts`, the Redis one in
 * `redis/`) implements it and passes the shared conformance suite in `test/conformance/`.
 *
 * Positions are opaque strings chosen by the log, always tied to a *generation*: one life of
 * the channel's history. Within a generation they are unique and compare correctly as strings
 * (`a < b` means `a` was appended first). A channel gets a new generation when the log loses
 * its history (a process restart for the memory log, lost data for Redis); a position from an
 * older generation is reported as a gap, never read against the new data. This holds for the
 * position of a channel that has no events yet too: {@link EventLog.start} ties it to the
 * generation it was taken in, so that a reader waiting for a channel's first event is told
 * when history it never saw was lost meanwhile.
 */

import type { SignalLike } from './signal.js';

/**
 * The position of no generation, from cursors written before positions were tied to one. No log
 * method returns it; a read after it is a gap (`reason: 'reset'`, `missed: null`), because the
 * history it was taken in cannot be told from the one the log has now.
 */
export const START = '0';

/** One stored event as a log returns it: the data stays serialised so a batch fanned out to
 * thousands of waiters is never parsed and re-serialised per waiter. */
export interface StoredEvent {
  /** Position of this event in its channel. */
  readonly position: string;
  /** The event data, serialised as JSON. */
  readonly json: string;
}

export interface ReadOptions {
  /** At most this many events. */
  readonly limit: number;
  /** Stop adding events once their JSON would exceed this many bytes (UTF-8). The first
   * event is always returned, whatever its size: the caller bounds event size at append. */
  readonly maxBytes: number;
}

/**
 * Why a reader's history is gone: `'retention'` when its position is behind what the channel
 * retains (by count or age); `'reset'` when the log lost history (a restart of the memory log,
 * lost Redis data, a failover that lost the newest events) and the position belongs to a
 * history the log no longer has.
 */
export type GapReason = 'retention' | 'reset';

/** Events after a position, or a gap when history the reader needed is gone. */
export type ReadResult =
  | {
      readonly kind: 'events';
      /** In position order; empty when nothing follows `after`. */
      readonly events: readonly StoredEvent[];
      /** True when more events follow the last one returned. */
      readonly more: boolean;
    }
  | {
      readonly kind: 'gap';
      /**
       * Read after this position to continue. It never makes the reader receive an event
       * twice: before the oldest retained event (behind retention, or another generation:
       * everything retained is new to the reader), the channel's newest event (a position ahead
       * of it), or the newest event before the position (one that names no retained event).
       */
      readonly resumeAfter: string;
      /** How many events were lost, when the log can tell; otherwise `null`. */
      readonly missed: number | null;
      readonly reason: GapReason;
    };

/**
 * Where a reader without a position starts: after the newest event (`'now'`), before the
 * oldest retained event (`'oldest'`), or before the last `n` retained events.
 */
export type StartFrom = 'now' | 'oldest' | { readonly last: number };

/**
 * Options of one append.
 *
 * @example
 * await log.append('chat', message, { id: message.uuid }); // a retry with the same id is stored once
 */
export interface AppendOptions {
  /**
   * The append's id: appends with the same id on the same channel within the log's idempotency
   * window are stored once, and each returns the first one's position. 1 to 64 characters of
   * `A-Z a-z 0-9 _ -`. Pass one to make your retries safe (a publish whose answer was lost).
   */
  readonly id?: string;
}

/** What {@link EventLog.appendLinked} answers. */
export interface LinkedAppend {
  /** The appended event's position (what `append` answers). */
  readonly position: string;
  /** The position of the channel's event before it, or `null` when there is none or the log
   * cannot tell (the channel's first event, an append id seen before). */
  readonly previous: string | null;
}

/** A channel and the position after which its waiter wants events. */
export interface WaitTarget {
  readonly channel: string;
  readonly after: string;
}

/** Where {@link EventLog.waitInto} reports. */
export interface WaitSink {
  /** `true`: events follow (or may: callers read to see); `false`: the signal aborted. */
  woken(woken: boolean): void;
  /** Optional: how long, in ms, the wait may last at most (the hold's budget left). A log that
   * waits with one blocking command sizes it with this instead of waking up in slices. */
  remainingMs?(): number;
}

export interface EventLog {
  /**
   * Append one event to a channel (creating the channel on first append) and return its
   * position. Rejects with a `RangeError` when the serialised data exceeds
   * {@link EventLog.maxEventBytes}, a `TypeError` when it is not JSON-serialisable (or the
   * options are invalid), and an `AppendUncertainError` (src/errors.ts) when the log cannot
   * tell whether the event was stored (retrying with the same `id` is then safe).
   */
  append(channel: string, data: unknown, options?: AppendOptions): Promise<string>;

  /**
   * Optional: {@link EventLog.append} that also tells the position of the event before it in
   * the channel (GRIP's `prev-id`, see docs/grip.md), read in the same step as the append.
   */
  appendLinked?(channel: string, data: unknown, options?: AppendOptions): Promise<LinkedAppend>;

  /** Read events after `after`, a position from this log (or {@link START}, always a gap). */
  read(channel: string, after: string, options: ReadOptions): Promise<ReadResult>;

  /**
   * The position a new reader starts after (see {@link StartFrom}), tied to the channel's
   * current generation also when the channel has no events: never {@link START}.
   * `{ last: n }` costs one bounded read, never a scan of the channel.
   */
  start(channel: string, from: StartFrom): Promise<string>;

  /**
   * Optional: what {@link EventLog.start} would answer, when the log knows it without asking its
   * store (no I/O, no promise), else `undefined` (then `start` is called). A new client's first
   * poll then starts holding at once, with no promise or timer of its own. Never throws.
   */
  startKnown?(channel: string, from: StartFrom): string | undefined;

  /**
   * Resolve `true` as soon as any target channel has an event after its `after` position,
   * including one appended before this call (this is what makes a hold race-free: the wait
   * is defined by the position, not by the moment it starts). Resolve `false` when `signal`
   * aborts, releasing every listener. May resolve `true` spuriously; callers read to see.
   * A position from another generation or behind retention counts as "has an event".
   * `signal` is an `AbortSignal` or anything with its `aborted` flag and `abort` listeners
   * (see {@link SignalLike}); use only those members.
   */
  waitFor(targets: readonly WaitTarget[], signal: SignalLike): Promise<boolean>;

  /**
   * Optional: {@link EventLog.waitFor} without its promise. The same contract, reported to
   * `sink` exactly once, possibly synchronously. The hold uses it when present, so that a held
   * poll keeps no promise, reaction or closure for its wait (with thousands held, that is most
   * of what the garbage collector walks); a log without it works through `waitFor`.
   */
  waitInto?(targets: readonly WaitTarget[], signal: SignalLike, sink: WaitSink): void;

  /** Whether a string is syntactically a position of this log (cheap, no I/O). */
  isPosition(position: string): boolean;

  /** Largest accepted event, in bytes of serialised JSON. */
  readonly maxEventBytes: number;

  /** Release timers and connections the log opened itself. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serialise event data for a log, enforcing the JSON and size contract shared by all logs.
 * @returns the JSON text and its UTF-8 length.
 */
export function serializeEventData(data: unknown, maxEventBytes: number): { json: string; bytes: number } {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (error) {
    throw new TypeError(`Expected event data to be JSON-serialisable: ${(error as Error).message}`, { cause: error });
  }
  if (json === undefined) {
    throw new TypeError(`Expected event data to be JSON-serialisable, got ${typeof data}`);
  }
  const bytes = utf8Length(json);
  if (bytes > maxEventBytes) {
    throw new RangeError(`Event data is ${bytes} bytes of JSON, more than maxEventBytes (${maxEventBytes})`);
  }
  return { json, bytes };
}

/** UTF-8 byte length of a string without allocating an encoded copy. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is 2 UTF-16 units and 4 UTF-8 bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Default largest event: comfortably under the smallest buffered-response cap (ALB, 1 MB). */
export const DEFAULT_MAX_EVENT_BYTES = 256 * 1024;

const APPEND_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether a string is a valid append id (see {@link AppendOptions.id}). */
export const isAppendId = (value: unknown): value is string => typeof value === 'string' && APPEND_ID.test(value);

/** The caller's append id, checked (a `TypeError` for anything else), or `undefined`. */
export function appendIdOption(options: AppendOptions | undefined): string | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected append options to be an object, got ${options === null ? 'null' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'id') throw new TypeError(`Unknown option \`${key}\` for append(); expected one of: id`);
  }
  if (options.id === undefined) return undefined;
  const id: unknown = options.id;
  if (!isAppendId(id)) {
    const shown =
      typeof id === 'string'
        ? JSON.stringify(id.slice(0, 80))
        : typeof id === 'number' || typeof id === 'boolean' || id == null
          ? String(id)
          : typeof id;
    throw new TypeError(`Expected \`id\` to be 1 to 64 characters of A-Z a-z 0-9 _ -, got ${shown}`);
  }
  return id;
}
