import { HangtimeError, isHangtimeError } from './errors.js';
import { utf8Length, type EventLog, type GapReason, type ReadOptions, type ReadResult, type StoredEvent } from './log.js';
import { eachInTurns, type HoldTimers } from './hold-timers.js';
import { withTimeout } from './timeout.js';

// Reading a poll's channels once the log said events follow (hold.ts waits; this reads, shares
// the read between polls with the same positions, and merges the channels fairly).

/** A channel whose cursor position named history the log no longer has. */
export interface Gap {
  readonly channel: string;
  /** The next poll continues after this position: the oldest retained event comes next. */
  readonly resumeAfter: string;
  /** Events lost, when the log can tell; otherwise `null`. */
  readonly missed: number | null;
  /** Behind the channel's retention, or history the log lost (see {@link GapReason}). */
  readonly reason: GapReason;
}

export interface DeliveredEvent {
  readonly channel: string;
  readonly event: StoredEvent;
}

/** How much one read may return, and by when: the same object for every poll of the same
 * bounds (see `Poller`), so that a held poll keeps one field for them, and a shared read
 * recognises its bounds by identity. */
export interface ReadBounds extends ReadOptions {
  // `maxBytes` counts the delivered events' envelopes too (see envelopeBytes).
  /** Instant (epoch ms) by which every log read must be done, when the platform sets one. */
  readonly readBy: number | undefined;
}

/** What a read needs of a hold's input. */
export interface ReadInput {
  readonly log: EventLog;
  /** Where each channel of the poll stands (already resolved: no missing channel). */
  readonly positions: ReadonlyMap<string, string>;
  /** How many events and bytes the answer may take, and by when the read must be done. */
  readonly bounds: ReadBounds;
  /** Longest a single log read may take before the poll fails with `log_unavailable`. */
  readonly logTimeoutMs: number;
  readonly now: () => number;
  /** The instance's timers (the global ones unless `createHangtime({ timers })`). */
  readonly timers: HoldTimers;
}

/**
 * What one read of a poll's channels found. Immutable and possibly shared: polls with the
 * same positions that read at the same time share one batch (see `SharedRead`).
 */
export interface Batch {
  readonly events: readonly DeliveredEvent[];
  /** Positions after the delivered events (the gap's resume points for a gap). */
  readonly positions: ReadonlyMap<string, string>;
  readonly more: boolean;
  readonly gaps: readonly Gap[];
}

/** Bytes an event takes in the answer beyond its data: `{"channel":"…","position":"…","data":…},`. */
export const envelopeBytes = (channel: string, position: string): number => 33 + channel.length + position.length;

/** The answer of a poll that found nothing: one batch per positions map, so the polls that
 * carry the same cursor share its cursor and body too (see `cursorOf` in answer.ts). */
const NO_GAPS: readonly Gap[] = Object.freeze([]);
const NO_EVENTS: readonly DeliveredEvent[] = Object.freeze([]);
const emptyBatches = new WeakMap<ReadonlyMap<string, string>, Batch>();

export function emptyBatch(positions: ReadonlyMap<string, string>): Batch {
  let batch = emptyBatches.get(positions);
  if (batch === undefined) emptyBatches.set(positions, (batch = { events: NO_EVENTS, positions, more: false, gaps: NO_GAPS }));
  return batch;
}

/** Where a read's outcome goes (the hold): exactly one of the two is called, once. */
export interface ReadSink {
  read(batch: Batch): void;
  readFailed(error: unknown): void;
}

/**
 * One read in flight, shared by every poll that reads the same channels from the same positions
 * within the same bounds. When a publish wakes N polls that share a cursor (a fan-out), or N
 * clients re-poll with the cursor they all just got, one read and one batch serve them all
 * instead of N, and the batch reaches them all from one `then` per read, not a promise and two
 * closures per poll (256 per turn of the event loop, see `eachInTurns`). Sharing is safe
 * whatever the timing: a poll that joins a read started just before an append gets a batch
 * without that event, and a cursor that says so, so its next poll (or its wait, which is defined
 * by positions) picks it up.
 */
