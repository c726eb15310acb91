import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { redisKeys, redisLog, type RedisLog, type RedisLogOptions } from '../../src/redis/index.js';
import { decodePosition, encodePosition } from '../../src/redis/position.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, sleep, testPrefix } from '../support/redis.js';

/**
 * `start()` ties every position to a generation, also a channel's that has no events yet
 * (issue 9.1): the generation is stamped in the channel's `meta` by the first reader, expires
 * unless readers keep coming or an append makes it the channel's, and is not mistaken for a
 * deleted stream by the append script.
 */

const ALL = { limit: 100, maxBytes: 1_000_000 };

let admin: Redis;
let prefix: string;
const logs: RedisLog[] = [];

const open = (options: Partial<RedisLogOptions> = {}): RedisLog => {
  const log = redisLog({ url: REDIS_URL, prefix, ...options } as RedisLogOptions);
  logs.push(log);
  return log;
};

describeRedis('start() and the generation of a channel without events', () => {
  beforeEach(() => {
    admin = adminClient();
    prefix = testPrefix();
  });
  afterEach(async () => {
    await Promise.all(logs.splice(0).map((log) => log.close()));
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it("stamps a generation that expires, and the first append makes it the channel's for good", async () => {
    const [log, peer] = [open({ emptyChannelTtlMs: 60_000 }), open()];
    const { events, meta } = redisKeys(prefix, 'quiet');
    const nothingYet = await log.start('quiet', 'now');
    const { generation, id } = decodePosition(nothingYet)!;
    expect(id).toBe('0-0');
    expect(await admin.hgetall(meta)).toEqual({ gen: generation, empty: '1' });
    expect(await admin.pttl(meta)).toBeGreaterThan(50_000);
    expect(await admin.exists(events)).toBe(0);
    // Another process starting now gets the same generation: the stamp is shared.
    expect(await peer.start('quiet', 'oldest')).toBe(nothingYet);

    const first = await peer.append('quiet', 'first');
    expect(decodePosition(first)!.generation).toBe(generation);
    expect(await admin.hget(meta, 'empty')).toBeNull();
    expect(await admin.pttl(meta)).toBe(-1);
    const read = await log.read('quiet', nothingYet, ALL);
    expect(read.kind === 'events' && read.events.map((event) => event.position)).toEqual([first]);
  });

  it('reads push the expiry back once half of it is gone; a reader back after it expired gets a reset (it cannot be told from lost data)', async () => {
    const log = open({ emptyChannelTtlMs: 10_000 });
    const { meta } = redisKeys(prefix, 'idle');
    const nothingYet = await log.start('idle', 'now');
    // More than half of the expiry gone: the next read pushes it back.
    await admin.pexpire(meta, 3_000);
    expect(await log.read('idle', nothingYet, ALL)).toEqual({ kind: 'events', events: [], more: false });
    expect(await admin.pttl(meta)).toBeGreaterThan(8_000);

    await admin.pexpire(meta, 1);
    await sleep(20);
    const back = await log.read('idle', nothingYet, ALL);
    const restamped = await admin.hget(meta, 'gen');
    expect(restamped).not.toBe(decodePosition(nothingYet)!.generation);
    expect(back).toEqual({ kind: 'gap', reason: 'reset', missed: null, resumeAfter: encodePosition(restamped!, '0-0') });
  });

  it('a channel only ever read costs one expiring key, whatever the number of readers', async () => {
    const [log, other] = [open(), open()];
    for (let i = 0; i < 20; i++) {
      await log.start(`never-${i}`, 'now');
      await other.read(`never-${i}`, await other.start(`never-${i}`, { last: 5 }), ALL);
    }
    const keys = await admin.keys(`${prefix}:*`);
    expect(keys.sort()).toEqual(Array.from({ length: 20 }, (_, i) => redisKeys(prefix, `never-${i}`).meta).sort());
    for (const key of keys) expect(await admin.pttl(key)).toBeGreaterThan(0);
  });

  it('an append tells a stamped channel from a deleted stream: only the latter starts a new generation', async () => {
    const log = open();
    const nothingYet = await log.start('told', 'now');
    const first = await log.append('told', 1);
    expect(decodePosition(first)!.generation).toBe(decodePosition(nothingYet)!.generation);
    await admin.del(redisKeys(prefix, 'told').events);
    const reborn = await log.append('told', 2);
    expect(decodePosition(reborn)!.generation).not.toBe(decodePosition(first)!.generation);
    expect(await log.read('told', nothingYet, ALL)).toMatchObject({ kind: 'gap', reason: 'reset', missed: null });
  });

  it('{ last: n } is one bounded read, and never starts behind an entry deleted among the last n', async () => {
    const log = open();
    const p = [];
    for (let i = 1; i <= 5; i++) p.push(await log.append('last', i));
    expect(await log.start('last', { last: 2 })).toBe(p[2]);
    await admin.xdel(redisKeys(prefix, 'last').events, decodePosition(p[3]!)!.id);
    // 1, 2, 3, 5 remain, and 4 was deleted: "the last 3" starts after 4, not before 2 (a gap).
    const start = await log.start('last', { last: 3 });
    expect(start).toBe(p[3]);
    const read = await log.read('last', start, ALL);
    expect(read.kind === 'events' && read.events.map((event) => JSON.parse(event.json))).toEqual([5]);
  });
});
