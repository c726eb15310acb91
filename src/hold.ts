import type { Budget, WakeReason } from './budget.js';
import type { HoldTimer, HoldTimers, Timed } from './hold-timers.js';
import type { EventLog, WaitSink, WaitTarget } from './log.js';
import { emptyBatch, logUnavailable, readInto, type Batch, type ReadBounds, type ReadInput, type ReadSink } from './read.js';
import { ONCE, Trigger } from './signal.js';

export { envelopeBytes, mergeFairly } from './read.js';
export type { Batch, DeliveredEvent, Gap } from './read.js';

/** What every hold of an instance shares (from its settings). */
export interface HoldShared {
  readonly log: EventLog;
  /** Longest a single log read may take before the poll fails with `log_unavailable`. */
  readonly logTimeoutMs: number;
  readonly now: () => number;
  /** An instant of `now`, taken when the instance was made: the holds keep their times from it,
   * as 32-bit whole numbers (see `Holder.clock`). */
  readonly clockBase: number;
  /** The instance's timers (the global ones unless `createHangtime({ timers })`). */
  readonly holdTimers: HoldTimers;
}

export interface HoldOutcome {
  readonly batch: Batch;
  readonly reason: WakeReason;
  readonly heldMs: number;
}

/**
 * Where a hold delivers its outcome (exactly one of the two is called, once), and the signal
 * that ends it early: it fires when the client leaves or the server shuts down (a HeldPoll in
 * admission.ts). The holder listens to it with itself, so the hold needs no field for it.
 */
export interface HoldSink extends Trigger {
  /** The outcome, as arguments: a {@link HoldOutcome} object per poll only where one is kept. */
  held(batch: Batch, reason: WakeReason, heldMs: number): void;
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
 * The outcome goes to `sink` rather than to a promise (see `Poller` in poll.ts). Never throws.
 */
export function holdInto(
  shared: HoldShared,
  /** Where each channel of the poll stands (already resolved: no missing channel). */
  positions: ReadonlyMap<string, string>,
  /** Events and bytes an answer may take, and by when the reads must be done. */
  bounds: ReadBounds,
  budget: Budget,
  sink: HoldSink,
): void {
  try {
    const holder = new Holder(shared, positions, bounds, budget, sink);
    if (budget.budgetMs > 0) holder.wait();
    else holder.readOnce();
  } catch (error) {
    // Nothing above throws by design; if something does, the sink still hears of it.
    sink.failed(logUnavailable(error));
  }
}

/**
 * One hold in progress, as one object rather than a chain of closures and promises: with
 * thousands of polls held, what each keeps alive is what the garbage collector walks, and
 * that was most of a fan-out's server CPU (docs/benchmarks.md). The holder keeps the poll's own
 * fields (not its {@link Budget}) and is the input of its reads (ReadInput) and their sink
 * (ReadSink: a read shared by many polls reaches them all without a promise per poll). It is
 * also the signal (a Trigger) of the log's first wait, fired when the timer or the client ends
 * it; the sink of that wait (`woken`); and the listener of its own sink,
 * which fires when the client leaves or the server shuts down (`handleEvent`, which `Trigger`
 * calls on listener objects).
 */
class Holder extends Trigger implements WaitSink, ReadInput, ReadSink, Timed {
  // A field is 8 bytes per held poll: what every hold of an instance shares is reached through
  // `#shared`, the bounds are one object for all polls of the same bounds, and there are no
  // `#private` methods (V8 gives each instance of a class with one a brand field; `private` is
  // TypeScript's, checked at build time).
  readonly positions: ReadonlyMap<string, string>;
  readonly bounds: ReadBounds;
  readonly #shared: HoldShared;
  /** Whole milliseconds (see wholeMs). */
  readonly #budgetMs: number;
  readonly #limitedBy: Budget['limitedBy'];
  readonly #sink: HoldSink;
  /** On the instance's clock (see `clock`). */
  readonly #startedAt: number;
  #timer: HoldTimer;
  /** @internal Neighbours in its timer slot (src/hold-timers.ts). */
  previousLink: Holder | undefined;
  /** @internal */
  nextLink: Holder | undefined;
  /** The signal of the current `waitFor`: this holder for the first, a Trigger after a spurious wake. */
  #logSignal: Holder | Trigger | undefined;
  #waiting = false;
  #spuriousWakes = 0;

  constructor(shared: HoldShared, positions: ReadonlyMap<string, string>, bounds: ReadBounds, budget: Budget, sink: HoldSink) {
    super();
    this.positions = positions;
    this.bounds = bounds;
    this.#shared = shared;
    this.#budgetMs = wholeMs(budget.budgetMs);
    this.#limitedBy = budget.limitedBy;
    this.#sink = sink;
    this.#startedAt = this.clock();
  }

