import { afterEach, expect, it } from 'vitest';
import { redisLog, type RedisLog } from '../../src/redis/index.js';
import { testPrefix } from '../support/redis.js';
import { startProxy, type RedisProxy } from './proxy.js';
import { describeWithServers, startRedisServer, type RedisServer } from './servers.js';

/**
 * `waiting: 'blocking'` on a slow link. The first wait on a connection asks its client id
 * (what CLIENT UNBLOCK needs) in the same round trip as its XREAD. An append made before that
 * id came back must still unblock the XREAD once it comes, or the append waits behind the
 * XREAD until the wait's own timeout (seen in CI as an append that failed with "Redis did not
 * answer INFO replication in time", when the reply took longer than 20 ms on a loaded machine).
 */

let server: RedisServer | undefined;
let proxy: RedisProxy | undefined;
let log: RedisLog | undefined;

afterEach(async () => {
  await log?.close();
  log = undefined;
  await proxy?.close();
  proxy = undefined;
  await server?.stop();
  server = undefined;
});

describeWithServers("waiting: 'blocking' on a slow link", () => {
  it('an append made while the client id is on its way unblocks the XREAD once the id comes', async () => {
    server = await startRedisServer();
    proxy = await startProxy(server.port);
    log = redisLog({
      url: `redis://127.0.0.1:${proxy.port}`,
      prefix: testPrefix(),
      waiting: 'blocking',
      commandTimeoutMs: 3_000,
      onError: () => {},
    });
    const start = await log.start('slow', 'now');
    // Every reply now takes 150 ms: the id asked with the XREAD comes long after the append.
    proxy.delayReplies(150);
    // No deadline: the XREAD blocks for its longest slice (10 s), far beyond commandTimeoutMs.
    const woken = log.waitFor([{ channel: 'slow', after: start }], new AbortController().signal);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const appendedAt = Date.now();
    const position = await log.append('slow', 'hello');
    expect(Date.now() - appendedAt).toBeLessThan(3_000);
    expect(await woken).toBe(true);
    const read = await log.read('slow', start, { limit: 10, maxBytes: 1_000_000 });
    expect(read.kind === 'events' ? read.events : read).toEqual([{ position, json: '"hello"' }]);
  });
});