class SharedRead {
  readonly sinks: ReadSink[] = [];
  constructor(
    readonly bounds: ReadBounds,
    /** Bounded by logTimeoutMs, so a hung read cannot keep its place for later polls. */
    readonly batch: Promise<Batch>,
  ) {}
}

/** Reads in flight, per log, by the positions they read from (then by bounds: usually one). */
const inflight = new WeakMap<EventLog, Map<string, SharedRead[]>>();

/** Each positions map's key in `inflight`, built once per map: the polls that carry the same
 * cursor share their map (poll.ts), so a fan-out builds no string per poll. */
const positionKeys = new WeakMap<ReadonlyMap<string, string>, string>();

function positionsKey(positions: ReadonlyMap<string, string>): string {
  let key = positionKeys.get(positions);
  if (key === undefined) {
    key = '';
    for (const [channel, position] of positions) key += `${channel}=${position},`;
    positionKeys.set(positions, key);
  }
  return key;
}

/** Read every channel after its position and merge, within the count and byte bounds; the
 * batch (or the error) goes to `sink`. Never throws. */
export function readInto(input: ReadInput, sink: ReadSink): void {
  let shared: SharedRead;
  try {
    shared = sharedRead(input);
  } catch (error) {
    return sink.readFailed(logUnavailable(error));
  }
  // A poll whose platform deadline comes sooner gives up sooner, on its own.
  const { readBy } = input.bounds;
  const ownMs = readBy === undefined ? Infinity : readBy - input.now();
  if (ownMs >= input.logTimeoutMs) return void shared.sinks.push(sink);
  readWithin(shared, ownMs, input, sink);
}

/** The shared read, within the poll's own time. Apart from `readInto`: a function with closures
 * allocates their context on every call, whichever branch runs. */
function readWithin(shared: SharedRead, ownMs: number, input: ReadInput, sink: ReadSink): void {
  withTimeout(shared.batch, Math.max(1, ownMs), () => readTimeout(ownMs), input.timers.timers).then(
    (batch) => sink.read(batch),
    (error: unknown) => sink.readFailed(error),
  );
}

/** The read in flight that `input` joins, started when there is none. */
function sharedRead(input: ReadInput): SharedRead {
  const { log, bounds } = input;
  let byKey = inflight.get(log);
  if (byKey === undefined) inflight.set(log, (byKey = new Map()));
  const key = positionsKey(input.positions);
  const reads = byKey.get(key);
  if (reads !== undefined) for (const read of reads) if (sameBounds(read.bounds, bounds)) return read;
  return startRead(input, byKey, key, reads);
}

/** A new shared read. Apart from `sharedRead`, which every poll calls: a function whose
 * closures capture its variables allocates their context on every call, whichever branch runs. */
function startRead(input: ReadInput, byKey: Map<string, SharedRead[]>, key: string, existing: SharedRead[] | undefined): SharedRead {
  const read = new SharedRead(input.bounds, readAllNow(input, input.logTimeoutMs));
  let reads = existing;
  if (reads === undefined) byKey.set(key, (reads = []));
  reads.push(read);
  const done = (): ReadSink[] => {
    // Out of the map before anyone hears: a poll that reads again (a spurious wake) starts a new read.
    reads.splice(reads.indexOf(read), 1);
    if (reads.length === 0 && byKey.get(key) === reads) byKey.delete(key);
    return read.sinks;
  };
  // In slices when many polls share the read (a fan-out): see eachInTurns.
  read.batch.then(
    (batch) => eachInTurns(done(), (sink) => sink.read(batch)),
    (error: unknown) => eachInTurns(done(), (sink) => sink.readFailed(error)),
  );
  return read;
}

/** Whether two reads return the same (their deadlines aside: each poll keeps its own, see `readInto`). */
function sameBounds(a: ReadBounds, b: ReadBounds): boolean {
  return a === b || (a.limit === b.limit && a.maxBytes === b.maxBytes);
}

