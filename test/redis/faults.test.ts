import { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { isHangtimeError } from '../../src/errors.js';
import { createHangtime, type WaitResult } from '../../src/hangtime.js';
import { redisKeys, redisLog, type RedisLog } from '../../src/redis/index.js';
import { sleep, testPrefix } from '../support/redis.js';
import { describeWithServers, freePort, startRedisServer, type RedisServer } from './servers.js';

/**
 * Faults, on a private redis-server: connections killed and Redis restarted while polls wait
 * and appends go on (every event in the log reaches every poller exactly once), and a Redis
 * that is unreachable or paused (every poll still answers within its budget).
 */

const CHANNELS = ['fault-a', 'fault-b'];

let server: RedisServer | undefined;
let admin: Redis | undefined;
let logs: RedisLog[] = [];
let prefix: string;
let waiting: 'shared' | 'blocking' = 'shared';

const openLog = (url: string, connectionName: string): RedisLog => {
  const log = redisLog({ url, prefix, connectionName, commandTimeoutMs: 1_000, waiting, onError: () => {} });
  logs.push(log);
  return log;
};

interface Run {
  /** Per channel, the data of every event each reader received, in order. */
  readonly readers: Array<Map<string, number[]>>;
  /** Values whose append was acknowledged. */
  readonly acknowledged: Set<number>;
}

/**
 * Readers poll both channels, carrying their cursor, retrying a failed poll with the same
 * cursor; a writer appends `total` events meanwhile; `disturb` runs alongside. Readers stop
 * once they hold everything the channels contain after the writer is done.
 */
async function pollThrough(url: string, total: number, disturb: () => Promise<void>): Promise<Run> {
  // Blocking: a log per reader, as on a platform of one poll per instance; shared: one for all.
  const waiters =
    waiting === 'blocking' ? [0, 1, 2, 3].map((n) => openLog(url, `ht-fault-waiter-${n}`)) : [openLog(url, 'ht-fault-waiter')];
  const writer = openLog(url, 'ht-fault-writer');
  const servers = waiters.map((log) => createHangtime({ log, logTimeoutMs: 1_000, minHoldMs: 0 }));
  const acknowledged = new Set<number>();
  let written: Map<string, number[]> | undefined;

  const write = async (): Promise<void> => {
    for (let i = 0; i < total; i++) {
      try {
        await writer.append(CHANNELS[i % 2]!, i);
        acknowledged.add(i);
      } catch {
        // Refused or unknown (the connection died mid-command): the log itself says later
        // whether it landed; readers must match the log either way.
      }
      await sleep(i % 7 === 0 ? 4 : 1);
    }
    await sleep(200);
    written = await streamContents(url);
  };

  const read = async (_: unknown, n: number): Promise<Map<string, number[]>> => {
    const hangtime = servers[n % servers.length]!;
    const seen = new Map(CHANNELS.map((channel) => [channel, [] as number[]]));
    let cursor: string | undefined;
    const deadline = Date.now() + 45_000;
    const done = () => written !== undefined && CHANNELS.every((c) => seen.get(c)!.length >= written!.get(c)!.length);
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`reader stuck: ${JSON.stringify([...seen].map(([c, v]) => [c, v.length]))}`);
      let result: WaitResult<number>;
      try {
        result = await hangtime.wait<number>({ channels: CHANNELS, cursor, from: 'oldest', waitMs: 400 });
      } catch (error) {
        if (!isHangtimeError(error) || error.code !== 'log_unavailable') throw error;
        await sleep(50);
        continue;
      }
      expect(result.gaps).toEqual([]);
      for (const event of result.events) seen.get(event.channel)!.push(event.data);
      cursor = result.cursor;
    }
    return seen;
  };

  const [readers] = await Promise.all([Promise.all(Array.from({ length: 4 }, read)), write(), disturb()]);
  const final = written!;
  for (const seen of readers) for (const channel of CHANNELS) expect(seen.get(channel)).toEqual(final.get(channel));
  // Every acknowledged append is in the log (and so was delivered).
  const stored = new Set([...final.values()].flat());
  for (const value of acknowledged) expect(stored.has(value), `acknowledged ${value}`).toBe(true);
  return { readers, acknowledged };
}

async function streamContents(url: string): Promise<Map<string, number[]>> {
  const client = new Redis(url);
  try {
    const contents = new Map<string, number[]>();
    for (const channel of CHANNELS) {
      const entries = await client.xrange(redisKeys(prefix, channel).events, '-', '+');
      contents.set(
        channel,
        entries.map(([, fields]) => JSON.parse(fields[1]!) as number),
      );
    }
    return contents;
  } finally {
    client.disconnect();
  }
}

