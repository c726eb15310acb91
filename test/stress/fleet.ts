import { subscribe, type HangtimeEvent, type Subscription } from '../../src/client/index.js';
import type { Random } from '../fuzz/prng.js';
import type { Ledger, RawAnswer } from './ledger.js';

/**
 * One subscriber of a stress run: the real `hangtime/client` over real HTTP (Node's fetch),
 * telling the ledger every event and gap it hands to the application (and, for the starvation
 * check, when the request of each batch was sent). Its `fetch` is Node's, which it only
 * watches (statuses) and sometimes cuts in flight, as a network drop would: the client must
 * then poll again with the same cursor.
 *
 * `stop()` and `start()` are a page closed and opened again with its stored cursor: a new
 * subscription from the cursor the old one ended with.
 */
export class StressSubscriber {
  /** The answers that brought new events, with the time their request was sent. */
  readonly answers: RawAnswer[] = [];
  /** `code:status` of every failure the client reported (retried ones included). */
  readonly errors = new Map<string, number>();
  /** Answers by status. */
  readonly statuses = new Map<number, number>();
  /** Requests cut by the test in flight. */
  cuts = 0;
  /** Times the subscription was closed and opened again. */
  restarts = 0;
  /** A failure the client stopped on (it must never stop). */
  fatal: unknown;
  #subscription: Subscription | undefined;
  #cursor: string | undefined;
  #restarting = false;

  constructor(
    readonly name: string,
    readonly channels: readonly string[],
    private readonly options: { url: string; ledger: Ledger; random: Random; cutChance: number; waitMs: number | undefined },
  ) {}

  get running(): boolean {
    return this.#subscription !== undefined;
  }

  get live(): boolean {
    return this.#subscription?.status.state === 'live';
  }

  /** The cursor the client stands at (the stored one while stopped). */
  get cursor(): string | undefined {
    return this.#subscription?.cursor ?? this.#cursor;
  }

  start(): void {
    if (this.#subscription !== undefined) return;
    const { url, ledger, waitMs } = this.options;
    this.#subscription = subscribe<{ id?: unknown }>(url, {
      channels: this.channels,
      cursor: this.#cursor,
      waitMs,
      // Quick retries: restarts and kills are seconds apart, and the run is bounded.
      backoffMs: 50,
      maxBackoffMs: 400,
      fetch: (requestUrl, init) => this.#fetch(requestUrl, init),
      onEvents: (events) => {
        this.answers.push({
          sentAt: this.#sentAt,
          status: 200,
          events: events.map((event) => ({ channel: event.channel, id: idOf(event) })),
        });
        for (const event of events) ledger.delivered(this.name, event.channel, idOf(event), event.position);
      },
      onGap: (gaps) => {
        for (const gap of gaps) {
          ledger.gap(this.name, gap.channel, {
            resumeAfter: gap.resumeAfter,
            missed: gap.missed,
            reason: (gap as { reason?: string }).reason,
          });
        }
      },
      onError: (error) => {
        const key = `${error.code}:${error.status}`;
        this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
        if (!error.willRetry) this.fatal = error;
      },
    });
  }

  /** Close the subscription (the request in flight is aborted) and keep its cursor. */
  async stop(): Promise<void> {
    const subscription = this.#subscription;
    if (subscription === undefined) return;
    subscription.close();
    await subscription.done.catch(() => {});
    this.#cursor = subscription.cursor ?? this.#cursor;
    this.#subscription = undefined;
  }

  /** Whether a restart is under way (closed, or about to be, and coming back). */
  get restarting(): boolean {
    return this.#restarting;
  }

  /** Stop and start again from the cursor, after `pauseMs`. */
  async restart(pauseMs: number): Promise<void> {
    this.#restarting = true;
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    this.restarts++;
    this.#restarting = false;
    this.start();
  }

  /** When the request in flight (or the last one) was sent: the client polls one at a time,
   * so the batch `onEvents` gets is the answer to it. */
  #sentAt = 0;

  async #fetch(url: string, init: RequestInit): Promise<Response> {
    const { random, cutChance } = this.options;
    this.#sentAt = Date.now();
    let signal = init.signal ?? undefined;
    if (random.chance(cutChance)) {
      // Cut within 1.5 s: while the poll is held, or while its answer is read. The timer is
      // left to fire: aborting a request that has ended does nothing.
      const cut = new AbortController();
      setTimeout(() => cut.abort(new Error('cut by the stress test')), random.next() * 1_500);
      signal = signal === undefined ? cut.signal : AbortSignal.any([signal, cut.signal]);
      this.cuts++;
    }
    // The answer is handed over as it came: its body is the client's to read.
    const response = await fetch(url, { ...init, signal });
    this.statuses.set(response.status, (this.statuses.get(response.status) ?? 0) + 1);
    return response;
  }
}

/** The publication id an event carries (something no publisher sends, when it carries none). */
function idOf(event: HangtimeEvent<{ id?: unknown } | null>): string {
  const id = event.data?.id;
  return typeof id === 'string' ? id : `<no id at ${event.position}>`;
}
