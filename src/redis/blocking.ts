import type { Cluster, Redis } from 'ioredis';
import type { WaitSink, WaitTarget } from '../log.js';
import type { SignalLike } from '../signal.js';
import { LogWaiter } from '../waiter.js';
import { follows } from './follows.js';
import { BlockedRead, DRAIN_MS } from './blocked-read.js';
import { InFlight } from './in-flight.js';
import { KnownStates } from './known-states.js';
import { keySlot } from './slot.js';
import { redisKeys } from './keys.js';
import { decodePosition } from './position.js';
import type { ChannelState, RedisClient } from './types.js';

/**
 * Waiting with a blocking `XREAD` on the command connection: no pub/sub connection, so a
 * process that holds one poll at a time (a Lambda or Netlify instance) uses one Redis
 * connection in all. See `waiting` in options.ts and docs/redis.md, "Waiting modes".
 *
 * Race-freedom: the XREAD asks for entries after the waiter's own stream id, so an append made
 * at any moment after the state the waiter is checked against (what the log's last command on
 * the channel answered: a read, a start, an append, a check; or a check sent now when it knows
 * nothing) makes it return at once. What an XREAD cannot see (another generation, a position
 * ahead of the stream, a trimmed position) is decided from that state before blocking
 * (`follows`), as the shared watcher does.
 *
 * The connection is blocked while the XREAD runs: a command of this process sent meanwhile (a
 * second poll, an append) would queue behind it. So any other command, and an abort that comes
 * before the XREAD's own timeout, first unblocks it (`CLIENT UNBLOCK`, sent on a second
 * connection opened only then and closed at once: blocked-read.ts). A process where that
 * happens is not one poll at a time: `waiting: 'auto'` switches to the shared watcher for good.
 * The XREAD of a hold that ended just before it (hold timers end holds on a 50 ms grid) is
 * waited for instead: that one needs no second connection.
 *
 * The hold waits before it reads, so an empty poll on a warm instance is one command: the
 * XREAD. States are forgotten when the connection closes (Redis may have restarted without its
 * data, a failover ends the connection to the old master, and a master demoted to a replica
 * answers a blocked XREAD with UNBLOCKED: the wait wakes and the hold reads), and checked again
 * at least every REVALIDATE_MS (known-states.ts), which bounds how late a poll at the head learns of a history
 * lost without a closed connection and without any append after it (DEL or FLUSHALL by hand;
 * an append after it wakes the XREAD, and the read reports the gap).
 */

/** The longest single XREAD when the caller gives no deadline (a plain `waitFor`). */
const SLICE_MS = 10_000;
export interface BlockingOptions {
  readonly client: RedisClient;
  readonly prefix: string;
  readonly connectionName: string;
  /** Ask Redis where a channel stands (the STATE script); its answer comes back by `observe`. */
  readonly check: (channel: string) => Promise<ChannelState>;
  /** Where a wait goes when another command needed the connection: the shared watcher. */
  readonly handOver: (targets: readonly WaitTarget[], signal: SignalLike, sink: WaitSink) => void;
  /** An XREAD saw new entries on a channel: the shared watcher's knowledge of it may be old. */
  readonly moved: (channel: string) => void;
  readonly onError: (error: unknown) => void;
}

/** Forwards to the caller's sink, unless the wait was handed over (then the new owner answers). */
class Forward implements WaitSink {
  handedOver = false;
  constructor(readonly sink: WaitSink) {}
  woken(woken: boolean): void {
    if (!this.handedOver) this.sink.woken(woken);
  }
}

class BlockingWaiter extends LogWaiter {
  constructor(
    readonly owner: BlockingWaits,
    signal: SignalLike,
    readonly forward: Forward,
  ) {
    super(signal, forward);
  }

  protected release(): void {
    this.owner.release(this);
  }
}

export class BlockingWaits {
  readonly #options: BlockingOptions;
  readonly #known = new KnownStates();
  /** Client ids of the connections XREADs go to, learnt once per connection. */
  readonly #ids = new WeakMap<Redis, number>();
  readonly #watched = new WeakSet<Redis>();
  #active: BlockingWaiter | undefined;
  #pending: BlockedRead | undefined;
  #closed = false;
  readonly #commands = new InFlight();

  constructor(options: BlockingOptions) {
    this.#options = options;
  }

  /** Waits held (0 or 1). */
  get waiters(): number {
    return this.#active === undefined ? 0 : 1;
  }

  /** Whether an XREAD of a wait still held occupies the command connection now. */
  get blocked(): boolean {
    return this.#pending !== undefined && !this.#pending.draining;
  }

