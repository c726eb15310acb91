import { PromisedPoll, type Admission, type HeldPoll } from './admission.js';
import { ANSWER_OVERHEAD_BYTES } from './answer.js';
import { holdBudget } from './budget.js';
import { decodeCursor } from './cursor.js';
import { HangtimeError } from './errors.js';
import { holdInto, type HoldInput, type HoldOutcome } from './hold.js';
import type { HandlerContext } from './http.js';
import type { StartFrom } from './log.js';
import type { Settings } from './settings.js';
import type { SignalLike } from './signal.js';
import { withTimeout } from './timeout.js';

/** One poll, from an HTTP query or from `wait()`. */
export interface PollInput {
  channels: readonly string[];
  cursor: string | undefined;
  from: StartFrom;
  clientWaitMs: number | undefined;
  limit: number;
  context: HandlerContext;
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

  constructor(
    readonly settings: Settings,
    readonly admission: Admission,
  ) {}

  /**
   * Start a poll's hold; the outcome goes to `sink`. Throws (synchronously) only before the
   * poll is entered in the admission (too many waiters, a bad cursor); from then on every
   * outcome, errors included, reaches the sink, which counts the poll out.
   */
  pollInto(input: PollInput, sink: HeldPoll): void {
    this.admission.assertRoom();
    const margin = input.context.safetyMarginMs ?? this.settings.safetyMarginMs;
    // Log calls finish half the margin before the deadline: the other half is for answering.
    const readBy = input.context.deadline === undefined ? undefined : input.context.deadline - margin / 2;
    const start = this.#startPositions(input.channels, input.cursor, input.from, readBy);
    // From here the poll ends with its client's signal or the shutdown: the hold listens to the
    // sink, which listens to the client.
    this.admission.enter(sink, input.signal);
    if (!(start instanceof Promise)) return holdInto(this.settings, this.#holdInput(input, start, margin, readBy), sink);
    start.then(
      (positions) => holdInto(this.settings, this.#holdInput(input, positions, margin, readBy), sink),
      (error: unknown) => sink.failed(error),
    );
  }

  /** {@link pollInto} as a promise. Throws like it, synchronously. */
  poll(input: PollInput): Promise<HoldOutcome> {
    let sink: PromisedPoll | undefined;
    const outcome = new Promise<HoldOutcome>((resolve, reject) => (sink = new PromisedPoll(resolve, reject)));
    this.pollInto(input, sink!);
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
    if (last !== undefined && sameChannels(last, channels) && channels.every((channel, i) => last.get(channel) === starts[i])) return last;
    const positions = new Map(channels.map((channel, i) => [channel, starts[i]!]));
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

  /** The hold's own input: the holder copies its fields, so this object dies young. */
  #holdInput(input: PollInput, positions: ReadonlyMap<string, string>, margin: number, readBy: number | undefined): HoldInput {
    const { context } = input;
    const settings = this.settings;
    return {
      positions,
      budget: holdBudget({
        now: settings.now(),
        maxWaitMs: settings.maxWaitMs,
        // The adapter's cap (context.maxWaitMs) is one more cap of the same kind as the client's.
        clientWaitMs: context.maxWaitMs === undefined ? input.clientWaitMs : Math.min(input.clientWaitMs ?? Infinity, context.maxWaitMs),
        deadline: context.deadline,
        safetyMarginMs: margin,
        minHoldMs: settings.minHoldMs,
        random: settings.random(),
      }),
      limit: input.limit,
      maxBytes: Math.min(settings.maxResponseBytes, context.maxResponseBytes ?? Infinity) - ANSWER_OVERHEAD_BYTES,
      readBy,
    };
  }
}

const NO_POSITIONS: ReadonlyMap<string, string> = new Map();

/** Whether the cursor names exactly the poll's channels, in the same order (the usual case). */
function sameChannels(known: ReadonlyMap<string, string>, channels: readonly string[]): boolean {
  if (known.size !== channels.length) return false;
  let i = 0;
  for (const channel of known.keys()) if (channel !== channels[i++]) return false;
  return true;
}
