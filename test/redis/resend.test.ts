import { Cluster, Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { isHangtimeError } from '../../src/errors.js';
import { createHangtime, type WaitResult } from '../../src/hangtime.js';
import { isAppendUncertainError, redisKeys, redisLog, type RedisLog } from '../../src/redis/index.js';
import { APPEND } from '../../src/redis/scripts.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, sleep, testPrefix, until } from '../support/redis.js';
import { startProxy, type RedisProxy } from './proxy.js';
import { channelOn, startReplicatedCluster, type ClusterNode, type ReplicatedCluster } from './replicated-cluster.js';
import { describeWithServers, startRedisServer, type RedisServer } from './servers.js';

/**
 * An append in flight when Redis loses its data: the script ran, its reply never reached the
 * client, and the instance that ran it is gone with its data (a restart without persistence, a
 * failover to a replica that never received it). The client sends the command again once it is
 * connected (ioredis' `autoResendUnfulfilledCommands`, a Cluster client's retry, the log's own
 * retry), and the new history has no record of the append id. Storing it then would deliver it
 * twice: readers had it from the lost history, get a `reset` gap, and resume before the copy.
 * The log must refuse it (AppendUncertainError) and store nothing; when the history kept the
 * record (a restart with persistence), the re-sent append is recognised and stored once.
 *
 * A TCP proxy in front of the Redis the writer talks to lets the script run and holds its
 * reply (the connection stays open) until the server side dies.
 */

type Item = { kind: 'event'; data: unknown; position: string } | { kind: 'gap'; reason: string };

let server: RedisServer | undefined;
let proxy: RedisProxy | undefined;
let cluster: ReplicatedCluster | undefined;
const cleanup: Array<() => Promise<unknown> | void> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  await proxy?.close();
  proxy = undefined;
  await server?.stop();
  server = undefined;
  await cluster?.stop();
  cluster = undefined;
});

