import type { Cluster } from 'ioredis';
import { withTimeout } from '../timeout.js';
import { AppendUncertainError } from './errors.js';
import { Histories } from './histories.js';
import type { ChannelKeys } from './keys.js';
import { encodePosition } from './position.js';
import { isNoScript } from './run.js';
import { APPEND } from './scripts.js';
import type { RedisClient } from './types.js';

/**
 * The append path: idempotent, and acknowledged only once a replica has the event when the
 * channel's master has one (`durability: 'replicated'`, see docs/redis.md, "Durability").
 *
 * One round trip, two commands: the APPEND script and, when the master is expected to have
 * replicas, `WAIT 1 <timeout>` in the same pipeline (on a Cluster, a pipeline goes to the node
 * of its keyed command, so the WAIT runs on the channel's master). WAIT cannot run inside a
 * script, and `WAIT 1` on a master without replicas blocks until its timeout, so the log keeps,
 * per channel, the number of online replicas the script last reported. When it guessed none
 * and the script reports some, it sends the same append again with the WAIT: the script
 * recognises the append id, stores nothing, and writes (so the WAIT covers the first append).
 *
 * Every attempt carries the same append id, so the log itself retries what a failover or a
 * lost reply interrupts, within `commandTimeoutMs`, and never stores an event twice. And every
 * attempt carries the same Redis histories (replication ids, see histories.ts), the ones the log
 * believed current before the first: an attempt (or a command ioredis sends again) that reaches a
 * history created since, which cannot know whether an earlier attempt was stored in a history now
 * lost, is refused by the script, and the append rejects with an AppendUncertainError.
 */

export interface AppendSettings {
  readonly durability: 'replicated' | 'leader';
  readonly replicationTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly idempotencyWindowMs: number;
  readonly retention: readonly [number, number, number, number];
}

export interface AppendRequest {
  readonly channel: string;
  readonly keys: ChannelKeys;
  readonly json: string;
  readonly appendId: string;
  /** The generation to start if the channel has none. */
  readonly freshGeneration: string;
}

export interface Appended {
  readonly generation: string;
  readonly id: string;
  /** The append id was seen before: nothing was appended now (the id is the first append's). */
  readonly duplicate: boolean;
  /** The stream id of the channel's newest entry before this append ('' when it had none, or
   * for a duplicate). */
  readonly previous: string;
}

/**
 * Replies after which the same append, sent again shortly, may succeed: the slot moved or its
 * master is being elected (failover), the node is loading or read-only (a demoted master), the
 * connection closed, or WAIT reached a node that is a replica by now.
 */
const TRANSIENT =
  /^(MOVED|TRYAGAIN|CLUSTERDOWN|LOADING|READONLY|MASTERDOWN|NOREPLICAS)\b|Connection is closed|Too many Cluster redirections|WAIT cannot be used with replica|Cluster isn't ready|ECONNRESET|ECONNREFUSED|EPIPE/;

/** Pause between attempts: ioredis' own `retryDelayOnFailover`. */
const RETRY_DELAY_MS = 100;

