import { Cluster, Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { createHangtime } from '../../src/hangtime.js';
import { redisKeys, redisLog, type RedisLog } from '../../src/redis/index.js';
import { sleep, testPrefix, until } from '../support/redis.js';
import { startProxy, type RedisProxy } from './proxy.js';
import { describeWithServers, freePort, startRedisServer, type RedisServer } from './servers.js';

/**
 * An append whose reply is lost: the server ran the script, then the connection closed before
 * the reply reached the client. Clients send the command again (ioredis' default
 * `autoResendUnfulfilledCommands`, a Cluster client after `retryDelayOnFailover`, or the log's
 * own retry); the append id makes the second run store nothing. A TCP proxy in front of a
 * private redis-server drops exactly one reply; a reader on a direct connection must receive
 * every event once: 1, 2, 3, not 1, 2, 2, 3.
 */

let server: RedisServer | undefined;
let proxy: RedisProxy | undefined;
const cleanup: Array<() => Promise<unknown> | void> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  await proxy?.close();
  proxy = undefined;
  await server?.stop();
  server = undefined;
});

/** Append 1, 2 (its reply dropped), 3 through `writer`; a poller reading directly must see each once. */
async function appendThroughLostReply(writer: RedisLog, direct: string): Promise<void> {
  const prefix = writer.prefix;
  const reader = redisLog({ url: direct, prefix });
  cleanup.push(() => reader.close());
  const hangtime = createHangtime({ log: reader, minHoldMs: 0 });
  let { cursor } = await hangtime.wait({ channels: ['once'], waitMs: 0 });
  const seen: unknown[] = [];
  let stop = false;
  const polling = (async () => {
    while (!stop) {
      const result = await hangtime.wait<number>({ channels: ['once'], cursor, waitMs: 300 });
      expect(result.gaps).toEqual([]);
      seen.push(...result.events.map((event) => event.data));
      cursor = result.cursor;
    }
  })();

  try {
    const first = await writer.append('once', 1);
    const dropped = proxy!.dropReplyTo('"two"');
    const second = await writer.append('once', 'two');
    await dropped; // the reply was really lost on the way
    const third = await writer.append('once', 3);
    expect(first < second && second < third).toBe(true);
    await until(() => seen.length >= 3, 'three events', 10_000);
    await sleep(300);
  } finally {
    stop = true;
    await polling;
  }
  expect(seen).toEqual([1, 'two', 3]);

  const admin = new Redis(direct);
  cleanup.push(() => admin.disconnect());
  const stored = await admin.xrange(redisKeys(prefix, 'once').events, '-', '+');
  expect(stored.map(([, fields]) => JSON.parse(fields[1]!) as unknown)).toEqual([1, 'two', 3]);
}

describeWithServers('an append whose reply is lost is stored once', () => {
  it('with a client on ioredis defaults, which sends the command again after reconnecting', async () => {
    server = await startRedisServer();
    proxy = await startProxy(server.port);
    const client = new Redis({ port: proxy.port, host: '127.0.0.1' });
    client.on('error', () => {});
    cleanup.push(() => client.disconnect());
    const writer = redisLog({ client, prefix: testPrefix() });
    cleanup.push(() => writer.close());
    await appendThroughLostReply(writer, server.url);
  });

  it("with the log's own connection, which sends the command again after reconnecting", async () => {
    server = await startRedisServer();
    proxy = await startProxy(server.port);
    const writer = redisLog({ url: `redis://127.0.0.1:${proxy.port}`, prefix: testPrefix() });
    cleanup.push(() => writer.close());
    await appendThroughLostReply(writer, server.url);
  });

  it('with a Cluster client, which sends the command again after retryDelayOnFailover', async () => {
    // A one-node Cluster that announces the proxy's port: the client reaches it only through the proxy.
    const proxyPort = await freePort();
    const busPort = await freePort();
    server = await startRedisServer({
      extraArgs: [
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(busPort),
        '--cluster-announce-ip',
        '127.0.0.1',
        '--cluster-announce-port',
        String(proxyPort),
        '--cluster-announce-bus-port',
        String(busPort),
      ],
    });
    proxy = await startProxy(server.port, proxyPort);
    const admin = new Redis(server.url);
    cleanup.push(() => admin.disconnect());
    await admin.cluster('ADDSLOTSRANGE', '0', '16383');
    await until(async () => String(await admin.cluster('INFO')).includes('cluster_state:ok'), 'cluster_state:ok');
    // The settings docs/redis.md recommends for a Cluster passed in (ioredis' retries kept).
    const client = new Cluster([{ host: '127.0.0.1', port: proxyPort }], { redisOptions: { maxRetriesPerRequest: 1 } });
    client.on('error', () => {});
    cleanup.push(() => client.disconnect());
    const writer = redisLog({ client, prefix: testPrefix() });
    cleanup.push(() => writer.close());
    await appendThroughLostReply(writer, server.url);
  });
});
