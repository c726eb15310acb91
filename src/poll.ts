import { PromisedPoll, type Admission, type HeldPoll } from './admission.js';
import { ANSWER_OVERHEAD_BYTES } from './answer.js';
import { holdBudget, type Budget } from './budget.js';
import { decodeCursor } from './cursor.js';
import { HangtimeError } from './errors.js';
import { holdInto, type HoldOutcome } from './hold.js';
import type { HandlerContext } from './http.js';
import type { StartFrom } from './log.js';
import type { ReadBounds } from './read.js';
import type { Settings } from './settings.js';
import type { SignalLike } from './signal.js';
import { withTimeout } from './timeout.js';

/** What one poll asks for, from an HTTP query or from `wait()`. The parsed query itself
 * (poll-query.ts), which the polls of the same URL share: no object per poll for it. */
export interface PollInput {
  readonly channels: readonly string[];
  readonly cursor: string | undefined;
  readonly from: StartFrom;
  readonly limit: number;
}

/** The rest of a poll: what belongs to its request. Arguments, not an object per poll. */
export interface PollRequest {
  /** The client's wait, in ms, when it asked for one. */
  readonly clientWaitMs: number | undefined;
  readonly context: HandlerContext;
  /** The client's disconnect: the request's signal, else the context's. The poll's
   * {@link HeldPoll} listens to it (and also ends the hold at shutdown); the hold listens to that. */
  readonly signal: SignalLike | undefined;
}

/**
 * Starting a poll's hold: admission, where each channel starts, the hold's budget. The usual
 * poll is no promise chain at all (route → pollInto → holdInto, and the outcome travels back
 * through sink objects: the Holder, the PollSink, the adapter's Replier). With thousands of
 * holds, what each held poll keeps alive (a suspended frame per async layer, a promise and
 * closures per link) is what the garbage collector walks on every collection
 * (docs/benchmarks.md). Promises remain where they cost little: authorize, publish, wait().
 */
export class Poller {
  /** Decoded cursors, by their text. After a fan-out every client re-polls with the cursor it
   * just got, the same one: decoded once, not N times. Entries are never mutated; the cache is
   * simply dropped when it grows past a bound. */
  readonly #decodedCursors = new Map<string, ReadonlyMap<string, string>>();
  /** The positions of the last poll started without a cursor from what the log knows
   * (never mutated, see #startPositionsKnown). */
  #lastStarted: ReadonlyMap<string, string> | undefined;
  #lastBounds: ReadBounds | undefined;

  constructor(
    readonly settings: Settings,
    readonly admission: Admission,
  ) {}

  /**
   * Start a poll's hold; the outcome goes to `sink`. Throws (synchronously) only before the
   * poll is entered in the admission (too many waiters, a bad cursor); from then on every
   * outcome, errors included, reaches the sink, which counts the poll out.
   */
  pollInto(
    input: PollInput,
    clientWaitMs: PollRequest['clientWaitMs'],
    context: PollRequest['context'],
    signal: PollRequest['signal'],
    sink: HeldPoll,
  ): void {
    this.admission.assertRoom();
    const margin = context.safetyMarginMs ?? this.settings.safetyMarginMs;
    // Log calls finish half the margin before the deadline: the other half is for answering.
    const readBy = context.deadline === undefined ? undefined : context.deadline - margin / 2;
    const start = this.#startPositions(input.channels, input.cursor, input.from, readBy);
    // From here the poll ends with its client's signal or the shutdown: the hold listens to the
    // sink, which listens to the client.
    this.admission.enter(sink, signal);
    const bounds = this.#boundsOf(input.limit, context, readBy);
    if (start instanceof Promise) return this.#holdWhenStarted(start, bounds, clientWaitMs, context, margin, sink);
    holdInto(this.settings, start, bounds, this.#budget(clientWaitMs, context, margin), sink);
  }

  // Apart from pollInto: a function whose closures capture its variables allocates their
  // context on every call, whichever branch runs (about 130 bytes per poll here).
  #holdWhenStarted(
    start: Promise<ReadonlyMap<string, string>>,
    bounds: ReadBounds,
    clientWaitMs: number | undefined,
    context: HandlerContext,
    margin: number,
    sink: HeldPoll,
  ): void {
    start.then(
      (positions) => holdInto(this.settings, positions, bounds, this.#budget(clientWaitMs, context, margin), sink),
      (error: unknown) => sink.failed(error),
    );
  }

  /** {@link pollInto} as a promise. Throws like it, synchronously. */
  poll(input: PollInput, { clientWaitMs, context, signal }: PollRequest): Promise<HoldOutcome> {
    let sink: PromisedPoll | undefined;
    const outcome = new Promise<HoldOutcome>((resolve, reject) => (sink = new PromisedPoll(resolve, reject)));
    this.pollInto(input, clientWaitMs, context, signal, sink!);
    return outcome;
  }

  #decode(cursor: string): ReadonlyMap<string, string> {
    let positions = this.#decodedCursors.get(cursor);
    if (positions === undefined) {
      const { log } = this.settings;
      positions = decodeCursor(cursor, (p) => log.isPosition(p));
      if (this.#decodedCursors.size >= 1_000) this.#decodedCursors.clear();
      this.#decodedCursors.set(cursor, positions);
    }
    return positions;
  }

  /** Where each channel starts: the cursor's position, or `from` for channels it lacks. */
  #startPositions(
    channels: readonly string[],
    cursor: string | undefined,
    from: StartFrom,
    readBy: number | undefined,
  ): ReadonlyMap<string, string> | Promise<ReadonlyMap<string, string>> {
    const known = cursor === undefined ? NO_POSITIONS : this.#decode(cursor);
    // The usual poll: no log call, no promise.
    if (sameChannels(known, channels)) return known;
    return this.#startPositionsKnown(channels, known, from) ?? this.#startPositionsFromLog(channels, known, from, readBy);
  }

