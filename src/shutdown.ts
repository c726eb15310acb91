import { HangtimeError, isHangtimeError } from './errors.js';
import type { HoldOutcome, HoldSink } from './hold.js';
import { Trigger, takesListenerObjects, type SignalLike } from './signal.js';

/** What a held poll's signal fires with when the server shuts down (its `reason`). */
const SHUTDOWN = Symbol('hangtime.shutdown');

/**
 * The shutdown of one hangtime instance: the polls it holds, and whether it still takes new
 * ones. `close()` ends every held poll at once (each gets its normal empty answer and cursor,
 * reason `shutdown`, so its client re-polls from where it was and loses nothing) and resolves
 * when every poll counted so far has its answer; from then on, and already while it waits,
 * polls and publishes are refused with a retryable 503 `shutting_down`.
 *
 * @example
 * const shutdown = new Shutdown();
 * shutdown.assertOpen(); // throws the 503 once close() was called
 * await shutdown.close();
 */
export class Shutdown {
  #closing = false;
  /** The held polls, as a list threaded through them: adding and removing one allocates
   * nothing and hashes nothing, on the path every poll takes. */
  #first: HeldPoll | undefined;
  #count = 0;
  #drained: (() => void) | undefined;

  constructor(private readonly retryAfterSeconds: () => number) {}

  get closing(): boolean {
    return this.#closing;
  }

  /** Throws the 503 `shutting_down` for a request that arrives once closing has begun. */
  assertOpen(): void {
    if (this.#closing) {
      throw new HangtimeError('shutting_down', 503, 'This server is shutting down', { retryAfterSeconds: this.retryAfterSeconds() });
    }
  }

  /** Count `poll` as held until its outcome, ending with its client's signal or the shutdown. */
  track(poll: HeldPoll, client: SignalLike | undefined): void {
    poll.next = this.#first;
    if (this.#first !== undefined) this.#first.previous = poll;
    this.#first = poll;
    this.#count++;
    poll.listen(this, client);
  }

  /** @internal `poll` has its outcome: unlink it. Called once per tracked poll. */
  release(poll: HeldPoll): void {
    const { previous, next } = poll;
    if (previous === undefined) this.#first = next;
    else previous.next = next;
    if (next !== undefined) next.previous = previous;
    poll.previous = poll.next = undefined;
    if (--this.#count === 0) this.#drained?.();
  }

  /** End every held poll now; resolve once each has its outcome (reads in flight finish first). */
  close(): Promise<void> {
    this.#closing = true;
    // Firing a poll's signal usually answers it at once, unlinking it: collect them first.
    const polls: HeldPoll[] = [];
    for (let poll = this.#first; poll !== undefined; poll = poll.next) polls.push(poll);
    for (const poll of polls) poll.fire(SHUTDOWN);
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#drained = resolve));
  }
}

/** Whether `error` is the refusal of a request during shutdown (expected: not for `onError`). */
export function isShuttingDown(error: unknown): boolean {
  return isHangtimeError(error) && error.code === 'shutting_down';
}

/**
 * One held poll, from when it is counted until its outcome: the sink of its hold, and the
 * signal the hold listens to, fired when the client leaves or the server shuts down. One object
 * per poll (the answer's sink itself on the usual path, see PollSink in hangtime.ts) rather than
 * an AbortController and closures: thousands are held at once (src/signal.ts says what those cost).
 */
export abstract class HeldPoll extends Trigger implements HoldSink {
  /** @internal Neighbours in the shutdown's list of held polls. */
  previous: HeldPoll | undefined;
  /** @internal */
  next: HeldPoll | undefined;
  #shutdown: Shutdown | undefined;
  #client: SignalLike | undefined;
  #clientListener: HeldPoll | (() => void) | undefined;

  /** Deliver the outcome (its reason is `shutdown` when the shutdown ended the hold). */
  protected abstract deliver(outcome: HoldOutcome): void;
  protected abstract deliverError(error: unknown): void;

  /** @internal Called by {@link Shutdown.track}. */
  listen(shutdown: Shutdown, client: SignalLike | undefined): void {
    this.#shutdown = shutdown;
    if (client === undefined) return;
    if (client.aborted) return this.fire();
    this.#client = client;
    // A Trigger or an AbortSignal calls `handleEvent` on a listener object: no closure per poll.
    this.#clientListener = takesListenerObjects(client) ? this : () => this.handleEvent();
    client.addEventListener('abort', this.#clientListener as () => void, { once: true });
  }

  /** The client left. */
  handleEvent(): void {
    this.fire();
  }

  held(outcome: HoldOutcome): void {
    this.#release();
    // The hold ends as for a client that left ('abort'); the answer says why it really ended.
    this.deliver(this.reason === SHUTDOWN && outcome.reason === 'abort' ? { ...outcome, reason: 'shutdown' } : outcome);
  }

  failed(error: unknown): void {
    this.#release();
    this.deliverError(error);
  }

  #release(): void {
    if (this.#clientListener !== undefined) this.#client?.removeEventListener('abort', this.#clientListener as () => void);
    this.#clientListener = undefined;
    this.#shutdown?.release(this);
    this.#shutdown = undefined;
  }
}

/** A held poll whose outcome settles a promise (`wait()`, and polls after an async `authorize`). */
export class PromisedPoll extends HeldPoll {
  constructor(
    readonly resolve: (outcome: HoldOutcome) => void,
    readonly reject: (error: unknown) => void,
  ) {
    super();
  }

  protected deliver(outcome: HoldOutcome): void {
    this.resolve(outcome);
  }

  protected deliverError(error: unknown): void {
    this.reject(error);
  }
}
