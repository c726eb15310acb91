import type { Budget, WakeReason } from './budget.js';
import { HangtimeError, isHangtimeError } from './errors.js';
import { utf8Length, type EventLog, type GapReason, type ReadResult, type StoredEvent, type WaitSink, type WaitTarget } from './log.js';
import { Trigger, takesListenerObjects, type SignalLike } from './signal.js';
import { withTimeout } from './timeout.js';

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

export interface HoldInput {
  readonly log: EventLog;
  /** Where each channel of the poll stands (already resolved: no missing channel). */
  readonly positions: ReadonlyMap<string, string>;
  readonly budget: Budget;
  /** The client's disconnect (or the caller's cancellation). */
  readonly signal?: SignalLike | undefined;
  readonly limit: number;
  /** Bytes the delivered events may take in the answer, envelopes included. */
  readonly maxBytes: number;
  /** Longest a single log read may take before the poll fails with `log_unavailable`. */
  readonly logTimeoutMs: number;
  /** Instant (epoch ms) by which every log read must be done, when the platform sets one. */
  readonly readBy?: number | undefined;
  readonly now: () => number;
}

/**
 * What one read of a poll's channels found. Immutable and possibly shared: polls with the
 * same positions that read at the same time share one batch (see `readAll`).
 */
export interface Batch {
  readonly events: readonly DeliveredEvent[];
  /** Positions after the delivered events (the gap's resume points for a gap). */
  readonly positions: ReadonlyMap<string, string>;
  readonly more: boolean;
  readonly gaps: readonly Gap[];
}

export interface HoldOutcome {
  readonly batch: Batch;
  readonly reason: WakeReason;
  readonly heldMs: number;
}

/** Bytes an event takes in the answer beyond its data: `{"channel":"…","position":"…","data":…},`. */
export const envelopeBytes = (channel: string, position: string): number => 33 + channel.length + position.length;

/** Where a hold delivers its outcome: exactly one of the two is called, once. */
export interface HoldSink {
  held(outcome: HoldOutcome): void;
  failed(error: unknown): void;
}

/**
 * The hold: wait until the log says events follow the positions (at once when they already
 * do), then read them; or answer empty when the budget runs out or the client leaves.
 *
 * Race-free by construction: `log.waitFor` is defined by positions ("resolve if anything
 * follows `after`, now or later", a gap included), not by the moment the wait starts, so an
 * append that lands at any moment around the call wakes the waiter instead of being missed.
 * Waiting first (rather than reading first) means a poll with nothing to read, the usual
 * re-poll after an answer, costs the log no read at all.
 *
 * The outcome goes to `sink` rather than to a promise (see `respondInto` in hangtime.ts). Never throws.
 */
export function holdInto(input: HoldInput, sink: HoldSink): void {
  try {
    if (input.budget.budgetMs > 0) return new Holder(input, sink).wait();
    // No budget: one read, whatever it finds.
    const startedAt = input.now();
    readAll(input).then(
      (batch) =>
        sink.held({
          batch,
          reason: batch.gaps.length > 0 ? 'gap' : batch.events.length > 0 ? 'events' : input.signal?.aborted ? 'abort' : input.budget.limitedBy,
          heldMs: input.now() - startedAt,
        }),
      (error: unknown) => sink.failed(error),
    );
  } catch (error) {
    // Nothing above throws by design; if something does, the sink still hears of it.
    sink.failed(logUnavailable(error));
  }
}

/**
 * One hold in progress, as one object rather than a chain of closures and promises: with
 * thousands of polls held, what each keeps alive is what the garbage collector walks, and
 * that was most of a fan-out's server CPU (docs/benchmarks.md). The holder is also the signal
 * (a Trigger) of the log's first wait, fired when the timer or the client ends it; the sink of
 * that wait (`woken`); and the listener of the client's signal (`handleEvent`, which the DOM's
 * EventTarget and `Trigger` call on listener objects).
 */
class Holder extends Trigger implements WaitSink {
  readonly #input: HoldInput;
  readonly #sink: HoldSink;
  readonly #startedAt: number;
  #timer: ReturnType<typeof setTimeout> | Slot | undefined;
  /** The signal of the current `waitFor`: this holder for the first, a Trigger after a spurious wake. */
  #logSignal: Holder | Trigger | undefined;
  #clientListener: (() => void) | Holder | undefined;
  #waiting = false;
  #spuriousWakes = 0;

  constructor(input: HoldInput, sink: HoldSink) {
    super();
    this.#input = input;
    this.#sink = sink;
    this.#startedAt = input.now();
  }

