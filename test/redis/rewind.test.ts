import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createHangtime } from '../../src/hangtime.js';
import { redisKeys, redisLog, type RedisLog } from '../../src/redis/index.js';
import { decodePosition } from '../../src/redis/position.js';
import { commandCalls, sleep, testPrefix, until } from '../support/redis.js';
import { describeWithServers, startRedisServer, type RedisServer } from './servers.js';

/**
 * A head that moves backwards, as after a failover that promoted a replica without the newest
 * entries: e1..e5 were replicated, L1..L3 were not. Simulated on one private redis-server by
 * rebuilding the stream with e1..e5 under their own ids (the generation in `meta` stays, as it
 * does on a promoted replica), so the commands the log sends can be counted exactly.
 */

let server: RedisServer;
let admin: Redis;
let logs: RedisLog[] = [];
const ALL = { limit: 100, maxBytes: 1_000_000 };

const open = (prefix: string, waiting: 'auto' | 'shared' = 'auto'): RedisLog => {
  const log = redisLog({ url: server.url, prefix, waiting });
  logs.push(log);
  return log;
};

/** Scripts the server ran since the last RESETSTAT. */
async function scriptCalls(): Promise<number> {
  const calls = await commandCalls(admin);
  return (calls.evalsha ?? 0) + (calls.eval ?? 0);
}

/** Append e1..e5, then L1..L3 (a few ms later, so that an id fits between e5 and L1). */
async function history(log: RedisLog, channel: string): Promise<string[]> {
  const positions: string[] = [];
  for (const value of ['e1', 'e2', 'e3', 'e4', 'e5']) positions.push(await log.append(channel, value));
  await sleep(5);
  for (const value of ['L1', 'L2', 'L3']) positions.push(await log.append(channel, value));
  return positions;
}

/** What the promoted replica holds: e1..e5 under their ids, the same generation, no message. */
async function loseTail(prefix: string, channel: string, positions: readonly string[]): Promise<void> {
  const { events } = redisKeys(prefix, channel);
  const kept = await admin.xrange(events, '-', decodePosition(positions[4]!)!.id);
  await admin.del(events);
  for (const [id, fields] of kept) await admin.xadd(events, id, ...fields);
}

