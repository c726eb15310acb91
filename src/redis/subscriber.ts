import type { Redis } from 'ioredis';
import { withTimeout } from '../timeout.js';
import type { RedisClient } from './types.js';

/**
 * The one pub/sub connection of a log. It knows nothing of channels: it opens a connection,
 * tells its owner when the connection can subscribe (`onReady`, with a new epoch) and when
 * messages may have been missed (`onLost`), and reopens after a loss with a backoff.
 *
 * Every (re)connection is a fresh connection with ioredis' own reconnection and resubscription
 * turned off: the owner must know exactly when a subscription is live, because an append
 * published while it was not is only found by re-checking the stream (see `watcher.ts`).
 * On a Cluster the connection goes to any node: classic pub/sub messages reach every node.
 */
export interface SubscriberHandlers {
  onReady(epoch: number): void;
  onLost(): void;
  onMessage(name: string, message: string): void;
  onError(error: unknown): void;
}

/** Reconnection delays: quick at first (a restart is usually short), then at most 1 s apart. */
const retryDelayMs = (attempt: number): number => Math.min(50 * 2 ** attempt, 1000);

export class Subscriber {
  readonly #client: RedisClient;
  readonly #connectionName: string;
  readonly #handlers: SubscriberHandlers;
  readonly #timeoutMs: number;
  #connection: Redis | undefined;
  #epoch = 0;
  #ready = false;
  #started = false;
  #closed = false;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  /** @param timeoutMs bound on finding a Cluster node to subscribe on */
  constructor(client: RedisClient, connectionName: string, handlers: SubscriberHandlers, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    this.#connectionName = connectionName;
    this.#handlers = handlers;
  }

  /** The current epoch when the connection can subscribe, otherwise `undefined`. */
  get readyEpoch(): number | undefined {
    return this.#ready ? this.#epoch : undefined;
  }

  /** Open the connection on first use (never at construction: no side effects before a wait). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    void this.#open();
  }

  /**
   * Subscribe; resolves with the epoch the subscription is live in, or `undefined` when the
   * connection was lost meanwhile (the owner subscribes again on the next `onReady`).
   */
  async subscribe(names: readonly string[]): Promise<number | undefined> {
    const connection = this.#connection;
    const epoch = this.#epoch;
    if (!this.#ready || connection === undefined || names.length === 0) return undefined;
    await connection.subscribe(...names);
    return this.#ready && this.#epoch === epoch ? epoch : undefined;
  }

  async unsubscribe(names: readonly string[]): Promise<void> {
    if (!this.#ready || this.#connection === undefined || names.length === 0) return;
    await this.#connection.unsubscribe(...names);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#lose();
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.disconnect();
  }

  async #open(): Promise<void> {
    let connection: Redis;
    try {
      connection = await withTimeout(
        openConnection(this.#client, this.#connectionName),
        this.#timeoutMs,
        () => new Error(`No Redis node to subscribe on within ${this.#timeoutMs} ms`),
      );
    } catch (error) {
      this.#handlers.onError(error);
      this.#retry();
      return;
    }
    if (this.#closed) {
      connection.disconnect();
      return;
    }
    this.#connection = connection;
    connection.on('message', (name: string, message: string) => this.#handlers.onMessage(name, message));
    connection.on('error', (error: unknown) => this.#handlers.onError(error));
    connection.on('ready', () => {
      this.#attempt = 0;
      this.#epoch++;
      this.#ready = true;
      this.#handlers.onReady(this.#epoch);
    });
    connection.on('close', () => this.#lose());
    // With no retry strategy, `end` follows every close: reconnect with a fresh connection.
    connection.on('end', () => {
      if (this.#connection === connection) this.#connection = undefined;
      this.#retry();
    });
    connection.connect().catch(() => {
      // Reported through the `error` event; `end` schedules the retry.
    });
  }

  #lose(): void {
    if (!this.#ready) return;
    this.#ready = false;
    this.#handlers.onLost();
  }

  #retry(): void {
    if (this.#closed) return;
    this.#retryTimer = setTimeout(() => void this.#open(), retryDelayMs(this.#attempt++));
    this.#retryTimer.unref?.();
  }
}

/** A new, not yet connected pub/sub connection beside the client (to any node of a Cluster). */
async function openConnection(client: RedisClient, connectionName: string): Promise<Redis> {
  let base: Redis;
  if (client.isCluster) {
    const cluster = client as Exclude<RedisClient, Redis>;
    // A Cluster that has not connected yet knows no node: one command makes it discover them.
    if (cluster.nodes().length === 0) await cluster.ping();
    const nodes = cluster.nodes();
    const node = nodes[Math.floor(Math.random() * nodes.length)];
    if (node === undefined) throw new Error('The Redis Cluster has no node to subscribe on');
    base = node;
  } else {
    base = client as Redis;
  }
  return base.duplicate({
    connectionName,
    lazyConnect: true,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: false,
    retryStrategy: null,
    readOnly: false,
  });
}