  /**
   * Take the wait, or return false when it cannot block here (a wait is already held, or on a
   * Cluster its channels live on more than one node): the caller then uses the shared watcher.
   */
  waitInto(targets: readonly WaitTarget[], signal: SignalLike, sink: WaitSink): boolean {
    if (this.#active !== undefined || this.#closed) return false;
    const connection = this.#connectionFor(targets);
    if (connection === undefined) return false;
    if (signal.aborted) {
      sink.woken(false);
      return true;
    }
    const waiter = new BlockingWaiter(this, signal, new Forward(sink));
    this.#active = waiter;
    void this.#run(waiter, targets, connection, sink);
    return true;
  }

  release(waiter: BlockingWaiter): void {
    if (this.#active === waiter) this.#active = undefined;
    const pending = this.#pending;
    // Ended before its XREAD did (the client left, or the caller gave no deadline): free the
    // connection for the next command now rather than at the XREAD's timeout.
    if (pending?.owner === waiter && !pending.interrupted) {
      const left = waiter.forward.sink.remainingMs?.();
      if (left === undefined || left > DRAIN_MS) pending.unblock();
      else pending.draining = true;
    }
  }

  /**
   * Run a command of this process: an XREAD blocking the connection is unblocked first (its
   * wait goes on with the shared watcher), and no XREAD is sent while commands are in flight.
   */
  command<T>(send: () => Promise<T>): Promise<T> {
    return this.#commands.run(() => {
      const pending = this.#pending;
      if (pending === undefined || pending.interrupted) return send();
      if (pending.draining) return pending.drained().then(send);
      pending.unblock();
      return send();
    });
  }

  /** Learn where a channel stands from an answer of Redis (read, start, check, append). */
  observe(channel: string, state: ChannelState): void {
    this.#known.observe(channel, state);
  }

  /** Forget every state (the connection closed: Redis may have lost its data). */
  forget(): void {
    this.#known.clear();
  }

  close(): void {
    this.#closed = true;
    this.#active?.settle(false);
  }

  async #run(waiter: BlockingWaiter, targets: readonly WaitTarget[], connection: Redis, sink: WaitSink): Promise<void> {
    const done = (): boolean => this.#active !== waiter;
    try {
      const now = Date.now();
      const unknown = targets.filter(({ channel }) => this.#known.isDue(channel, now));
      // A check per channel not known: its answer comes back through `observe`.
      if (unknown.length > 0) await Promise.all(unknown.map(({ channel }) => this.#options.check(channel)));
      if (done()) return;
      for (const { channel, after } of targets) {
        const state = this.#known.stateOf(channel);
        if (state === undefined || follows(state, after)) return waiter.settle(true);
      }
      const keys = targets.map(({ channel }) => redisKeys(this.#options.prefix, channel).events);
      // Every position is the head of a known state here: it names a stream id.
      const ids = targets.map(({ after }) => decodePosition(after)!.id);
      for (;;) {
        // Behind a command in flight, an XREAD would delay it: sent once none is. Nor behind
        // the draining XREAD of the hold before (it ends in a moment): one UNBLOCK could then
        // not tell the two apart.
        while (this.#commands.busy || this.#pending !== undefined) {
          await (this.#pending !== undefined ? this.#pending.drained() : this.#commands.whenIdle());
          if (done()) return;
        }
        const left = sink.remainingMs?.();
        const blockMs = Math.max(1, Math.min(Math.ceil(left ?? SLICE_MS), 3_600_000));
        this.#watch(connection);
        const pending = new BlockedRead(waiter, connection, this.#ids.get(connection), this.#options);
        if (pending.id === undefined) {
          // Learnt once per connection, in the same round trip (what CLIENT UNBLOCK needs).
          void connection.client('ID').then(
            (id) => {
              this.#ids.set(connection, Number(id));
              // A command came before the id did (a slow link): unblock now.
              pending.learnt(Number(id));
            },
            () => {},
          );
        }
        this.#pending = pending;
        let reply: unknown;
        try {
          reply = await connection.xread('COUNT', 1, 'BLOCK', blockMs, 'STREAMS', ...keys, ...ids);
        } finally {
          if (this.#pending === pending) this.#pending = undefined;
          pending.returned();
        }
        if (done()) return;
        if (reply === null && pending.interrupted) {
          // Another command needed the connection: the wait goes on with the shared watcher,
          // which checks the channels once subscribed (appends meanwhile are not missed).
          waiter.forward.handedOver = true;
          waiter.settle(false);
          return this.#options.handOver(targets, waiter.signal, sink);
        }
        if (reply !== null) {
          // Entries follow: the hold reads them. What the shared watcher knew of these channels
          // may be older than this (its message may not have come yet): it asks again.
          for (const { channel } of targets) this.#options.moved(channel);
          return waiter.settle(true);
        }
        // The deadline came: the hold's own timer ends the wait in a moment.
        if (left !== undefined && (sink.remainingMs?.() ?? 0) <= 1) return;
      }
    } catch (error) {
      if (done()) return;
      this.#options.onError(error);
      // The hold reads, and reports Redis as unavailable if it still is.
      waiter.settle(true);
    }
  }

  /** The connection an XREAD on these channels goes to: the client, or on a Cluster the
   * master of their slot (undefined when they span several slots, or the slots are unknown). */
  #connectionFor(targets: readonly WaitTarget[]): Redis | undefined {
    const client = this.#options.client;
    if (!client.isCluster) return client as Redis;
    const cluster = client as Cluster;
    const slots = new Set(targets.map(({ channel }) => keySlot(redisKeys(this.#options.prefix, channel).events)));
    if (slots.size !== 1) return undefined;
    const owner = cluster.slots[[...slots][0]!]?.[0];
    if (owner === undefined) return undefined;
    return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === owner);
  }

  #watch(connection: Redis): void {
    if (this.#watched.has(connection)) return;
    this.#watched.add(connection);
    connection.on('close', () => {
      this.#ids.delete(connection);
      this.forget();
    });
  }
}
