import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { isAppendUncertainError, redisKeys, redisLog, type RedisLog } from '../../src/redis/index.js';
import { decodePosition } from '../../src/redis/position.js';
import { commandCalls, testPrefix, until } from '../support/redis.js';
import { startProxy, type RedisProxy } from './proxy.js';
import { describeWithServers, startRedisServer, type RedisServer } from './servers.js';

/**
 * `durability: 'replicated'` on a private master with one replica, which replicates through a
 * TCP proxy so that the test can cut the link while both ends still count it as connected (a
 * partition). Commands are counted on the master with INFO commandstats.
 */

let master: RedisServer;
let replica: RedisServer;
let proxy: RedisProxy;
let admin: Redis;
let replicaAdmin: Redis;
let logs: RedisLog[] = [];

const open = (options: { durability?: 'replicated' | 'leader'; prefix: string }): RedisLog => {
  // Generous: a loaded machine must not make a healthy replica look absent.
  const log = redisLog({ url: master.url, replicationTimeoutMs: 1_500, ...options });
  logs.push(log);
  return log;
};

async function calls(): Promise<Record<string, number>> {
  return Object.fromEntries(Object.entries(await commandCalls(admin)).filter(([name]) => /^(evalsha|eval|wait)$/.test(name)));
}

async function startReplica(): Promise<void> {
  replica = await startRedisServer({ extraArgs: ['--replicaof', '127.0.0.1', String(proxy.port)] });
  replicaAdmin = new Redis(replica.url);
  await until(async () => /slave0:.*state=online/.test(await admin.info('replication')), 'the replica to be online');
}

describeWithServers("durability: 'replicated'", () => {
  beforeAll(async () => {
    // The replica syncs at once (the default waits 5 s for more replicas to share a transfer).
    master = await startRedisServer({ extraArgs: ['--repl-diskless-sync-delay', '0'] });
    admin = new Redis(master.url);
  });
  afterEach(async () => {
    await Promise.all(logs.map((log) => log.close()));
    logs = [];
    replicaAdmin?.disconnect();
    await replica?.stop();
    await proxy?.close();
  });
  afterAll(async () => {
    admin?.disconnect();
    await master?.stop();
  });

  it('acknowledges an append once the replica has it: two commands per append (script and WAIT)', async () => {
    proxy = await startProxy(master.port);
    await startReplica();
    const prefix = testPrefix();
    const log = open({ prefix });
    // The first append learns that the master has a replica (script, then script again + WAIT).
    await log.append('durable', 0);
    await admin.config('RESETSTAT');
    const { events } = redisKeys(prefix, 'durable');
    for (let i = 1; i <= 10; i++) {
      const position = await log.append('durable', i);
      // Resolved: the replica has it already, without waiting.
      const [entry] = await replicaAdmin.xrange(events, decodePosition(position)!.id, decodePosition(position)!.id);
      expect(entry?.[1]).toEqual(['d', String(i)]);
    }
    expect(await calls()).toEqual({ evalsha: 10, wait: 10 });
  });

  it('rejects with AppendUncertainError when no replica confirms in time; a retry with its id is stored once', async () => {
    proxy = await startProxy(master.port);
    await startReplica();
    const prefix = testPrefix();
    const log = open({ prefix });
    await log.append('cut', 'before');
    const resume = proxy.stallReplication();
    const started = Date.now();
    const error = await log.append('cut', 'during').then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    if (!isAppendUncertainError(error)) throw new Error(`expected an AppendUncertainError, got ${String(error)}`);
    expect(error.message).toMatch(
      /stored by the channel's Redis master at .*no replica confirmed it within 1500 ms.*Retrying with the same id/,
    );
    expect(error.channel).toBe('cut');
    expect(error.position).toBeDefined();
    // Still cut: the retry is recognised (nothing stored again) and still unconfirmed.
    const again = await log.append('cut', 'during', { id: error.appendId }).catch((reason: unknown) => reason);
    expect(isAppendUncertainError(again) && again.position).toBe(error.position);
    // The link heals (the replica reconnects and catches up): the same retry now succeeds.
    resume();
    await until(
      async () => proxy.replicationLinks() === 1 && /slave0:.*state=online/.test(await admin.info('replication')),
      'the replica to reconnect',
    );
    expect(await log.append('cut', 'during', { id: error.appendId })).toBe(error.position);
    const stored = await admin.xrange(redisKeys(prefix, 'cut').events, '-', '+');
    expect(stored.map(([, fields]) => fields[1])).toEqual(['"before"', '"during"']);
  });

  it("'leader' acknowledges at once, without WAIT, even while the replica is cut off", async () => {
    proxy = await startProxy(master.port);
    await startReplica();
    const log = open({ prefix: testPrefix(), durability: 'leader' });
    await log.append('fast', 0);
    proxy.stallReplication();
    await admin.config('RESETSTAT');
    await log.append('fast', 1);
    expect(await calls()).toEqual({ evalsha: 1 });
  });

  it('without replicas, an append is one script, with no WAIT', async () => {
    const log = open({ prefix: testPrefix() });
    await log.append('alone', 0);
    await admin.config('RESETSTAT');
    for (let i = 0; i < 5; i++) await log.append('alone', i);
    expect(await calls()).toEqual({ evalsha: 5 });
  });
});