/** Channels whose replica count is remembered; beyond, the oldest is forgotten. */
const MAX_REMEMBERED = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Appender {
  readonly #client: RedisClient;
  readonly #settings: AppendSettings;
  readonly #histories: Histories;
  /** Online replicas of each channel's master, as its last append reported. */
  readonly #replicas = new Map<string, number>();
  /** The last count reported for any channel: the guess for a channel not appended to yet. */
  #lastReplicas = 0;

  constructor(client: RedisClient, settings: AppendSettings) {
    this.#client = client;
    this.#settings = settings;
    this.#histories = new Histories(client, settings.commandTimeoutMs);
  }

  close(): void {
    this.#histories.close();
  }

  async append(request: AppendRequest): Promise<Appended> {
    const { channel, keys, json, appendId, freshGeneration } = request;
    const { durability, replicationTimeoutMs, commandTimeoutMs, idempotencyWindowMs, retention } = this.#settings;
    const durable = durability === 'replicated';
    const deadline = Date.now() + commandTimeoutMs;
    const uncertain = (why: string, cause?: unknown, position?: string) =>
      new AppendUncertainError(
        `The append to channel "${channel}" ${why}. Retrying with the same id ({ id: '${appendId}' }) is safe while Redis keeps its data: it is stored at most once.`,
        { channel, appendId, position, cause },
      );
    let histories: string;
    try {
      histories = await this.#histories.current(deadline);
    } catch (error) {
      throw uncertain('was not sent: the log could not learn which Redis history it writes to', error);
    }
    const scriptKeys = [keys.events, keys.meta, ...keys.appends];
    const args = [freshGeneration, json, keys.wake, ...retention, appendId, idempotencyWindowMs, durable ? '1' : '0', histories];
    let useEval = false;
    for (;;) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw uncertain(`may or may not have been stored: Redis did not confirm it within ${commandTimeoutMs} ms`);
      const guess = durable ? (this.#replicas.get(channel) ?? this.#lastReplicas) : 0;
      const pipeline = this.#client.pipeline();
      if (useEval) pipeline.eval(APPEND.source, scriptKeys.length, ...scriptKeys, ...args);
      else pipeline.evalsha(APPEND.sha, scriptKeys.length, ...scriptKeys, ...args);
      if (guess > 0) pipeline.wait(1, replicationTimeoutMs);
      let replies: Array<[Error | null, unknown]>;
      try {
        replies = ((await withTimeout(
          pipeline.exec(),
          remainingMs,
          () => new Error(`Redis did not answer within ${commandTimeoutMs} ms`),
        )) ?? []) as Array<[Error | null, unknown]>;
      } catch (error) {
        if (await this.#retryAfter(error, deadline)) continue;
        throw uncertain('may or may not have been stored', error);
      }
      const [scriptError, scriptReply] = replies[0] ?? [new Error('Redis sent no reply'), undefined];
      if (scriptError !== null) {
        if (isNoScript(scriptError) && !useEval) {
          useEval = true;
          continue;
        }
        if (await this.#retryAfter(scriptError, deadline)) continue;
        throw uncertain('may or may not have been stored', scriptError);
      }
      const [status, generation, id, replicas, history, previous = ''] = (scriptReply as unknown[]).map(String) as [
        string,
        string,
        string,
        string,
        string,
        string?,
      ];
      this.#histories.saw(history);
      this.#remember(channel, Number(replicas));
      if (status === 'refused') throw refused(channel, appendId, history);
      const appended: Appended = { generation, id, duplicate: status === 'duplicate', previous };
      if (!durable || replicas === '0') return appended;
      // Guessed no replica: send it again with the WAIT (stored once: the script knows the id).
      if (guess === 0) continue;
      const [waitError, acknowledged] = replies[1] ?? [new Error('Redis sent no reply to WAIT'), undefined];
      if (waitError === null && Number(acknowledged) >= 1) return appended;
      if (waitError !== null && (await this.#retryAfter(waitError, deadline))) continue;
      const position = encodePosition(generation, id);
      throw uncertain(
        waitError === null
          ? `was stored by the channel's Redis master at ${position}, but no replica confirmed it within ${replicationTimeoutMs} ms (replicationTimeoutMs): a failover may still lose it`
          : `was stored by the channel's Redis master at ${position}, but WAIT failed: a failover may still lose it`,
        waitError ?? undefined,
        position,
      );
    }
  }

  /** Whether `error` is worth another attempt before `deadline`; waits first (and lets a
   * Cluster refresh its slots after MOVED). */
  async #retryAfter(error: unknown, deadline: number): Promise<boolean> {
    if (!(error instanceof Error) || !TRANSIENT.test(error.message)) return false;
    if (this.#client.status === 'end' || Date.now() + RETRY_DELAY_MS >= deadline) return false;
    if (this.#client.isCluster && /^MOVED\b/.test(error.message)) {
      (this.#client as Cluster).refreshSlotsCache();
    }
    await sleep(RETRY_DELAY_MS);
    return true;
  }

  #remember(channel: string, replicas: number): void {
    this.#lastReplicas = replicas;
    if (this.#replicas.get(channel) === replicas) return;
    if (this.#replicas.size >= MAX_REMEMBERED && !this.#replicas.has(channel)) {
      this.#replicas.delete(this.#replicas.keys().next().value as string);
    }
    this.#replicas.set(channel, replicas);
  }
}

/** The script stored nothing: Redis writes another history than the ones the append was built for. */
function refused(channel: string, appendId: string, history: string): AppendUncertainError {
  return new AppendUncertainError(
    `The append to channel "${channel}" was not stored: Redis now writes another history (replication id ${history}) than the one it was sent for ` +
      '(a restart, or a failover), and has no record of its id. It was sent again after a lost reply or a closed connection, or built before the log ' +
      'learnt of the change: an earlier attempt may have been stored in the history that ended, and received by readers from there. ' +
      `Retrying with the same id ({ id: '${appendId}' }) stores it once in the current history: readers that had it may then receive it twice ` +
      '(after a gap); not retrying may lose it. See docs/redis.md, "Durability".',
    { channel, appendId, cause: new Error(`Redis history changed: the append was built for other replication ids than ${history}`) },
  );
}
