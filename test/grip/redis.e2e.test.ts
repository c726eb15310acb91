import { expect, it } from 'vitest';
import { createHangtime } from '../../src/index.js';
import { gripProxy } from '../../src/grip/index.js';
import { redisLog } from '../../src/redis/index.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, testPrefix } from '../support/redis.js';
import { describePushpin } from '../support/pushpin.js';
import { get, gripSetup, onCleanup, sleep, uniqueChannel, until, useHangtime } from './support.js';

// Several processes share a Redis log; Pushpin holds the clients of one of them.
describePushpin('GRIP with a Redis log', () => {
  const setup = gripSetup();

  describeRedis('processes sharing the log', () => {
    it('an append from any process is published once; waiting clients hold no Redis connection and no poll of the origin', async () => {
      const prefix = testPrefix();
      const admin = adminClient();
      onCleanup(async () => {
        await deletePrefix(admin, prefix);
        admin.disconnect();
      });
      const name = `grip-${Math.random().toString(36).slice(2, 8)}`;
      // Publishes counted by the fetch each process publishes with.
      let publishes = 0;
      const counting: typeof fetch = (input, init) => {
        publishes++;
        return fetch(input, init);
      };
      const origin = useHangtime(
        setup,
        { log: redisLog({ url: REDIS_URL, prefix, connectionName: `${name}-origin` }) },
        { fetch: counting },
      );
      const other = createHangtime({
        log: redisLog({ url: REDIS_URL, prefix, connectionName: `${name}-other` }),
        grip: gripProxy({ url: setup.gripUrl, fetch: counting }),
      });
      onCleanup(async () => {
        await other.close();
        await other.log.close();
      });
      const channel = uniqueChannel('shared');
      await other.log.append(channel, 'seed');
      const connections = async (): Promise<number> =>
        ((await admin.client('LIST')) as string).split('\n').filter((line) => line.includes(`name=${name}-origin`)).length;

      const clients = 20;
      const start = (await get(setup.pushpin.url, `channels=${channel}&wait=0`)).body.cursor;
      const before = await connections();
      const waiting = Array.from({ length: clients }, () => get(setup.pushpin.url, `channels=${channel}&cursor=${start}&wait=30`));
      await until(() => setup.requests.filter((request) => request.gripHold === 'response').length >= clients, 10_000, 'the holds');
      await sleep(1_500);
      // Held by Pushpin: the origin holds no poll, its log no waiter, and no connection was opened for them.
      expect(origin.stats().waiting).toBe(0);
      expect((origin.log as ReturnType<typeof redisLog>).stats().waiters).toBe(0);
      expect(await connections()).toBe(before);

      publishes = 0;
      const position = await other.log.append(channel, 'from the other process');
      const answers = await Promise.all(waiting);
      for (const answer of answers) expect(answer.body.events).toEqual([{ channel, position, data: 'from the other process' }]);
      // Once per append, by the process that appended (the origin only watches the log).
      expect(publishes).toBe(1);
    });
  });
});
