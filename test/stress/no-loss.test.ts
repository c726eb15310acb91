import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { redisLog } from '../../src/redis/index.js';
import { seedFrom } from '../fuzz/prng.js';
import { describeWithServers, startRedisServer, type RedisServer } from '../redis/servers.js';
import { testPrefix } from '../support/redis.js';
import { failureMessage, runScenario, sizes, type Fault } from './scenario.js';
import { startServerProcess, type ServerProcess } from './servers.js';

/**
 * No loss through the public client, under faults (issue 9). Each run: 100 `hangtime/client`
 * subscribers (Node's fetch) on 3 of 8 channels each, against a hangtime server process;
 * publishers appending concurrently (backend `log.append` and HTTP POST, steadily and in
 * bursts), client aborts all along (subscriptions closed and reopened from their cursor,
 * requests cut in flight), faults at set moments (server restarts; on a Redis the test starts:
 * CLIENT KILL TYPE normal and pubsub, CLIENT PAUSE, restarts with and without persistence).
 * Then every subscriber's sequence per channel must be the log's: nothing lost, duplicated or
 * reordered, except history whose loss a gap told it of (none at all with persistence); and
 * no channel of a poll starved behind another (scenario.ts, ledger.ts).
 *
 * Sleepers, a twelfth of the subscribers, are live before the first publish and then closed
 * until after the first loss of history: their cursors name every channel's start.
 *
 * `npm run stress` runs the same scenarios bigger and longer (STRESS_SUBSCRIBERS,
 * STRESS_DURATION_MS); STRESS_SEED replays a failed run's random choices.
 */

/** Answers carry at most this many events, so that a backlog takes many answers to drain. */
const LIMIT = 10;
const SERVER = { maxWaitMs: 2_000, maxEvents: LIMIT, logTimeoutMs: 1_000 };
/** Setting up, publishing, then draining (which takes longer when the run is bigger). */
const TIMEOUT_MS = 180_000 + 3 * sizes.durationMs;

const seed = seedFrom('STRESS_SEED');
let cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('no loss under faults: the memory log', () => {
  it(
    'every event reaches every subscriber once, in order, or behind a gap, across restarts that lose history',
    async () => {
      const server = await startServerProcess({ log: 'memory', ...SERVER });
      cleanups.push(() => server.close());
      const restart: Fault = { at: 0, name: 'hangtime server restart (memory log: history lost)', run: () => server.restart() };
      const report = await runScenario(seed, {
        name: 'memory log',
        server,
        backend: (channel, data) => server.append(channel, data),
        faults: [
          { ...restart, at: 0.35 },
          { ...restart, at: 0.7 },
        ],
        // Their cursors name every channel's start; the restart at 35% loses what was published since.
        sleepersWakeAt: 0.5,
        gapsAllowed: true,
        logFailuresExpected: false,
      });
      process.stderr.write(`${report.summary}\n`);
      expect(report.problems.length, failureMessage(report, seed)).toBe(0);
      expect(report.accounting.stats.gaps).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );
});

describeWithServers('no loss under faults: the Redis log', () => {
  /** A private redis-server, the hangtime server process over it, and a publisher process's log. */
  async function setUp(
    persistent: boolean,
  ): Promise<{ redis: RedisServer; admin: Redis; server: ServerProcess; publish: (channel: string, data: unknown) => Promise<string> }> {
    const redis = await startRedisServer({ persistent });
    cleanups.push(() => redis.stop());
    const admin = new Redis(redis.url);
    admin.on('error', () => {});
    cleanups.push(() => admin.disconnect());
    const prefix = testPrefix();
    const server = await startServerProcess({ log: 'redis', redisUrl: redis.url, prefix, commandTimeoutMs: 1_000, ...SERVER });
    cleanups.push(() => server.close());
    // Backend code in another process: a log of its own on the same Redis and prefix.
    const publisher = redisLog({
      url: redis.url,
      prefix,
      maxEventsPerChannel: 1_000_000,
      commandTimeoutMs: 1_000,
      connectionName: 'ht-stress-publisher',
      onError: () => {},
    });
    cleanups.push(() => publisher.close());
    return { redis, admin, server, publish: (channel, data) => publisher.append(channel, data) };
  }

  const faultsOf = (redis: RedisServer, admin: Redis, server: ServerProcess) => ({
    killNormal: (at: number): Fault => ({
      at,
      name: 'CLIENT KILL TYPE normal',
      run: async () => void (await admin.call('CLIENT', 'KILL', 'TYPE', 'normal')),
    }),
    killPubsub: (at: number): Fault => ({
      at,
      name: 'CLIENT KILL TYPE pubsub',
      run: async () => void (await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')),
    }),
    pause: (at: number, ms: number, mode: 'ALL' | 'WRITE'): Fault => ({
      at,
      name: `CLIENT PAUSE ${ms} ${mode}`,
      run: async () => void (await admin.call('CLIENT', 'PAUSE', ms, mode)),
    }),
    restartRedis: (at: number): Fault => ({ at, name: 'Redis restart', run: () => redis.restart() }),
    restartServer: (at: number): Fault => ({ at, name: 'hangtime server restart', run: () => server.restart() }),
  });

  it(
    'without persistence: connection kills of both kinds, CLIENT PAUSE, a Redis restart that loses history, a server restart',
    async () => {
      const { redis, admin, server, publish } = await setUp(false);
      const f = faultsOf(redis, admin, server);
      const report = await runScenario(seed, {
        name: 'Redis log, no persistence',
        server,
        backend: publish,
        faults: [
          f.killNormal(0.1),
          f.killPubsub(0.2),
          f.pause(0.28, 700, 'ALL'),
          f.restartRedis(0.4),
          f.killPubsub(0.55),
          f.restartServer(0.65),
          f.killNormal(0.75),
          f.pause(0.85, 500, 'WRITE'),
        ],
        sleepersWakeAt: 0.5,
        gapsAllowed: true,
        logFailuresExpected: true,
      });
      process.stderr.write(`${report.summary}\n`);
      expect(report.problems.length, failureMessage(report, seed)).toBe(0);
      expect(report.accounting.stats.gaps).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );

  it(
    'with persistence (appendonly, fsync always): the same faults lose nothing, and no gap is reported',
    async () => {
      const { redis, admin, server, publish } = await setUp(true);
      const f = faultsOf(redis, admin, server);
      const report = await runScenario(seed, {
        name: 'Redis log, persistent',
        server,
        backend: publish,
        faults: [f.killNormal(0.15), f.killPubsub(0.3), f.restartRedis(0.45), f.restartServer(0.6), f.pause(0.75, 600, 'ALL')],
        sleepersWakeAt: 0.55,
        gapsAllowed: false,
        logFailuresExpected: true,
      });
      process.stderr.write(`${report.summary}\n`);
      expect(report.problems.length, failureMessage(report, seed)).toBe(0);
    },
    TIMEOUT_MS,
  );
});