async function readAllNow(input: ReadInput, timeoutMs: number): Promise<Batch> {
  const { log, positions, bounds } = input;
  const { limit, maxBytes } = bounds;
  const channels = [...positions.keys()];
  let results: readonly ReadResult[];
  try {
    // One per read, not per poll (the read is shared); the log is not told `readBy`.
    const options: ReadOptions = { limit, maxBytes };
    // One channel (the usual poll) needs no Promise.all.
    const reads =
      channels.length === 1
        ? log.read(channels[0]!, positions.get(channels[0]!)!, options).then((result) => [result])
        : Promise.all(channels.map((channel) => log.read(channel, positions.get(channel)!, options)));
    results = await withTimeout(reads, timeoutMs, () => readTimeout(timeoutMs), input.timers.timers);
  } catch (error) {
    throw isHangtimeError(error) ? error : logUnavailable(error);
  }

  const gaps: Gap[] = [];
  results.forEach((result, i) => {
    if (result.kind === 'gap') {
      gaps.push({ channel: channels[i]!, resumeAfter: result.resumeAfter, missed: result.missed, reason: result.reason });
    }
  });
  if (gaps.length > 0) {
    const next = new Map(positions);
    for (const gap of gaps) next.set(gap.channel, gap.resumeAfter);
    return { events: [], positions: next, more: false, gaps };
  }

  return mergeFairly(channels, results as ReadonlyArray<Extract<ReadResult, { kind: 'events' }>>, positions, limit, maxBytes);
}

/**
 * Merge the channels' reads into one answer within `limit` events and `maxBytes`, fairly: the
 * channels take turns, one event each per round, so a busy channel cannot starve a quiet one
 * (each channel with events gets at least one into every answer that has room for it). Within a
 * channel the order is exact and nothing is skipped: a channel stops at its first event that no
 * longer fits. The answer lists each channel's events together, in the poll's channel order.
 */
export function mergeFairly(
  channels: readonly string[],
  results: ReadonlyArray<Extract<ReadResult, { kind: 'events' }>>,
  positions: ReadonlyMap<string, string>,
  limit: number,
  maxBytes: number,
): Batch {
  const taken = new Array<number>(channels.length).fill(0);
  const stopped = new Array<boolean>(channels.length).fill(false);
  let count = 0;
  let bytes = 0;
  let open = channels.length;
  while (open > 0 && count < limit) {
    for (let i = 0; i < channels.length && count < limit; i++) {
      if (stopped[i]) continue;
      const event = results[i]!.events[taken[i]!];
      const size = event === undefined ? 0 : envelopeBytes(channels[i]!, event.position) + utf8Length(event.json);
      // The first event of an answer always goes in: the log bounds event sizes at append.
      if (event === undefined || (count > 0 && bytes + size > maxBytes)) {
        stopped[i] = true;
        open--;
        continue;
      }
      bytes += size;
      taken[i]!++;
      count++;
    }
  }
  if (count === 0) return { events: NO_EVENTS, positions, more: false, gaps: NO_GAPS };
  const events: DeliveredEvent[] = [];
  const next = new Map(positions);
  let more = false;
  results.forEach((result, i) => {
    const channel = channels[i]!;
    for (let k = 0; k < taken[i]!; k++) events.push({ channel, event: result.events[k]! });
    if (taken[i]! > 0) next.set(channel, result.events[taken[i]! - 1]!.position);
    if (result.more || taken[i]! < result.events.length) more = true;
  });
  return { events, positions: next, more, gaps: NO_GAPS };
}

function readTimeout(ms: number): HangtimeError {
  return logUnavailable(new Error(`The log did not answer within ${Math.round(ms)} ms`));
}

export function logUnavailable(error: unknown): HangtimeError {
  return new HangtimeError('log_unavailable', 503, 'The event log did not answer in time', {
    cause: error,
    retryAfterSeconds: 1,
  });
}
