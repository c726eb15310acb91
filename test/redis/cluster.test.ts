import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { describeEventLog } from '../conformance/event-log.js';
import { describeWithServers, startCluster, type RedisClusterProcesses } from './servers.js';
import { redisSubject } from './subject.js';

/**
 * The conformance suite against a real 3-master Redis Cluster on loopback ports: the path for
 * users who outgrow one Redis. Channels hash to different masters; each channel's keys share a
 * slot (hash tag), so every script runs on one node, and wake messages reach the subscriber
 * whatever node it is connected to.
 */
let processes: RedisClusterProcesses | undefined;

const cluster = (): Cluster => {
  const client = new Cluster([...processes!.nodes], { redisOptions: { maxRetriesPerRequest: 1 } });
  client.on('error', () => {});
  return client;
};

describeWithServers('Redis Cluster', () => {
  beforeAll(async () => {
    processes = await startCluster(3);
  }, 60_000);
  afterAll(async () => {
    await processes?.stop();
  });

  // Both waiting modes: the pub/sub watcher, and a blocking XREAD on the master of the channel's slot.
  for (const waiting of ['shared', 'blocking'] as const) {
    describeEventLog(`redis cluster ${waiting}`, redisSubject({ cluster }, { waiting }), { raceIterations: 500, raceEvents: 400 });
  }
});