  /**
   * Now, in whole ms from the instance's `clockBase`, as a 32-bit integer: V8 keeps it in the
   * field itself, where an epoch instant (or a fraction) is a heap number boxed per held poll.
   * It wraps after 24.8 days; {@link elapsedMs} is exact across the wrap (holds last minutes).
   */
  private clock(): number {
    return (this.#shared.now() - this.#shared.clockBase) | 0;
  }

  /** Milliseconds since the hold started. */
  private elapsedMs(): number {
    return (this.clock() - this.#startedAt) | 0;
  }

  // The rest of ReadInput, from what every hold shares.
  get log(): EventLog {
    return this.#shared.log;
  }

  get logTimeoutMs(): number {
    return this.#shared.logTimeoutMs;
  }

  get now(): () => number {
    return this.#shared.now;
  }

  get timers(): HoldTimers {
    return this.#shared.holdTimers;
  }

  /** No budget: one read, whatever it finds. */
  readOnce(): void {
    readInto(this, this);
  }

  /** What a read found (the ReadSink side): after a wake, or the one read of a poll without budget. */
  read(batch: Batch): void {
    if (batch.gaps.length > 0) this.finish(batch, 'gap');
    else if (batch.events.length > 0) this.finish(batch, 'events');
    else if (this.#budgetMs <= 0) this.finish(batch, this.#sink.aborted ? 'abort' : this.#limitedBy);
    // A spurious wake found nothing: wait for what is left of the budget.
    else this.waitAgain();
  }

  readFailed(error: unknown): void {
    this.#sink.failed(error);
  }

  /** Wait for the log to say that events follow the positions, for what is left of the budget. */
  wait(): void {
    if (this.#sink.aborted) return this.finish(emptyBatch(this.positions), 'abort');
    const remainingMs = this.remainingMs();
    if (remainingMs <= 0) return this.finish(emptyBatch(this.positions), this.#limitedBy);
    this.#waiting = true;
    // The timer and the client's abort end the wait themselves, not only through the log: a
    // log that fails to honour an abort cannot hold the poll past its budget.
    this.#timer = this.#shared.holdTimers.start(this, remainingMs);
    // The sink calls `handleEvent` on the holder when the client leaves: no closure per hold.
    this.#sink.addEventListener('abort', this, ONCE);
    const signal = this.#logSignal === undefined ? this : new Trigger();
    this.#logSignal = signal;
    const { log } = this.#shared;
    const targets = targetsOf(this.positions);
    try {
      // A log with `waitInto` (those of this package) reports to the holder itself, with no
      // promise per wait; any other log through its `waitFor` promise.
      if (log.waitInto !== undefined) return log.waitInto(targets, signal, this);
      this.waitForPromise(log, targets, signal);
    } catch (error) {
      // A log whose wait throws instead of rejecting.
      this.failed(logUnavailable(error));
    }
  }

  /** A log without `waitInto`. Apart from `wait`: a function with closures allocates their
   * context on every call, whichever branch runs. */
  private waitForPromise(log: EventLog, targets: readonly WaitTarget[], signal: Trigger): void {
    log.waitFor(targets, signal).then(
      (woken) => this.woken(woken),
      (error: unknown) => this.failed(logUnavailable(error)),
    );
  }

  /** The log's answer to the current wait (the WaitSink side). */
  woken(woken: boolean): void {
    // `true` after the wait was ended (timer, client) is stale: the hold has moved on.
    this.afterWait(woken && this.#logSignal?.aborted === false);
  }

  /** What is left of the budget (the WaitSink side: a blocking log sizes its command with it). */
  remainingMs(): number {
    return this.#budgetMs - this.elapsedMs();
  }

  /** The client left, or the server shuts down (the sink fired). */
  handleEvent(): void {
    if (this.stopWaiting()) this.finish(emptyBatch(this.positions), 'abort');
  }

  /** The budget ran out. */
  timedOut(): void {
    if (this.stopWaiting()) this.finish(emptyBatch(this.positions), this.#limitedBy);
  }

  private afterWait(woken: boolean): void {
    if (!this.stopWaiting()) return;
    if (!woken) return this.finish(emptyBatch(this.positions), this.#limitedBy);
    readInto(this, this);
  }

  /**
   * Wait again after a wake that found nothing to read. One such wake is normal (a wake-up for
   * events another poll's shared read already covered); a log that keeps waking without events
   * (stale knowledge after a failover, a bug) must not turn the hold into a loop of reads, so
   * from the second on the hold backs off, 25 ms doubling up to 1 s, within its budget.
   */
  private waitAgain(): void {
    this.#spuriousWakes++;
    if (this.#spuriousWakes < 2) return this.wait();
    const delayMs = Math.min(1_000, 25 * 2 ** (this.#spuriousWakes - 2), Math.max(0, this.remainingMs()));
    this.#shared.holdTimers.timers.setTimeout((holder: Holder) => holder.wait(), delayMs, this);
  }

  private failed(error: unknown): void {
    if (this.stopWaiting()) this.#sink.failed(error);
  }

  /** Release the timer and every listener; false when the wait had already ended. */
  private stopWaiting(): boolean {
    if (!this.#waiting) return false;
    this.#waiting = false;
    this.#shared.holdTimers.stop(this, this.#timer);
    this.#sink.removeEventListener('abort', this);
    this.#logSignal?.fire();
    return true;
  }

  private finish(batch: Batch, reason: WakeReason): void {
    this.#sink.held(batch, reason, this.elapsedMs());
  }
}

/** What each set of positions waits on, built once per positions map (shared by the polls
 * that carry the same cursor). */
const targets = new WeakMap<ReadonlyMap<string, string>, WaitTarget[]>();

function targetsOf(positions: ReadonlyMap<string, string>): WaitTarget[] {
  let list = targets.get(positions);
  if (list === undefined) targets.set(positions, (list = [...positions].map(([channel, after]) => ({ channel, after }))));
  return list;
}

/** A budget in whole milliseconds, so that the holder keeps it unboxed (one fraction would make
 * V8 box the field in every holder): rounded down (a hold ends at most 1 ms early), but a budget
 * under 1 ms is 1 ms rather than no hold (well within the safety margin before any deadline);
 * no budget stays 0. */
function wholeMs(budgetMs: number): number {
  if (budgetMs >= 1) return Math.floor(budgetMs);
  return budgetMs > 0 ? 1 : 0;
}