for (const mode of ['shared', 'blocking'] as const) {
  describeWithServers(`Redis faults (waiting: '${mode}')`, () => {
    beforeEach(() => {
      prefix = testPrefix();
      waiting = mode;
    });
    afterEach(async () => {
      await Promise.all(logs.map((log) => log.close()));
      logs = [];
      admin?.disconnect();
      admin = undefined;
      await server?.stop();
      server = undefined;
    });

    it('loses and repeats nothing when every connection of the log is killed, again and again', async () => {
      server = await startRedisServer();
      admin = new Redis(server.url);
      const run = await pollThrough(server.url, 400, async () => {
        for (let kill = 0; kill < 6; kill++) {
          await sleep(120);
          // Every connection but this one: commands, pub/sub, waiting and writing logs alike.
          await admin!.call('CLIENT', 'KILL', 'SKIPME', 'yes');
        }
      });
      expect(run.acknowledged.size).toBeGreaterThan(300);
    });

    it('loses and repeats nothing across a Redis restart', async () => {
      server = await startRedisServer({ persistent: true });
      const restarting = server;
      const run = await pollThrough(server.url, 300, async () => {
        await sleep(300);
        await restarting.restart();
      });
      expect(run.acknowledged.size).toBeGreaterThan(200);
    });

    it('answers within its budget when Redis is unreachable', async () => {
      const url = `redis://127.0.0.1:${await freePort()}`; // nothing listens there
      const log = openLog(url, 'ht-unreachable');
      const hangtime = createHangtime({ log, logTimeoutMs: 1_000 });
      const started = Date.now();
      const deadline = started + 4_000;
      const response = await hangtime.handler(new Request('http://test/poll?channels=nowhere'), { deadline });
      expect(Date.now()).toBeLessThan(deadline);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: { code: 'log_unavailable' } });
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it('answers within its budget when Redis stops answering (CLIENT PAUSE), holding or starting', async () => {
      server = await startRedisServer();
      admin = new Redis(server.url);
      const log = openLog(server.url, 'ht-paused');
      const hangtime = createHangtime({ log, logTimeoutMs: 1_000, minHoldMs: 0 });
      const { cursor } = await hangtime.wait({ channels: ['paused'], waitMs: 0 });
      // A poll already waiting when Redis stops answering ends at its own budget.
      const holding = hangtime.wait({ channels: ['paused'], cursor, waitMs: 1_500 });
      await sleep(300);
      // Paused longer than the test: the server is killed after it (an UNPAUSE would wait too).
      await admin.client('PAUSE', 20_000, 'ALL');
      const started = Date.now();
      const held = await holding;
      expect(held.reason).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(3_000);

      // A poll that starts now, on a channel this process knows nothing of, learns nothing from
      // Redis: it answers before its deadline, empty (its wait ran out) or 503 (its read did).
      const deadline = Date.now() + 4_000;
      const response = await hangtime.handler(new Request('http://test/poll?channels=elsewhere&from=oldest'), { deadline });
      expect(Date.now()).toBeLessThan(deadline);
      expect([200, 503]).toContain(response.status);
      if (response.status === 200) expect(await response.json()).toMatchObject({ events: [] });
    });

    it.runIf(mode === 'shared')(
      'wakes a poll that was waiting when its pub/sub connection died, for an append made meanwhile',
      async () => {
        server = await startRedisServer();
        admin = new Redis(server.url);
        const log = openLog(server.url, 'ht-resume');
        const writer = openLog(server.url, 'ht-resume-writer');
        const hangtime = createHangtime({ log, minHoldMs: 0 });
        const { cursor } = await hangtime.wait({ channels: ['resume'], waitMs: 0 });
        const waiting = hangtime.wait({ channels: ['resume'], cursor, waitMs: 15_000 });
        const subscriberId = async () => /id=(\d+) [^\n]* name=ht-resume-sub /.exec(String(await admin!.client('LIST')))?.[1];
        let id: string | undefined;
        while ((id = await subscriberId()) === undefined) await sleep(10);
        await sleep(100);

        // Kill the pub/sub connection and append at once: the wake message goes nowhere.
        await admin.call('CLIENT', 'KILL', 'ID', id);
        const position = await writer.append('resume', 'while you were away');
        const result = await waiting;
        expect(result.reason).toBe('events');
        expect(result.events).toEqual([{ channel: 'resume', position, data: 'while you were away' }]);
        // Woken by the re-check after reconnecting, not by the end of its 15 s budget.
        expect(result.heldMs).toBeLessThan(10_000);
        expect(await subscriberId()).not.toBe(id);
      },
    );
  });
}
