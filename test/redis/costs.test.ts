import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHangtime } from '../../src/hangtime.js';
import { redisLog } from '../../src/redis/index.js';
import { commandCalls as serverCalls, sleep, testPrefix, until } from '../support/redis.js';
import { describeWithServers, startRedisServer, type RedisServer } from './servers.js';

/**
 * What the log costs Redis, counted exactly on a private redis-server (no other suite sends
 * it commands): a publish is one command (the append script; with replicas, a WAIT too: see
 * durability.test.ts), the number of commands a fan-out takes does not grow with the number of
 * waiters, and a poll that times out costs at most one script call. Counts, not timings.
 */

let server: RedisServer;
let admin: Redis;

/**
 * Commands the server ran since the last reset, by name. Commands a script runs inside
 * (XADD, XRANGE, …) are counted under their own names too, besides the EVALSHA.
 */
async function commandCalls(): Promise<Map<string, number>> {
  // The test's own CONFIG and INFO left out; the append script's INFO replication is counted
  // by `infoCalls` below.
  return new Map(Object.entries(await serverCalls(admin)).filter(([name]) => !/^(config|info)/.test(name)));
}

/** The log sends nothing but scripts, WAIT and (un)subscriptions: its top-level commands. */
const logCommands = (calls: Map<string, number>): number =>
  ['evalsha', 'eval', 'wait', 'subscribe', 'unsubscribe'].reduce((sum, name) => sum + (calls.get(name) ?? 0), 0);

const allCommands = (calls: Map<string, number>): number => [...calls.values()].reduce((a, b) => a + b, 0);