/** A reader polling `channel` from its start, through faults, until stopped: what it was told, in order. */
function follow(log: RedisLog, channel: string): { items: Item[]; events: () => unknown[]; stop: () => Promise<void> } {
  const hangtime = createHangtime({ log, minHoldMs: 0, logTimeoutMs: 2_000 });
  const items: Item[] = [];
  let stopped = false;
  const loop = (async () => {
    let cursor: string | undefined;
    while (!stopped) {
      let result: WaitResult;
      try {
        result = await hangtime.wait({ channels: [channel], cursor, from: 'oldest', waitMs: 300 });
      } catch (error) {
        if (!isHangtimeError(error) || error.code !== 'log_unavailable') throw error;
        await sleep(50);
        continue;
      }
      for (const gap of result.gaps) items.push({ kind: 'gap', reason: gap.reason ?? 'none' });
      for (const event of result.events) items.push({ kind: 'event', data: event.data, position: event.position });
      cursor = result.cursor;
    }
  })();
  return {
    items,
    events: () => items.flatMap((item) => (item.kind === 'event' ? [item.data] : [])),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

const outcome = (promise: Promise<string>): Promise<{ position?: string; error?: unknown }> =>
  promise.then(
    (position) => ({ position }),
    (error: unknown) => ({ error }),
  );

async function storedData(client: Redis | Cluster, prefix: string, channel: string): Promise<unknown[]> {
  const entries = await client.xrange(redisKeys(prefix, channel).events, '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[1]!) as unknown);
}

describeRedis('the append script stores only in a history the append was built for', () => {
  const run = async (admin: Redis, prefix: string, appendId: string, histories: string): Promise<string[]> => {
    const keys = redisKeys(prefix, 'built');
    const reply = (await admin.eval(
      APPEND.source,
      4,
      keys.events,
      keys.meta,
      ...keys.appends,
      'gen00000',
      '"data"',
      keys.wake,
      1000,
      0,
      0,
      0,
      appendId,
      60_000,
      '0',
      histories,
    )) as unknown[];
    return reply.map(String);
  };

  it('refuses an append id it has no record of when its history is not among those given, stores it when it is, and answers a recorded id whatever is given', async () => {
    const admin = adminClient(REDIS_URL);
    const prefix = testPrefix();
    try {
      const replid = /^master_replid:(\w+)/m.exec(await admin.info('replication'))![1]!;
      const ended = 'f'.repeat(40);
      // Built for histories that ended (or never were): nothing written, not even the generation.
      expect(await run(admin, prefix, 'a1', ended)).toEqual(['refused', '', '', '0', replid]);
      const keys = redisKeys(prefix, 'built');
      expect(await admin.exists(keys.events, keys.meta, ...keys.appends)).toBe(0);
      // One of the ids given is this history: stored.
      const [status, generation, id, , , previous] = await run(admin, prefix, 'a1', `${ended} ${replid}`);
      expect([status, generation, previous]).toEqual(['stored', 'gen00000', '']);
      // A stored append also answers the entry before it (for callers that link appends).
      const [, , next, , , before] = await run(admin, prefix, 'a2', replid);
      expect(before).toBe(id);
      await admin.xdel(keys.events, next!);
      // Its record is here: a repeat is answered with the first position, whatever it was built for.
      expect(await run(admin, prefix, 'a1', ended)).toEqual(['duplicate', 'gen00000', id, '0', replid]);
      expect(await admin.xlen(redisKeys(prefix, 'built').events)).toBe(1);
    } finally {
      await deletePrefix(admin, prefix);
      admin.disconnect();
    }
  });
});

describeWithServers('an append in flight when Redis loses its data', () => {
  /** Append 1, then 'two' with its reply held, restart Redis; return what happened to 'two'. */
  async function restartWhileInFlight(persistent: boolean) {
    server = await startRedisServer({ persistent });
    proxy = await startProxy(server.port);
    const prefix = testPrefix();
    // A long command timeout: the append's outcome is the reply to the re-sent command, not a timeout.
    const writer = redisLog({ url: `redis://127.0.0.1:${proxy.port}`, prefix, commandTimeoutMs: 30_000, onError: () => {} });
    cleanup.push(() => writer.close());
    const reader = redisLog({ url: server.url, prefix, onError: () => {} });
    cleanup.push(() => reader.close());
    const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => {});
    cleanup.push(() => admin.disconnect());
    const follower = follow(reader, 'once');
    cleanup.push(() => follower.stop());

    const first = await writer.append('once', 1);
    const held = proxy.holdReplyTo('"two"');
    const second = outcome(writer.append('once', 'two'));
    await held; // Redis ran it; the writer has no reply
    await until(() => follower.events().includes('two'), 'the reader to receive "two" from the first history');
    await server.restart(); // the proxy closes the writer's connection: it reconnects and sends the append again
    const result = await second;
    return { prefix, admin, writer, follower, first, result };
  }

  it('without persistence: the re-sent append is refused with AppendUncertainError, stored 0 times in the new history, received once', {
    timeout: 60_000,
  }, async () => {
    const { prefix, admin, writer, follower, result } = await restartWhileInFlight(false);
    if (!isAppendUncertainError(result.error))
      throw new Error(`expected an AppendUncertainError, got ${String(result.error ?? result.position)}`);
    expect(result.error.message).toMatch(/was not stored: Redis now writes another history/);
    expect(result.error.position).toBeUndefined();
    expect(await storedData(admin, prefix, 'once')).toEqual([]);

    // The log learnt the new history when it reconnected: the next append is stored.
    await writer.append('once', 3);
    await until(() => follower.events().includes(3), 'the reader to receive 3');
    await sleep(300);
    await follower.stop();
    expect(await storedData(admin, prefix, 'once')).toEqual([3]);
    // The loss of history is a gap; nothing is received twice.
    expect(follower.events()).toEqual([1, 'two', 3]);
    expect(follower.items.filter((item) => item.kind === 'gap')).toEqual([{ kind: 'gap', reason: 'reset' }]);
  });

  it('with persistence: the re-sent append is recognised by its id, stored once, and resolves with its first position', {
    timeout: 60_000,
  }, async () => {
    const { prefix, admin, writer, follower, first, result } = await restartWhileInFlight(true);
    expect(result.error).toBeUndefined();
    expect(result.position! > first).toBe(true);
    await writer.append('once', 3);
    await until(() => follower.events().includes(3), 'the reader to receive 3');
    await sleep(300);
    await follower.stop();
    expect(await storedData(admin, prefix, 'once')).toEqual([1, 'two', 3]);
    expect(follower.items).toEqual([
      { kind: 'event', data: 1, position: first },
      { kind: 'event', data: 'two', position: result.position },
      expect.objectContaining({ kind: 'event', data: 3 }),
    ]);
  });

  it('after a restart with nothing in flight, appends built once the client reconnected are stored, not refused', {
    timeout: 60_000,
  }, async () => {
    server = await startRedisServer();
    const prefix = testPrefix();
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    cleanup.push(() => client.disconnect());
    const writer = redisLog({ client, prefix, onError: () => {} });
    cleanup.push(() => writer.close());
    await writer.append('after', 1);
    let reconnected = false;
    client.once('close', () => client.once('ready', () => (reconnected = true)));
    await server.restart();
    await until(() => reconnected, 'the client to reconnect');
    // The log learns the new history (INFO replication) before it builds the appends, also
    // those that arrive while it asks.
    await Promise.all([2, 3, 4, 5].map((n) => writer.append('after', n)));
    expect((await storedData(client, prefix, 'after')).sort()).toEqual([2, 3, 4, 5]);
  });

  it('appends made while the client waits to reconnect to a restarted Redis are stored once it is back, not refused', {
    timeout: 60_000,
  }, async () => {
    server = await startRedisServer();
    const prefix = testPrefix();
    // A client that keeps commands while it reconnects (ioredis' default maxRetriesPerRequest is 20).
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    client.on('error', () => {});
    cleanup.push(() => client.disconnect());
    const writer = redisLog({ client, prefix, commandTimeoutMs: 30_000, onError: () => {} });
    cleanup.push(() => writer.close());
    await writer.append('queued', 1);
    const restarted = server;
    await restarted.kill();
    await until(() => client.status !== 'ready', 'the client to notice');
    // Never sent before the restart: nothing of them can be in the lost history.
    const appends = [2, 3, 4, 5].map((n) => outcome(writer.append('queued', n)));
    await sleep(300);
    await restarted.restart();
    const results = await Promise.all(appends);
    expect(results.map((result) => (result.error === undefined ? 'stored' : String(result.error)))).toEqual([
      'stored',
      'stored',
      'stored',
      'stored',
    ]);
    expect((await storedData(client, prefix, 'queued')).sort()).toEqual([2, 3, 4, 5]);
  });

  it('on a Cluster, a failover to a replica that never received it: the re-sent append is refused, not stored on the new master', {
    timeout: 120_000,
  }, async () => {
    cluster = await startReplicatedCluster({ masters: 3, nodeTimeoutMs: 1_000, proxied: [0] });
    const [m0] = cluster.masters as [ClusterNode];
    const [r0] = cluster.replicas as [ClusterNode];
    const connect = (): Cluster => {
      const client = new Cluster([...cluster!.startupNodes], { redisOptions: { maxRetriesPerRequest: 1 } });
      client.on('error', () => {});
      cleanup.push(() => client.disconnect());
      return client;
    };
    const channel = await channelOn(m0, 'resend');
    const prefix = testPrefix();
    const writer = redisLog({ client: connect(), prefix, commandTimeoutMs: 30_000, onError: () => {} });
    cleanup.push(() => writer.close());
    const reader = redisLog({ client: connect(), prefix, onError: () => {} });
    cleanup.push(() => reader.close());
    const follower = follow(reader, channel);
    cleanup.push(() => follower.stop());

    await writer.append(channel, 1); // on master 0 and its replica
    m0.proxy!.stallReplication(); // from now on the replica receives nothing
    const held = m0.proxy!.holdReplyTo('"two"');
    const second = outcome(writer.append(channel, 'two'));
    await held;
    await until(() => follower.events().includes('two'), 'the reader to receive "two" from master 0');
    await m0.server.kill(); // its replica takes over without "two"
    await cluster.waitForMaster(r0);
    const result = await second;
    if (!isAppendUncertainError(result.error))
      throw new Error(`expected an AppendUncertainError, got ${String(result.error ?? result.position)}`);
    expect(result.error.message).toMatch(/was not stored: Redis now writes another history/);
    expect(await storedData(r0.admin, prefix, channel)).toEqual([1]);

    await writer.append(channel, 3);
    await until(() => follower.events().includes(3), 'the reader to receive 3', 20_000);
    await sleep(300);
    await follower.stop();
    expect(await storedData(r0.admin, prefix, channel)).toEqual([1, 3]);
    // "two" was lost with master 0: the reader that had it was told (a gap), and got it once.
    expect(follower.events()).toEqual([1, 'two', 3]);
    expect(follower.items.some((item) => item.kind === 'gap')).toBe(true);
  });
});
