import type { WaitSink, WaitTarget } from '../log.js';
import type { SignalLike } from '../signal.js';
import { ListedWaiter, type WaitList, type WaitListOwner } from '../wait-list.js';
import { channelOfWake, redisKeys } from './keys.js';
import { follows } from './follows.js';
import type { Subscriber } from './subscriber.js';
import type { ChannelState } from './types.js';
import { forgetState, isStale, learnAnswer, learnMessage, newWatch, wakeFollowing, type Snapshot, type Watch } from './watch.js';

/**
 * Waiting without a connection per waiter. Every waiter of the process is a link in its
 * channel's list (src/wait-list.ts); one pub/sub connection carries a wake message per append
 * (`<gen> <id>`, published by the append script); one message wakes every waiter of its channel.
 *
 * Race-freedom rests on one invariant per watched channel: while its subscription is live,
 * `state` (when known) is at least as new as every append whose message has not arrived yet.
 * A state becomes known from a check (or a read, or our own append) sent while the
 * subscription was live; from then on, any later append's message arrives on the same
 * connection. So a waiter whose position equals the known last id can sleep: whatever comes
 * next wakes it. A position that differs (older, another generation, or newer than we know)
 * wakes at once; the hold reads and finds out (a spurious wake costs one read, shared by all
 * waiters of the channel).
 *
 * When the connection drops, messages may be lost: every state is forgotten, and when the
 * connection is back each watched channel is subscribed again and re-checked.
 *
 * What each watched channel knows, and how answers and messages change it (the head can also
 * move backwards), is in watch.ts.
 */

export type { ChannelState } from './types.js';

export interface WatcherOptions {
  readonly prefix: string;
  readonly subscriber: Subscriber;
  /** Ask Redis where a channel stands (the STATE script, bounded by a timeout). */
  readonly check: (channel: string) => Promise<ChannelState>;
  readonly onError: (error: unknown) => void;
  /** How long a channel stays subscribed after its last waiter left. */
  readonly lingerMs: number;
}

/** Delay before re-checking a channel whose check failed (Redis busy or restarting). */
const CHECK_RETRY_MS = 250;

/** Every waiter of the process waits in its channels' lists, which the watcher owns: it counts
 * them, and lingers a channel whose list emptied. */
export class Watcher implements WaitListOwner {
  readonly #options: WatcherOptions;
  readonly #watches = new Map<string, Watch>();
  readonly #toSubscribe = new Set<Watch>();
  #flushQueued = false;
  #lastLive = 0;
  #waiterCount = 0;
  #closed = false;

  constructor(options: WatcherOptions) {
    this.#options = options;
  }

  /** The waitFor of the log: see `EventLog.waitFor`. */
  wait(targets: readonly WaitTarget[], signal: SignalLike): Promise<boolean> {
    return new Promise<boolean>((resolve) => this.waitInto(targets, signal, { woken: resolve }));
  }