describeWithServers('what waiting costs Redis', () => {
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  async function fanOut(waiters: number): Promise<{ scripts: number; commands: number }> {
    const prefix = testPrefix();
    const log = redisLog({ url: server.url, prefix });
    const publisher = redisLog({ url: server.url, prefix });
    try {
      const hangtime = createHangtime({ log, maxWaiters: 100_000 });
      const { cursor } = await hangtime.wait({ channels: ['fan'], waitMs: 0 });
      const polls = Array.from({ length: waiters }, () => hangtime.wait({ channels: ['fan'], cursor, waitMs: 20_000 }));
      await until(() => log.stats().waiters === waiters, `${waiters} waiters`);
      // Connect the publisher and load its script (EVAL once) outside the count, and let the
      // channel's subscription and check settle.
      await publisher.append('warm-up', 0);
      await sleep(100);
      await admin.config('RESETSTAT');
      await publisher.append('fan', { n: 1 });
      const results = await Promise.all(polls);
      expect(results.every((result) => result.events.length === 1 && result.reason === 'events')).toBe(true);
      const calls = await commandCalls();
      return { scripts: logCommands(calls), commands: allCommands(calls) };
    } finally {
      await Promise.all([log.close(), publisher.close()]);
    }
  }

  it('a fan-out costs the same few commands for 10 waiters and for 1,000', async () => {
    const small = await fanOut(10);
    const large = await fanOut(1_000);
    // One append script, and one read script shared by all the waiters of the process.
    expect(small.scripts).toBeLessThanOrEqual(2);
    expect(large.scripts).toBeLessThanOrEqual(2);
    // Counting what the scripts run inside too: not one command more for 100 times the waiters.
    expect(large.commands).toBeLessThanOrEqual(small.commands);
  });

  it('a publish is one command: the append script (no replica here, so no WAIT)', async () => {
    const log = redisLog({ url: server.url, prefix: testPrefix(), maxEventsPerChannel: 1_000, maxAgeMs: 3_600_000 });
    try {
      await log.append('once', 0);
      await admin.config('RESETSTAT');
      for (let i = 1; i <= 10; i++) await log.append('once', i);
      const calls = await commandCalls();
      expect(logCommands(calls)).toBe(10);
      expect(calls.get('evalsha')).toBe(10);
      // Inside the script, with both retention limits on: INFO replication (not counted here),
      // HMGET and HGET (append ids), HMGET (meta), XREVRANGE (the previous entry), XADD, TIME,
      // XRANGE and XLEN (retention), HSET (the id), PUBLISH: 10 per append (was 14 plus INFO
      // before issue 12: a second TIME, HGET per bookkeeping field, EXISTS, PEXPIRE each time).
      expect(allCommands(calls) - logCommands(calls)).toBeLessThanOrEqual(10 * 10);
    } finally {
      await log.close();
    }
  });

  it('a delivered batch costs one read per process, however many polls it answers', async () => {
    const prefix = testPrefix();
    const log = redisLog({ url: server.url, prefix });
    const publisher = redisLog({ url: server.url, prefix });
    try {
      const hangtime = createHangtime({ log, maxWaiters: 1_000 });
      const { cursor } = await hangtime.wait({ channels: ['batch'], waitMs: 0 });
      const polls = Array.from({ length: 50 }, () => hangtime.wait({ channels: ['batch'], cursor, waitMs: 20_000 }));
      await until(() => log.stats().waiters === 50, '50 waiters');
      await publisher.append('warm-up', 0);
      await sleep(100);
      await admin.config('RESETSTAT');
      await publisher.append('batch', { n: 1 });
      const results = await Promise.all(polls);
      expect(results.every((result) => result.events.length === 1)).toBe(true);
      // The publisher's append script, and one read script in the waiting process.
      expect((await commandCalls()).get('evalsha')).toBe(2);
    } finally {
      await Promise.all([log.close(), publisher.close()]);
    }
  });

  it("new clients starting at 'now' on a channel polls wait on cost no command, and miss nothing appended after", async () => {
    const prefix = testPrefix();
    const log = redisLog({ url: server.url, prefix, waiting: 'shared' });
    const publisher = redisLog({ url: server.url, prefix });
    try {
      const hangtime = createHangtime({ log, maxWaiters: 1_000 });
      await publisher.append('burst', 'before');
      const { cursor } = await hangtime.wait({ channels: ['burst'], waitMs: 0 });
      const held = hangtime.wait({ channels: ['burst'], cursor, waitMs: 20_000 });
      await until(() => log.stats().waiters === 1, 'the poll waits');
      // Once the channel is subscribed and its check has come back, a start costs nothing.
      const free = async (): Promise<boolean> => {
        await admin.config('RESETSTAT');
        await hangtime.wait({ channels: ['burst'], waitMs: 0 });
        return logCommands(await commandCalls()) === 0;
      };
      await until(free, 'a start served from what the watcher knows');
      await admin.config('RESETSTAT');
      const firsts = await Promise.all(Array.from({ length: 20 }, () => hangtime.wait({ channels: ['burst'], waitMs: 0 })));
      expect(firsts.every((first) => first.cursor === cursor)).toBe(true);
      expect(logCommands(await commandCalls())).toBe(0);
      // Starts racing appends, on the same log: whatever position each start answered, a poll
      // from it gets what was appended after its answer (a start may come just before an append
      // whose message is on its way: it then gets that one too, never less).
      const readUntil = async (from: string, last: string): Promise<unknown[]> => {
        const seen: unknown[] = [];
        let at = from;
        for (let polls = 0; !seen.includes(last) && polls < 10; polls++) {
          const next = await hangtime.wait({ channels: ['burst'], cursor: at, waitMs: 5_000 });
          seen.push(...next.events.map((event) => event.data));
          at = next.cursor;
        }
        return seen;
      };
      for (let i = 0; i < 10; i++) {
        const appending = publisher.append('burst', `race-${i}`);
        const first = await hangtime.wait({ channels: ['burst'], waitMs: 0 });
        await appending;
        await publisher.append('burst', `mark-${i}`);
        const seen = await readUntil(first.cursor, `mark-${i}`);
        expect(seen.at(-1)).toBe(`mark-${i}`);
        for (const data of seen.slice(0, -1)) expect([`race-${i}`, `mark-${i - 1}`]).toContain(data);
      }
      expect((await held).events[0]?.data).toBe('race-0');
    } finally {
      await Promise.all([log.close(), publisher.close()]);
    }
  });

  it('a poll that times out on a watched channel costs at most one script call', async () => {
    const prefix = testPrefix();
    const log = redisLog({ url: server.url, prefix });
    try {
      const hangtime = createHangtime({ log, minHoldMs: 0 });
      let { cursor } = await hangtime.wait({ channels: ['quiet'], waitMs: 0 });
      await log.append('quiet', 'once');
      ({ cursor } = await hangtime.wait({ channels: ['quiet'], cursor, waitMs: 100 }));
      // One poll that waits: the channel is now subscribed and known.
      ({ cursor } = await hangtime.wait({ channels: ['quiet'], cursor, waitMs: 60 }));
      await admin.config('RESETSTAT');
      const polls = 20;
      for (let i = 0; i < polls; i++) {
        const result = await hangtime.wait({ channels: ['quiet'], cursor, waitMs: 60 });
        expect(result.reason).toBe('timeout');
        cursor = result.cursor;
      }
      // Mostly none: a read after the position the channel is known to stand at needs no
      // Redis; at most one read script per poll when that knowledge is older than 1 s.
      expect(logCommands(await commandCalls())).toBeLessThanOrEqual(polls);
    } finally {
      await log.close();
    }
  });
});
