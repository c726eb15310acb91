import type { Redis } from 'ioredis';

/**
 * A hold's timer ends it up to 50 ms before its budget (hold-timers.ts shares timers on a 50 ms
 * grid), so its XREAD, sized to the budget, is often still blocked when the answer has gone
 * and the next poll comes in. An XREAD that ends within this is waited for rather than
 * unblocked: a CLIENT UNBLOCK needs a connection of its own, which would be one Redis
 * connection more, for a moment, on every instance (what a managed plan counts).
 */
export const DRAIN_MS = 60;
/**
 * A draining XREAD that has not ended after this is unblocked after all. It ends by itself at
 * most DRAIN_MS after its hold, plus Redis' lateness in timing out blocked commands (up to
 * 1 / hz, 100 ms by default) and the round trip: more means a Redis or a link so slow that an
 * UNBLOCK would be no quicker, so this is a last resort, not a deadline (the Lambda emulation
 * under load saw drains of over 250 ms).
 */
const DRAIN_GIVE_UP_MS = 2_000;

/** Where CLIENT UNBLOCK goes, and what it reports. */
export interface UnblockVia {
  readonly connectionName: string;
  readonly onError: (error: unknown) => void;
}

/**
 * One blocking XREAD of a wait (blocking.ts), from the moment it is sent until its reply came
 * back: what unblocks it, and what waits for it to end.
 */
export class BlockedRead {
  /** The connection's client id (what CLIENT UNBLOCK needs), once known. */
  id: number | undefined;
  /** Unblocked (or being unblocked) because another command needed the connection. */
  interrupted = false;
  /** Its hold ended within DRAIN_MS of the XREAD's own timeout: left to end by itself. */
  draining = false;
  #returned = false;
  #return!: () => void;
  /** Resolves when the XREAD's reply (or failure) came back. */
  readonly done = new Promise<void>((resolve) => (this.#return = resolve));

  constructor(
    /** The wait it belongs to (compared by identity). */
    readonly owner: object,
    readonly connection: Redis,
    id: number | undefined,
    readonly via: UnblockVia,
  ) {
    this.id = id;
  }

  /** The reply came back (or the command failed). */
  returned(): void {
    this.#returned = true;
    this.#return();
  }

  /** The client id came back: an UNBLOCK asked for before it is sent now. */
  learnt(id: number): void {
    this.id = id;
    if (this.interrupted && !this.#returned) this.#send();
  }

  /** Unblock it (once): at once when the client id is known, else when it comes back. */
  unblock(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    if (this.id !== undefined) this.#send();
  }

  /** Resolves when it has ended; unblocked if it takes longer than a draining XREAD should. */
  drained(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.unblock();
        resolve();
      }, DRAIN_GIVE_UP_MS);
    });
    // A command sent after the UNBLOCK (if one was needed) queues behind the XREAD's reply.
    return Promise.race([this.done, late]).finally(() => clearTimeout(timer));
  }

  /**
   * CLIENT UNBLOCK, on a connection of its own opened for this one command: needed only when a
   * process does more than one thing at a time, which is then rare or ends blocking waits
   * ('auto'). An UNBLOCK that finds nothing blocked (it overtook the XREAD, which was still on
   * its way) is sent again while the XREAD has not returned.
   */
  #send(attempt = 0): void {
    const control = this.connection.duplicate({
      connectionName: `${this.via.connectionName}-unblock`,
      lazyConnect: false,
      retryStrategy: null,
      maxRetriesPerRequest: 1,
    });
    control.on('error', () => {});
    control
      .client('UNBLOCK', this.id!)
      .then((unblocked) => {
        if (Number(unblocked) === 0 && !this.#returned && attempt < 50) {
          setTimeout(() => !this.#returned && this.#send(attempt + 1), 20).unref?.();
        }
      }, this.via.onError)
      .finally(() => control.quit().catch(() => control.disconnect()));
  }
}