  /** Wait for the log to say that events follow the positions, for what is left of the budget. */
  wait(): void {
    const input = this.#input;
    const client = input.signal;
    if (client?.aborted) return this.#finish(emptyBatch(input.positions), 'abort');
    const remainingMs = this.#startedAt + input.budget.budgetMs - input.now();
    if (remainingMs <= 0) return this.#finish(emptyBatch(input.positions), input.budget.limitedBy);
    this.#waiting = true;
    // The timer and the client's abort end the wait themselves, not only through the log: a
    // log that fails to honour an abort cannot hold the poll past its budget.
    this.#timer = startTimer(this, remainingMs);
    if (client !== undefined) {
      // A Trigger or an AbortSignal calls `handleEvent` on a listener object: no closure per hold.
      this.#clientListener = takesListenerObjects(client) ? this : () => this.handleEvent();
      client.addEventListener('abort', this.#clientListener as () => void, { once: true });
    }
    const signal = this.#logSignal === undefined ? this : new Trigger();
    this.#logSignal = signal;
    const { log } = input;
    const targets = targetsOf(input.positions);
    try {
      // A log with `waitInto` (those of this package) reports to the holder itself, with no
      // promise per wait; any other log through its `waitFor` promise.
      if (log.waitInto !== undefined) return log.waitInto(targets, signal, this);
      log.waitFor(targets, signal).then(
        (woken) => this.woken(woken),
        (error: unknown) => this.#failed(logUnavailable(error)),
      );
    } catch (error) {
      // A log whose wait throws instead of rejecting.
      this.#failed(logUnavailable(error));
    }
  }

  /** The log's answer to the current wait (the WaitSink side). */
  woken(woken: boolean): void {
    // `true` after the wait was ended (timer, client) is stale: the hold has moved on.
    this.#woken(woken && this.#logSignal?.aborted === false);
  }

  /** What is left of the budget (the WaitSink side: a blocking log sizes its command with it). */
  remainingMs(): number {
    return this.#startedAt + this.#input.budget.budgetMs - this.#input.now();
  }

  /** The client left. */
  handleEvent(): void {
    if (this.#stopWaiting()) this.#finish(emptyBatch(this.#input.positions), 'abort');
  }

  /** The budget ran out. */
  timedOut(): void {
    if (this.#stopWaiting()) this.#finish(emptyBatch(this.#input.positions), this.#input.budget.limitedBy);
  }

  #woken(woken: boolean): void {
    if (!this.#stopWaiting()) return;
    const input = this.#input;
    if (!woken) return this.#finish(emptyBatch(input.positions), input.budget.limitedBy);
    readAll(input).then(
      (batch) => {
        if (batch.gaps.length > 0) this.#finish(batch, 'gap');
        else if (batch.events.length > 0) this.#finish(batch, 'events');
        // A spurious wake found nothing: wait for what is left of the budget.
        else this.#waitAgain();
      },
      (error: unknown) => this.#sink.failed(error),
    );
  }

  /**
   * Wait again after a wake that found nothing to read. One such wake is normal (a wake-up for
   * events another poll's shared read already covered); a log that keeps waking without events
   * (stale knowledge after a failover, a bug) must not turn the hold into a loop of reads, so
   * from the second on the hold backs off, 25 ms doubling up to 1 s, within its budget.
   */
  #waitAgain(): void {
    this.#spuriousWakes++;
    if (this.#spuriousWakes < 2) return this.wait();
    const remainingMs = this.#startedAt + this.#input.budget.budgetMs - this.#input.now();
    const delayMs = Math.min(1_000, 25 * 2 ** (this.#spuriousWakes - 2), Math.max(0, remainingMs));
    setTimeout(() => this.wait(), delayMs);
  }

  #failed(error: unknown): void {
    if (this.#stopWaiting()) this.#sink.failed(error);
  }

  /** Release the timer and every listener; false when the wait had already ended. */
  #stopWaiting(): boolean {
    if (!this.#waiting) return false;
    this.#waiting = false;
    stopTimer(this, this.#timer);
    if (this.#clientListener !== undefined) this.#input.signal?.removeEventListener('abort', this.#clientListener as () => void);
    this.#clientListener = undefined;
    this.#logSignal?.fire();
    return true;
  }

  #finish(batch: Batch, reason: WakeReason): void {
    this.#sink.held({ batch, reason, heldMs: this.#input.now() - this.#startedAt });
  }
}

/** The answer of a poll that found nothing: one batch per positions map, so the polls that
 * carry the same cursor share its cursor and body too (see `cursorOf` in hangtime.ts). */
const NO_GAPS: readonly Gap[] = Object.freeze([]);
const NO_EVENTS: readonly DeliveredEvent[] = Object.freeze([]);
const emptyBatches = new WeakMap<ReadonlyMap<string, string>, Batch>();

function emptyBatch(positions: ReadonlyMap<string, string>): Batch {
  let batch = emptyBatches.get(positions);
  if (batch === undefined) emptyBatches.set(positions, (batch = { events: NO_EVENTS, positions, more: false, gaps: NO_GAPS }));
  return batch;
}

/**
 * Hold timers. Holds of a second or less get a timer each. Longer ones (the usual hold) end on
 * a 50 ms grid, never later than their budget, and share one Node timer per grid slot: a slot
 * is a set of holders, so a held poll costs a set entry instead of a Timeout object, and the
 * poll that ends early (woken, or its client left) a set deletion instead of a timer-list
 * removal. A slot left empty stops its timer, so nothing keeps the process alive.
 */
interface Slot {
  readonly at: number;
  readonly holders: Set<Holder>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const SLOT_MS = 50;
const slots = new Map<number, Slot>();

function startTimer(holder: Holder, remainingMs: number): ReturnType<typeof setTimeout> | Slot {
  if (remainingMs <= 1_000) return setTimeout(onHoldTimer, remainingMs, holder);
  const now = Date.now();
  const at = Math.floor((now + remainingMs) / SLOT_MS) * SLOT_MS;
  let slot = slots.get(at);
  if (slot === undefined) {
    slot = { at, holders: new Set(), timer: undefined };
    slot.timer = setTimeout(onSlotTimer, at - now, slot);
    slots.set(at, slot);
  }
  slot.holders.add(holder);
  return slot;
}

function stopTimer(holder: Holder, timer: ReturnType<typeof setTimeout> | Slot | undefined): void {
  if (timer === undefined) return;
  if (!isSlot(timer)) return clearTimeout(timer);
  timer.holders.delete(holder);
  if (timer.holders.size === 0 && slots.get(timer.at) === timer) {
    clearTimeout(timer.timer);
    slots.delete(timer.at);
  }
}

function isSlot(timer: ReturnType<typeof setTimeout> | Slot): timer is Slot {
  return typeof timer === 'object' && timer !== null && 'holders' in timer;
}

function onHoldTimer(holder: Holder): void {
  holder.timedOut();
}

function onSlotTimer(slot: Slot): void {
  slots.delete(slot.at);
  // timedOut() removes each holder from the set (stopTimer): iterate a copy.
  for (const holder of [...slot.holders]) holder.timedOut();
}

/** What each set of positions waits on, built once per positions map (shared by the polls
 * that carry the same cursor). */
const targets = new WeakMap<ReadonlyMap<string, string>, WaitTarget[]>();

function targetsOf(positions: ReadonlyMap<string, string>): WaitTarget[] {
  let list = targets.get(positions);
  if (list === undefined) targets.set(positions, (list = [...positions].map(([channel, after]) => ({ channel, after }))));
  return list;
}

// Reads in flight, per log, by what they read. When a publish wakes N polls that share a
// cursor (a fan-out), or N clients re-poll with the cursor they all just got, one read and
// one batch serve them all instead of N. Sharing is safe whatever the timing: a poll that
// joins a read started just before an append gets a batch without that event, and a cursor
// that says so, so its next poll (or its wait, which is defined by positions) picks it up.
const inflight = new WeakMap<EventLog, Map<string, Promise<Batch>>>();

/** Read every channel after its position and merge, within the count and byte bounds. */
function readAll(input: HoldInput): Promise<Batch> {
  let byKey = inflight.get(input.log);
  if (byKey === undefined) inflight.set(input.log, (byKey = new Map()));
  let key = `${input.limit}/${input.maxBytes}`;
  for (const [channel, position] of input.positions) key += `,${channel}=${position}`;
  let shared = byKey.get(key);
  if (shared === undefined) {
    const reads = byKey;
    // Bounded by logTimeoutMs, so a hung read cannot keep its key busy for later polls.
    shared = readAllNow(input, input.logTimeoutMs).finally(() => reads.delete(key));
    byKey.set(key, shared);
  }
  // A poll whose platform deadline comes sooner gives up sooner, on its own.
  const ownMs = input.readBy === undefined ? Infinity : input.readBy - input.now();
  return ownMs >= input.logTimeoutMs ? shared : withTimeout(shared, Math.max(1, ownMs), () => readTimeout(ownMs));
}

async function readAllNow(input: HoldInput, timeoutMs: number): Promise<Batch> {
  const { log, positions, limit, maxBytes } = input;
  const channels = [...positions.keys()];
  let results: readonly ReadResult[];
  try {
    const options = { limit, maxBytes };
    // One channel (the usual poll) needs no Promise.all.
    const reads =
      channels.length === 1
        ? log.read(channels[0]!, positions.get(channels[0]!)!, options).then((result) => [result])
        : Promise.all(channels.map((channel) => log.read(channel, positions.get(channel)!, options)));
    results = await withTimeout(reads, timeoutMs, () => readTimeout(timeoutMs));
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

function logUnavailable(error: unknown): HangtimeError {
  return new HangtimeError('log_unavailable', 503, 'The event log did not answer in time', {
    cause: error,
    retryAfterSeconds: 1,
  });
}