  /**
   * Where each channel starts, when the log knows without I/O (`startKnown`): a new client's
   * first poll then holds with no promise or timer. Polls that start at the same positions (a
   * crowd joining a channel) share one map, and with it their wait targets, empty answer and
   * cursor (hold.ts, answer.ts). Undefined when the log must be asked.
   */
  #startPositionsKnown(
    channels: readonly string[],
    known: ReadonlyMap<string, string>,
    from: StartFrom,
  ): ReadonlyMap<string, string> | undefined {
    const { log } = this.settings;
    if (log.startKnown === undefined) return undefined;
    const starts: string[] = [];
    try {
      for (const channel of channels) {
        const position = known.get(channel) ?? log.startKnown(channel, from);
        if (position === undefined) return undefined;
        starts.push(position);
      }
    } catch {
      // A log whose startKnown throws after all: ask `start`, which reports what is wrong.
      return undefined;
    }
    const last = this.#lastStarted;
    if (last !== undefined && sameStarts(last, channels, starts)) return last;
    const positions = new Map<string, string>();
    for (let i = 0; i < channels.length; i++) positions.set(channels[i]!, starts[i]!);
    this.#lastStarted = positions;
    return positions;
  }

  async #startPositionsFromLog(
    channels: readonly string[],
    known: ReadonlyMap<string, string>,
    from: StartFrom,
    readBy: number | undefined,
  ): Promise<ReadonlyMap<string, string>> {
    const { log, logTimeoutMs, now } = this.settings;
    const heads = Promise.all(channels.map((channel) => known.get(channel) ?? log.start(channel, from)));
    // Bounded like every log call: a hung `start` must not hold a poll (and its waiter slot).
    const timeoutMs = Math.max(1, Math.min(logTimeoutMs, (readBy ?? Infinity) - now()));
    let starts: string[];
    try {
      starts = await withTimeout(
        heads,
        timeoutMs,
        () => new Error(`The log did not answer start() within ${Math.round(timeoutMs)} ms`),
        this.settings.holdTimers.timers,
      );
    } catch (error) {
      throw new HangtimeError('log_unavailable', 503, 'The event log did not answer in time', { cause: error, retryAfterSeconds: 1 });
    }
    return new Map(channels.map((channel, i) => [channel, starts[i]!]));
  }

  /** The hold's budget, from now. */
  #budget(clientWaitMs: number | undefined, context: HandlerContext, margin: number): Budget {
    const settings = this.settings;
    return holdBudget({
      now: settings.now(),
      maxWaitMs: settings.maxWaitMs,
      // The adapter's cap (context.maxWaitMs) is one more cap of the same kind as the client's.
      clientWaitMs: context.maxWaitMs === undefined ? clientWaitMs : Math.min(clientWaitMs ?? Infinity, context.maxWaitMs),
      deadline: context.deadline,
      safetyMarginMs: margin,
      minHoldMs: settings.minHoldMs,
      random: settings.random(),
    });
  }

  /** The bounds of a poll: the last poll's object when they are the same (the usual case,
   * where every poll of an instance has the same), so that the held polls share one. */
  #boundsOf(limit: number, context: HandlerContext, readBy: number | undefined): ReadBounds {
    const maxBytes = Math.min(this.settings.maxResponseBytes, context.maxResponseBytes ?? Infinity) - ANSWER_OVERHEAD_BYTES;
    const last = this.#lastBounds;
    if (last !== undefined && last.limit === limit && last.maxBytes === maxBytes && last.readBy === readBy) return last;
    return (this.#lastBounds = { limit, maxBytes, readBy });
  }
}

const NO_POSITIONS: ReadonlyMap<string, string> = new Map();

/** Whether `positions` are `starts` for `channels`, in order. A loop, not `every` with a closure:
 * a function with closures allocates their context on every call (every new client's poll). */
function sameStarts(positions: ReadonlyMap<string, string>, channels: readonly string[], starts: readonly string[]): boolean {
  if (!sameChannels(positions, channels)) return false;
  for (let i = 0; i < channels.length; i++) if (positions.get(channels[i]!) !== starts[i]) return false;
  return true;
}

/** Whether the cursor names exactly the poll's channels, in the same order (the usual case). */
function sameChannels(known: ReadonlyMap<string, string>, channels: readonly string[]): boolean {
  if (known.size !== channels.length) return false;
  // One channel (the usual poll): no iterator object.
  if (channels.length === 1) return known.has(channels[0]!);
  let i = 0;
  for (const channel of known.keys()) if (channel !== channels[i++]) return false;
  return true;
}
