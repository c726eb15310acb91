import type { Cluster, Redis } from 'ioredis';
import { withTimeout } from '../timeout.js';
import type { RedisClient } from './types.js';

/**
 * Which Redis histories this process believes it writes to: the replication ids
 * (`master_replid`) of the masters it knows. Every append carries them (see APPEND in
 * scripts.ts), so that a command sent again after its reply was lost is stored only in the
 * history its first run may have gone to, where the append id's record would be found.
 *
 * Why the replication id: Redis draws a new one whenever a history may have lost writes or
 * changed hands (every restart, with or without persistence, and every promotion of a replica;
 * also, losing nothing, when a master gets its first replica: checked on Redis 7.0) and never
 * reuses one (run_id would not do: it survives a demotion, a full resync and a promotion). A history created after an append was built is never among the ids the
 * append carries. So when Redis lost its data (and the record of the append) after the first run,
 * the command, sent again by ioredis (`autoResendUnfulfilledCommands`, a Cluster client's retry
 * after a closed connection) or by the log's own retry, finds an id it was not built for and
 * stores nothing: the log rejects it with an `AppendUncertainError` instead of storing the event
 * a second time, which readers would receive twice (once from the lost history, once after their
 * `reset` gap). See docs/redis.md, "Durability".
 *
 * The ids are learnt before the first append (`INFO replication` on the client, or on every master
 * of a Cluster), from every append's reply, and again after the client reconnected (one Redis:
 * appends made while it is disconnected or just reconnected wait for the answer, so a restart
 * refuses only the appends that were in flight when it happened) or refreshed its slots (Cluster:
 * learnt in the background; the first append that reaches a newly promoted master before that
 * may be refused). Ids of histories
 * that ended stay harmless (no Redis will answer with them again) until the next probe drops them.
 */

/** Ids carried at most: far more than the masters of a Cluster, and a few that ended. */
const MAX_KNOWN = 64;

const REPLID = /^master_replid:(\w+)/m;

export class Histories {
  readonly #client: RedisClient;
  readonly #timeoutMs: number;
  /** Newest first. */
  #known: readonly string[] = [];
  /** Learn again before (one Redis) or while (Cluster) the next append is built. */
  #stale = true;
  #probing: Promise<void> | undefined;
  /** Ids replies showed while a probe ran: its answer may predate them. */
  #seenDuringProbe: string[] | undefined;
  readonly #onReconnect: () => void;

  constructor(client: RedisClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    // One Redis: a probe in flight was sent (or sent again) on the new connection; its answer is
    // already the new one. A Cluster: the node list may have changed under a running probe.
    this.#onReconnect = () => {
      if (client.isCluster || this.#probing === undefined) this.#stale = true;
    };
    client.on(client.isCluster ? 'refresh' : 'ready', this.#onReconnect);
  }

  /**
   * The ids to carry in an append built now (space-separated). With one Redis, learns them first
   * when none is known, after the client reconnected, and while it is not connected: an append
   * built then would wait in ioredis' offline queue and reach the restarted Redis with the ids of
   * before, and be refused for nothing (it never ran); the probe waits in that queue instead, and
   * the append is built with its answer. A Cluster learns in the background once it knows ids.
   * Rejects when nothing is known or the client is not connected, and the ids cannot be learnt
   * by `deadline` (the append is then not sent).
   */
  async current(deadline: number): Promise<string> {
    const single = !this.#client.isCluster;
    // Also while a probe runs: it cleared `stale` when it started, but its answer is still to come.
    if (this.#stale || this.#known.length === 0 || this.#probing !== undefined || (single && this.#client.status !== 'ready')) {
      const probe = this.#probe();
      if (!single && this.#known.length > 0) {
        probe.catch(() => {});
      } else {
        try {
          await withTimeout(probe, Math.max(0, deadline - Date.now()), () => new Error('Redis did not answer INFO replication in time'));
        } catch (error) {
          // Connected, with ids known from before: the append goes on with them (the worst it
          // meets is a refusal). Not connected: it would only be queued, as the probe was.
          if (this.#known.length === 0 || (single && this.#client.status !== 'ready')) throw error;
        }
      }
    }
    return this.#known.join(' ');
  }

  /** A script's reply came from the history `replid`. */
  saw(replid: string): void {
    this.#seenDuringProbe?.push(replid);
    if (this.#known[0] === replid) return;
    this.#known = [replid, ...this.#known.filter((known) => known !== replid)].slice(0, MAX_KNOWN);
  }

  close(): void {
    this.#client.off(this.#client.isCluster ? 'refresh' : 'ready', this.#onReconnect);
  }

  #probe(): Promise<void> {
    this.#probing ??= (async () => {
      this.#stale = false;
      const seen: string[] = [];
      this.#seenDuringProbe = seen;
      try {
        const answers = await Promise.allSettled(
          (await this.#masters()).map((node) =>
            withTimeout(
              node.info('replication'),
              this.#timeoutMs,
              () => new Error(`Redis did not answer INFO replication within ${this.#timeoutMs} ms`),
            ),
          ),
        );
        const found = answers.flatMap((answer) => {
          const replid = answer.status === 'fulfilled' ? REPLID.exec(answer.value)?.[1] : undefined;
          return replid === undefined ? [] : [replid];
        });
        if (found.length === 0) {
          const failed = answers.find((answer): answer is PromiseRejectedResult => answer.status === 'rejected');
          throw failed?.reason ?? new Error('Redis told no replication id (INFO replication has no master_replid)');
        }
        // What the masters answer now and what replies showed meanwhile. When every master
        // answered, ids of histories that ended go; otherwise the silent masters' ids may be among
        // the old ones: kept (carrying an id that ended is harmless, missing a live one refuses).
        const kept = found.length === answers.length ? [] : this.#known;
        this.#known = [...new Set([...seen.reverse(), ...found, ...kept])].slice(0, MAX_KNOWN);
      } catch (error) {
        this.#stale = true;
        throw error;
      } finally {
        this.#seenDuringProbe = undefined;
        this.#probing = undefined;
      }
    })();
    return this.#probing;
  }

  /** The client, or every master of a Cluster (connecting it first if it knows none yet). */
  async #masters(): Promise<Redis[]> {
    if (!this.#client.isCluster) return [this.#client as Redis];
    const cluster = this.#client as Cluster;
    if (cluster.nodes('master').length === 0)
      await withTimeout(cluster.ping(), this.#timeoutMs, () => new Error('The Redis Cluster did not connect'));
    return cluster.nodes('master');
  }
}