  /** `wait` without its promise: see `EventLog.waitInto` in src/log.ts. */
  waitInto(targets: readonly WaitTarget[], signal: SignalLike, sink: WaitSink): void {
    if (this.#closed || signal.aborted) return sink.woken(false);
    for (const { channel, after } of targets) {
      const watch = this.#watches.get(channel);
      if (watch?.live !== undefined && watch.state !== undefined && follows(watch.state, after)) return sink.woken(true);
    }
    const waiter = new ListedWaiter(signal, sink);
    for (const { channel, after } of targets) {
      waiter.join(this.#acquire(channel).waiters, after);
    }
  }

  waiterJoined(): void {
    this.#waiterCount++;
  }

  /** A waiter settled (it has left its watches' lists). */
  waiterLeft(): void {
    this.#waiterCount--;
  }

  /** The last waiter of a watch left it. */
  emptied(waiters: WaitList): void {
    const watch = this.#watches.get(waiters.channel);
    if (watch?.waiters === waiters) this.#linger(watch);
  }

  /** True when the channel is known to have nothing after `after`: a read needs no Redis. */
  knownEmpty(channel: string, after: string): boolean {
    const watch = this.#watches.get(channel);
    return (
      watch?.live !== undefined &&
      watch.state !== undefined &&
      watch.doubtFrom === undefined &&
      !isStale(watch) &&
      !follows(watch.state, after)
    );
  }

  /**
   * Where a watched channel stands, when what is known of it is current by the same rules as
   * {@link knownEmpty} (subscribed, no message in doubt, confirmed within TRUST_MS): a start at
   * 'now' needs no command then. Undefined otherwise, or when the channel has no history (no
   * stream and no generation stamp: its first start writes one).
   */
  knownHead(channel: string): { readonly generation: string; readonly last: string } | undefined {
    const watch = this.#watches.get(channel);
    const state = watch?.state;
    if (watch?.live === undefined || state?.exists !== true || watch.doubtFrom !== undefined || isStale(watch)) return undefined;
    return state;
  }

  /** Taken before sending a command whose answer shows the channel's state. */
  snapshot(channel: string): Snapshot | undefined {
    const watch = this.#watches.get(channel);
    return watch?.live === undefined ? undefined : { live: watch.live, messages: watch.messages };
  }

  /** Learn from an answer sent at `snapshot` (a read, an append or a check), waking who it
   * concerns: see `learnAnswer` in watch.ts. */
  observe(channel: string, state: ChannelState, snapshot: Snapshot | undefined): void {
    const watch = this.#watches.get(channel);
    if (watch === undefined || snapshot === undefined || watch.live !== snapshot.live) return;
    if (learnAnswer(watch, state, snapshot)) wakeFollowing(watch);
  }

  /** Something else (a blocking XREAD) saw the channel move: what is known of it may be older
   * than that until its message comes. Forgotten, and checked again if anyone waits on it. */
  unsure(channel: string): void {
    const watch = this.#watches.get(channel);
    if (watch?.live === undefined) return;
    // Counts as news: an answer sent before now (a check or read in flight) may be older than
    // what woke the XREAD, and is no longer taken as the state (see `learnAnswer`), nor joined by
    // a new read (see `coalesce` in redis-log.ts).
    watch.messages++;
    // Until an answer sent from now on comes back, no state is trusted for a read: a wake
    // message still on its way may name an older head than what woke the XREAD.
    watch.doubtFrom = watch.messages;
    if (watch.state === undefined) return;
    forgetState(watch);
    if (watch.waiters.size > 0) this.#check(watch);
  }

  /** Waiters held right now. */
  get waiters(): number {
    return this.#waiterCount;
  }

  stats(): { channels: number; waiters: number } {
    return { channels: this.#watches.size, waiters: this.#waiterCount };
  }

  close(): void {
    this.#closed = true;
    for (const watch of this.#watches.values()) {
      clearTimeout(watch.linger);
      for (const waiter of watch.waiters.waiters()) waiter.settle(false);
    }
    this.#watches.clear();
    this.#toSubscribe.clear();
  }

  // Subscriber events.

  onReady(): void {
    for (const watch of this.#watches.values()) this.#toSubscribe.add(watch);
    this.#scheduleFlush();
  }

  onLost(): void {
    for (const watch of this.#watches.values()) {
      watch.live = undefined;
      forgetState(watch);
    }
  }

  onMessage(name: string, message: string): void {
    const channel = channelOfWake(this.#options.prefix, name);
    const watch = channel === undefined ? undefined : this.#watches.get(channel);
    if (watch?.live === undefined) return;
    if (learnMessage(watch, message)) return wakeFollowing(watch);
    // Not our format (a publisher that is not hangtime): something was appended, but what
    // stands where is unknown. Wake everyone to read, and check before anyone sleeps again.
    for (const waiter of watch.waiters.waiters()) waiter.settle(true);
    this.#check(watch);
  }

  // Internals.

  #acquire(channel: string): Watch {
    let watch = this.#watches.get(channel);
    if (watch === undefined) {
      watch = newWatch(channel, redisKeys(this.#options.prefix, channel).wake, this);
      this.#watches.set(channel, watch);
      this.#toSubscribe.add(watch);
      this.#options.subscriber.start();
      this.#scheduleFlush();
    } else if (watch.live !== undefined && (watch.state === undefined || isStale(watch)) && !watch.checking) {
      // Live but not known (it lingered without waiters, or a foreign message came), or not
      // heard of for a while: a check sent now is valid for this waiter whenever its read
      // was, see the invariant above.
      this.#check(watch);
    }
    clearTimeout(watch.linger);
    watch.linger = undefined;
    return watch;
  }

  #linger(watch: Watch): void {
    clearTimeout(watch.linger);
    if (this.#closed) return;
    watch.linger = setTimeout(() => {
      if (watch.waiters.size > 0 || this.#watches.get(watch.channel) !== watch) return;
      this.#watches.delete(watch.channel);
      this.#toSubscribe.delete(watch);
      if (watch.live !== undefined) this.#options.subscriber.unsubscribe([watch.wake]).catch(this.#options.onError);
    }, this.#options.lingerMs);
    watch.linger.unref?.();
  }

  /** Subscribe every new watch in one command per tick, however many waiters arrive at once. */
  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      // Not connected: `onReady` subscribes everything watched by then.
      if (this.#options.subscriber.readyEpoch === undefined || this.#closed) return;
      const batch = [...this.#toSubscribe].filter((watch) => this.#watches.get(watch.channel) === watch && watch.live === undefined);
      this.#toSubscribe.clear();
      if (batch.length === 0) return;
      this.#options.subscriber.subscribe(batch.map((watch) => watch.wake)).then((epoch) => {
        if (epoch === undefined) return;
        for (const watch of batch) {
          if (this.#watches.get(watch.channel) !== watch) {
            // It lingered out meanwhile, and nothing watches its channel again: drop it.
            if (!this.#watches.has(watch.channel)) this.#options.subscriber.unsubscribe([watch.wake]).catch(this.#options.onError);
            continue;
          }
          watch.live = ++this.#lastLive;
          forgetState(watch);
          // Appends between the waiter's read and this moment sent no message we received.
          if (watch.waiters.size > 0) this.#check(watch);
        }
      }, this.#options.onError);
    });
  }

  #check(watch: Watch): void {
    if (watch.checking) {
      watch.recheck = true;
      return;
    }
    const snapshot = this.snapshot(watch.channel);
    if (snapshot === undefined) return;
    watch.checking = true;
    watch.recheck = false;
    this.#options.check(watch.channel).then(
      (state) => {
        watch.checking = false;
        this.observe(watch.channel, state, snapshot);
        if (watch.recheck) this.#check(watch);
      },
      (error: unknown) => {
        watch.checking = false;
        this.#options.onError(error);
        const retry = setTimeout(() => {
          if (this.#watches.get(watch.channel) === watch && watch.waiters.size > 0 && watch.state === undefined) this.#check(watch);
        }, CHECK_RETRY_MS);
        retry.unref?.();
      },
    );
  }
}
