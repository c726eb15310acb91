import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createHangtime } from '../../src/hangtime.js';
import { redisLog, type RedisLog } from '../../src/redis/index.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, testPrefix, until } from '../support/redis.js';

/**
 * The 1:1 problem, solved: 5,000 polls held at once by one log use two Redis connections
 * (commands, and one pub/sub connection for wake-ups), counted on the server, and one
 * append wakes all of them with the event.
 */
const WAITERS = 5_000;

let admin: Redis;
let prefix: string;
let logs: RedisLog[] = [];

/** Connections on the server whose CLIENT SETNAME starts with `name`. */
async function connectionsNamed(name: string): Promise<string[]> {
  const list = String(await admin.client('LIST'));
  // Sorted: CLIENT LIST orders by creation, and a connection that another suite's fault
  // injection killed comes back later in the list under the same name.
  return [...list.matchAll(/ name=(\S*)/g)]
    .map((match) => match[1]!)
    .filter((n) => n.startsWith(name))
    .sort();
}

describeRedis('5,000 waiting polls on one log', () => {
  beforeEach(() => {
    admin = adminClient();
    prefix = testPrefix();
  });
  afterEach(async () => {
    await Promise.all(logs.map((log) => log.close()));
    logs = [];
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('holds them over at most 3 Redis connections, and one append wakes them all with the event', async () => {
    const name = `ht-5k-${prefix.slice(-8)}`;
    const log = redisLog({ url: REDIS_URL, prefix, connectionName: name });
    const publisher = redisLog({ url: REDIS_URL, prefix, connectionName: `${name}-publisher` });
    logs = [log, publisher];
    const hangtime = createHangtime({ log, maxWaiters: WAITERS });

    const { cursor } = await hangtime.wait({ channels: ['crowd'], waitMs: 0 });
    const polls = Array.from({ length: WAITERS }, () => hangtime.wait({ channels: ['crowd'], cursor, waitMs: 25_000 }));
    await until(() => log.stats().waiters === WAITERS, `${WAITERS} waiters`, 20_000);
    expect(hangtime.stats().waiting).toBe(WAITERS);

    // Not the publisher's; nor the one-command connection (`-unblock`) that frees the first
    // poll's blocking XREAD when the second arrives and the log switches to shared waiting.
    const ours = async () => (await connectionsNamed(name)).filter((n) => !n.startsWith(`${name}-publisher`) && !n.endsWith('-unblock'));
    // The pub/sub connection opens with the first wait: let it finish connecting, then count.
    await until(async () => (await ours()).length >= 2, 'the pub/sub connection');
    const connections = await ours();
    expect(connections.length).toBeLessThanOrEqual(3);

    const position = await publisher.append('crowd', { hello: 'everyone' });
    const results = await Promise.all(polls);
    for (const result of results) {
      expect(result.reason).toBe('events');
      expect(result.events).toEqual([{ channel: 'crowd', position, data: { hello: 'everyone' } }]);
    }
    expect(log.stats().waiters).toBe(0);
    // Waking 5,000 opened nothing.
    expect(await ours()).toEqual(connections);
  });
});
