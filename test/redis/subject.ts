import type { Cluster, Redis } from 'ioredis';
import { redisLog, redisKeys, type RedisLogOptions } from '../../src/redis/index.js';
import { decodePosition, encodePosition } from '../../src/redis/position.js';
import type { MakeLogSubject } from '../conformance/event-log.js';
import { adminClient, deletePrefix, sleep, testPrefix } from '../support/redis.js';

/**
 * The Redis log as a conformance subject: a fresh prefix per test, and a second log instance
 * over the same prefix playing "another process" (`peer`). Trimming is exact so that small
 * retention limits are visible; time passes for real (Redis ages entries by its own clock).
 *
 * @param source a Redis URL (the logs open their own connections), or a factory of Cluster
 *   clients (one per log, plus one to delete keys with; all closed by `dispose`).
 */
export const redisSubject =
  (
    source: { readonly url: string } | { readonly cluster: () => Cluster },
    logOptions: Pick<RedisLogOptions, 'waiting'> = {},
  ): MakeLogSubject =>
  async (options) => {
    const prefix = testPrefix();
    const clients: Array<Redis | Cluster> = [];
    const connect = (): Redis | Cluster => {
      const client = 'url' in source ? adminClient(source.url) : source.cluster();
      clients.push(client);
      return client;
    };
    const admin = connect();
    const open = () =>
      redisLog({ ...('url' in source ? { url: source.url } : { client: connect() }), prefix, trim: 'exact', ...logOptions, ...options });
    const [log, peer] = [open(), open()];
    return {
      log,
      peer,
      advance: sleep,
      async forget(channel) {
        const keys = redisKeys(prefix, channel);
        // Both keys share the channel's slot: one DEL, also on a Cluster.
        await admin.del(keys.events, keys.meta);
        return log;
      },
      // The same generation and milliseconds, a sequence number never handed out.
      ahead(position, count) {
        const decoded = decodePosition(position);
        if (decoded === undefined) throw new Error(`Not a Redis position: ${position}`);
        const [ms, seq] = decoded.id.split('-') as [string, string];
        return encodePosition(decoded.generation, `${ms}-${Number(seq) + count}`);
      },
      waiters: () => log.stats().waiters,
      async dispose() {
        await Promise.all([log.close(), peer.close()]);
        await deletePrefix(admin, prefix);
        await Promise.all(clients.map((client) => client.quit()));
      },
    };
  };
