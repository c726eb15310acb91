import { HangtimeError, isHangtimeError } from './errors.js';
import type { WakeReason } from './budget.js';
import type { Batch, HoldOutcome, HoldSink } from './hold.js';
import { Trigger, listen, unlisten, type Listening, type SignalLike } from './signal.js';

/**
 * Which polls one hangtime instance holds, counted in and out in one place: `enter` when a poll
 * starts holding, `leave` (from the poll's own outcome) when it has its answer. It refuses
 * polls over `maxWaiters` (503 `too_many_waiters`) and, once `close()` was called, every poll and
 * publish (503 `shutting_down`). `close()` ends every held poll at once (each gets its normal
 * empty answer and cursor, reason `shutdown`, so its client re-polls from where it was and loses
 * nothing) and resolves when every poll counted so far has its answer.
 *
 * @example
 * const admission = new Admission(10_000, () => 1);
 * admission.assertRoom(); // throws the 503 when full or closing
 * await admission.close();
 */
export class Admission {
  #closing = false;
  /** The held polls, as a list threaded through them: adding and removing one allocates
   * nothing and hashes nothing, on the path every poll takes. */
  #first: HeldPoll | undefined;
  #count = 0;
  #drained: (() => void) | undefined;

  /** @param retryAfterSeconds drawn per refusal: jittered, so refused clients do not all come back together. */
  constructor(
    private readonly maxWaiters: number,
    private readonly retryAfterSeconds: () => number,
  ) {}

  /** Polls held right now. */
  get count(): number {
    return this.#count;
  }

  /** Throws the 503 `shutting_down` for a request that arrives once closing has begun. */
  assertOpen(): void {
    if (this.#closing) {
      throw new HangtimeError('shutting_down', 503, 'This server is shutting down', { retryAfterSeconds: this.retryAfterSeconds() });
    }
  }

  /** Throws a 503 unless one more poll may be held now. */
  assertRoom(): void {
    this.assertOpen();
    if (this.#count >= this.maxWaiters) {
      throw new HangtimeError('too_many_waiters', 503, `This process already holds ${this.maxWaiters} polls`, {
        retryAfterSeconds: this.retryAfterSeconds(),
      });
    }
  }

  /** Count `poll` in until its outcome, ending with its client's signal or the shutdown. */
  enter(poll: HeldPoll, client: SignalLike | undefined): void {
    poll.next = this.#first;
    if (this.#first !== undefined) this.#first.previous = poll;
    this.#first = poll;
    this.#count++;
    poll.listen(this, client);
  }

  /** @internal `poll` has its outcome: count it out. Called once per poll entered. */
  leave(poll: HeldPoll): void {
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
    // Ending a poll usually answers it at once, unlinking it: collect them first.
    const polls: HeldPoll[] = [];
    for (let poll = this.#first; poll !== undefined; poll = poll.next) polls.push(poll);
    for (const poll of polls) poll.shutDown();
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
 * per poll (the answer's sink itself on the usual path, see PollSink in answer.ts) rather than
 * an AbortController and closures: thousands are held at once (src/signal.ts says what those cost).
 */
export abstract class HeldPoll extends Trigger implements HoldSink {
  /** @internal Neighbours in the admission's list of held polls. */
  previous: HeldPoll | undefined;
  /** @internal */
  next: HeldPoll | undefined;
  #admission: Admission | undefined;
  /** The client's signal, listened to (see `listen` in signal.ts). */
  #client: Listening | undefined;
  #shutDown = false;

  // No `#private` methods in the classes held per poll: V8 gives each instance of a class with
  // one a brand field, 8 bytes per held poll (`private` is TypeScript's, checked at build time).

  /** Deliver the outcome (its reason is `shutdown` when the shutdown ended the hold). */
  protected abstract deliver(batch: Batch, reason: WakeReason, heldMs: number): void;
  protected abstract deliverError(error: unknown): void;

  /** @internal Called by {@link Admission.enter}. */
  listen(admission: Admission, client: SignalLike | undefined): void {
    this.#admission = admission;
    if (client === undefined) return;
    if (client.aborted) return this.fire();
    // A Trigger or an AbortSignal calls `handleEvent` on the poll itself: no closure per poll.
    this.#client = listen(client, this);
  }

  /** The client left. */
  handleEvent(): void {
    this.fire();
  }

  /** @internal The server shuts down: end the hold (called by {@link Admission.close}). */
  shutDown(): void {
    if (this.aborted) return;
    this.#shutDown = true;
    this.fire();
  }

  held(batch: Batch, reason: WakeReason, heldMs: number): void {
    this.leave();
    // The hold ends as for a client that left ('abort'); the answer says why it really ended.
    this.deliver(batch, this.#shutDown && reason === 'abort' ? 'shutdown' : reason, heldMs);
  }

  failed(error: unknown): void {
    this.leave();
    this.deliverError(error);
  }

  private leave(): void {
    if (this.#client !== undefined) unlisten(this.#client, this);
    this.#client = undefined;
    this.#admission?.leave(this);
    this.#admission = undefined;
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

  protected deliver(batch: Batch, reason: WakeReason, heldMs: number): void {
    this.resolve({ batch, reason, heldMs });
  }

  protected deliverError(error: unknown): void {
    this.reject(error);
  }
}