describeWithServers('a head that moves backwards (entries lost in a failover)', () => {
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterEach(async () => {
    await Promise.all(logs.map((log) => log.close()));
    logs = [];
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  // Blocking: a real failover ends the connection to the old master (or UNBLOCKs its XREAD), and
  // the log forgets what it knew; the test kills the connections with the lost tail.
  it.each(['shared', 'auto'] as const)(
    'tells readers that had lost entries (410, resuming where they lose nothing), and polls at the real head do not spin (%s)',
    async (mode) => {
      const prefix = testPrefix();
      const [log, publisher] = [open(prefix, mode), open(prefix)];
      const hangtime = createHangtime({ log, minHoldMs: 0 });
      const p = await history(publisher, 'chat');
      // A reader received everything, L3 included; its process knows the channel stands at L3.
      let { cursor, events } = await hangtime.wait({ channels: ['chat'], from: 'oldest', waitMs: 0 });
      expect(events.map((event) => event.data)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'L1', 'L2', 'L3']);
      ({ cursor } = await hangtime.wait({ channels: ['chat'], cursor, waitMs: 100 }));

      await loseTail(prefix, 'chat', p);
      if (mode === 'auto') await admin.call('CLIENT', 'KILL', 'SKIPME', 'yes');
      // Once the process's knowledge is older than its trust (1 s), the next poll asks Redis.
      await sleep(1_100);
      const lost = await hangtime.wait({ channels: ['chat'], cursor, waitMs: 1_000 });
      expect(lost.reason).toBe('gap');
      // Resumes at the new head (e5), which it had: not at the start (the whole history again).
      expect(lost.gaps).toEqual([{ channel: 'chat', resumeAfter: p[4], missed: null, reason: 'reset' }]);

      // At the real head: the poll holds quietly until its budget (no read loop).
      await admin.config('RESETSTAT');
      const quiet = await hangtime.wait({ channels: ['chat'], cursor: lost.cursor, waitMs: 1_500 });
      expect(quiet.reason).toBe('timeout');
      expect(await scriptCalls()).toBeLessThanOrEqual(3);

      // New events arrive, once each.
      const waiting = hangtime.wait({ channels: ['chat'], cursor: lost.cursor, waitMs: 10_000 });
      const n1 = await publisher.append('chat', 'N1');
      expect((await waiting).events).toEqual([{ channel: 'chat', position: n1, data: 'N1' }]);

      // A reader that had L1 (between e5 and N1 now): a gap resuming after e5, not N1 silently.
      expect(await log.read('chat', p[5]!, ALL)).toEqual({ kind: 'gap', resumeAfter: p[4], missed: null, reason: 'reset' });
      // A reader at e2 (it never had L1..L3) reads on: e3, e4, e5, N1.
      const rest = await log.read('chat', p[1]!, ALL);
      expect(rest.kind === 'events' && rest.events.map((event) => JSON.parse(event.json))).toEqual(['e3', 'e4', 'e5', 'N1']);
    },
  );

  // Wake messages are the shared watcher's (a blocking wait learns of a failover from the
  // UNBLOCKED error or the closed connection of the demoted master, and reads).
  it('a wake message older than the previous one is a head that went back: waiters at lost entries learn of it at once', async () => {
    const prefix = testPrefix();
    const [log, publisher] = [open(prefix, 'shared'), open(prefix)];
    const hangtime = createHangtime({ log, minHoldMs: 0 });
    let { cursor } = await hangtime.wait({ channels: ['skew'], waitMs: 0 });
    const waiting = hangtime.wait({ channels: ['skew'], cursor, waitMs: 10_000 });
    await until(() => log.stats().waiters === 1, 'the poll to wait');
    await sleep(100);
    const p = await history(publisher, 'skew');
    // The reader follows the appends as they come, to L3 (its process heard every message).
    const seen: unknown[] = [];
    let result = await waiting;
    for (;;) {
      seen.push(...result.events.map((event) => event.data));
      cursor = result.cursor;
      if (seen.length >= 8) break;
      result = await hangtime.wait({ channels: ['skew'], cursor, waitMs: 5_000 });
    }
    const atLost = hangtime.wait({ channels: ['skew'], cursor, waitMs: 10_000 });
    await until(() => log.stats().waiters === 1, 'the poll at L3 to wait');

    // The promoted replica's clock is behind: its first append N1 gets an id below L1's. That
    // append records e5 as the fork (its replication history is not the previous append's: see
    // the next test); a plain XADD with the id stands in for it here.
    await loseTail(prefix, 'skew', p);
    const e5 = decodePosition(p[4]!)!;
    const [ms, seq] = e5.id.split('-');
    const n1 = `${ms}-${Number(seq) + 1}`;
    const keys = redisKeys(prefix, 'skew');
    await admin.hset(keys.meta, 'fork', e5.id);
    await admin.xadd(keys.events, n1, 'd', '"N1"');
    await admin.publish(keys.wake, `${e5.generation} ${n1}`);

    const started = Date.now();
    const told = await atLost;
    expect(told.reason).toBe('gap');
    // Resumes after e5, the fork: not after N1, which it never had.
    expect(told.gaps).toEqual([{ channel: 'skew', resumeAfter: p[4], missed: null, reason: 'reset' }]);
    expect(Date.now() - started).toBeLessThan(5_000);
    const next = await hangtime.wait({ channels: ['skew'], cursor: told.cursor, waitMs: 1_000 });
    expect(next.events.map((event) => event.data)).toEqual(['N1']);
  });

  it('the first append in another replication history records the fork: the newest entry before it', async () => {
    const prefix = testPrefix();
    const log = open(prefix);
    const { meta } = redisKeys(prefix, 'fork');
    const [, second] = [await log.append('fork', 1), await log.append('fork', 2)];
    const own = await admin.hget(meta, 'replid');
    expect(own).toMatch(/^[0-9a-f]{40}$/);
    expect(await admin.hget(meta, 'fork')).toBeNull();
    // As on a replica just promoted: the previous appends were written in another history.
    await admin.hset(meta, 'replid', 'f'.repeat(40));
    await log.append('fork', 3);
    expect(await admin.hmget(meta, 'fork', 'replid')).toEqual([decodePosition(second!)!.id, own]);
    await log.append('fork', 4);
    expect(await admin.hget(meta, 'fork')).toBe(decodePosition(second!)!.id);
  });
});
