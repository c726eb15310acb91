import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createHangtime } from '../../src/hangtime.js';
import { START } from '../../src/log.js';
import { redisKeys, redisLog, type RedisLog, type RedisLogOptions } from '../../src/redis/index.js';
import { decodePosition, encodePosition } from '../../src/redis/position.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, sleep, testPrefix, until } from '../support/redis.js';

const ALL = { limit: 1000, maxBytes: 10_000_000 };

let admin: Redis;
let prefix: string;
const logs: RedisLog[] = [];

const open = (options: Partial<RedisLogOptions> = {}): RedisLog => {
  const log = redisLog({ url: REDIS_URL, prefix, ...options } as RedisLogOptions);
  logs.push(log);
  return log;
};

/** Names of the connections currently open on the server. */
async function connectionNames(): Promise<string[]> {
  const list = String(await admin.client('LIST'));
  return [...list.matchAll(/ name=(\S*)/g)].map((match) => match[1]!);
}

describeRedis('redisLog', () => {
  beforeEach(() => {
    admin = adminClient();
    prefix = testPrefix();
  });
  afterEach(async () => {
    await Promise.all(logs.splice(0).map((log) => log.close()));
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('rejects bad options with precise TypeErrors', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{}, /exactly one of `client`/],
      [{ url: REDIS_URL, client: admin }, /exactly one of `client`/],
      [{ url: 'http://localhost' }, /Expected `url` to be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/localhost"/],
      [{ url: REDIS_URL, prefix: 'a{b}' }, /Expected `prefix` to be 1 to 64 characters/],
      [{ url: REDIS_URL, maxEventsPerChannel: 0 }, /Expected `maxEventsPerChannel` to be a positive integer, got 0/],
      [{ url: REDIS_URL, maxAgeMs: -1 }, /Expected `maxAgeMs` to be a positive number, got -1/],
      [{ url: REDIS_URL, trim: 'sloppy' }, /Expected `trim` to be 'approximate' or 'exact', got "sloppy"/],
      [{ url: REDIS_URL, connectionName: 'has space' }, /Expected `connectionName`/],
      [{ url: REDIS_URL, durability: 'eventual' }, /Expected `durability` to be 'replicated' or 'leader', got "eventual"/],
      [{ url: REDIS_URL, replicationTimeoutMs: 0 }, /Expected `replicationTimeoutMs` to be a positive integer, got 0/],
      [
        { url: REDIS_URL, replicationTimeoutMs: 5_000 },
        /Expected `replicationTimeoutMs` to be below `commandTimeoutMs` \(5000\), got 5000/,
      ],
      [{ url: REDIS_URL, idempotencyWindowMs: 1.5 }, /Expected `idempotencyWindowMs` to be a positive integer, got 1.5/],
      [{ url: REDIS_URL, onError: 'console' }, /Expected `onError` to be a function/],
      [{ url: REDIS_URL, keyPrefix: 'x' }, /Unknown option `keyPrefix` for redisLog\(\)/],
      [
        { url: REDIS_URL, maxEventPerChannel: 10 },
        /^Unknown option `maxEventPerChannel` for redisLog\(\); expected one of: client, url, prefix, maxEventsPerChannel, /,
      ],
      [{ url: REDIS_URL, commandTimeoutMs: 0 }, /Expected `commandTimeoutMs` to be a positive number, got 0/],
      [{ url: REDIS_URL, maxEventBytes: 0.5 }, /Expected `maxEventBytes` to be a positive integer, got 0.5/],
      [{ url: REDIS_URL, emptyChannelTtlMs: -1 }, /Expected `emptyChannelTtlMs` to be a positive integer, got -1/],
      [{ client: {} }, /Expected `client` to be an ioredis client or Cluster/],
      [null, /Expected redisLog\(\) options to be an object, got null/],
      [REDIS_URL, /^Expected redisLog\(\) options to be an object, got "redis:/],
    ];
    for (const [options, message] of bad) expect(() => redisLog(options as RedisLogOptions)).toThrow(message);
  });

  it("refuses a client with ioredis' keyPrefix: one documented prefix, the log's own", () => {
    const prefixed = admin.duplicate({ keyPrefix: 'app:', lazyConnect: true });
    expect(() => redisLog({ client: prefixed })).toThrow(/without ioredis' `keyPrefix`.*use the `prefix` option/);
    prefixed.disconnect();
  });

  it('opens no connection before it is used, and closes what it opened', async () => {
    const name = `ht-lazy-${prefix.slice(-8)}`;
    const log = open({ connectionName: name });
    await sleep(100);
    expect((await connectionNames()).filter((n) => n.startsWith(name))).toEqual([]);
    const waiting = log.waitFor([{ channel: 'lazy', after: await log.start('lazy', 'now') }], new AbortController().signal);
    await log.append('lazy', 1);
    expect(await waiting).toBe(true);
    await until(async () => (await connectionNames()).filter((n) => n.startsWith(name)).length === 2, 'two named connections');
    expect((await connectionNames()).filter((n) => n.startsWith(name)).sort()).toEqual([name, `${name}-sub`]);
    await log.close();
    await until(async () => (await connectionNames()).every((n) => !n.startsWith(name)), 'connections closed');
    await expect(log.append('lazy', 2)).rejects.toThrow(/closed/);
  });

  it('never closes a client the caller passed in (but closes its own pub/sub connection)', async () => {
    const client = adminClient();
    const name = `ht-own-${prefix.slice(-8)}`;
    const log = redisLog({ client, prefix, connectionName: name });
    const waiting = log.waitFor([{ channel: 'own', after: await log.start('own', 'now') }], new AbortController().signal);
    await log.append('own', 1);
    expect(await waiting).toBe(true);
    await log.close();
    expect(await client.ping()).toBe('PONG');
    await until(async () => !(await connectionNames()).includes(`${name}-sub`), 'pub/sub connection closed');
    client.disconnect();
  });

  it('stores each channel in the documented keys, hash-tagged by channel', async () => {
    const log = open();
    const position = await log.append('room:1', { text: 'hi' });
    const keys = redisKeys(prefix, 'room:1');
    expect(keys).toEqual({
      events: `${prefix}:{room:1}:events`,
      meta: `${prefix}:{room:1}:meta`,
      wake: `${prefix}:{room:1}:wake`,
      appends: [`${prefix}:{room:1}:appends:0`, `${prefix}:{room:1}:appends:1`],
    });
    expect(await admin.type(keys.events)).toBe('stream');
    const meta = await admin.hgetall(keys.meta);
    const decoded = decodePosition(position)!;
    expect(meta.gen).toBe(decoded.generation);
    const entries = await admin.xrange(keys.events, '-', '+');
    expect(entries).toEqual([[decoded.id, ['d', '{"text":"hi"}']]]);
    // The append id, in one of the two halves of the idempotency window, expiring on its own.
    const halves = await Promise.all(keys.appends.map((key) => admin.hgetall(key)));
    const records = halves.flatMap((half) => Object.entries(half).filter(([field]) => field !== ':bucket'));
    expect(records).toEqual([[expect.stringMatching(/^[0-9a-z]{16}$/), `${decoded.generation} ${decoded.id}`]]);
    for (const [i, key] of keys.appends.entries()) {
      if (Object.keys(halves[i]!).length === 0) continue;
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(120_000);
    }
  });

  it('stores an append id once per channel: the same id again returns the first position and stores nothing', async () => {
    const log = open();
    const first = await log.append('idem', 'once', { id: 'order-17' });
    expect(await log.append('idem', 'twice?', { id: 'order-17' })).toBe(first);
    const other = await log.append('idem-other', 'elsewhere', { id: 'order-17' });
    expect(other).not.toBe(first);
    expect((await admin.xrange(redisKeys(prefix, 'idem').events, '-', '+')).map(([, fields]) => fields[1])).toEqual(['"once"']);
    // Without an id, every append is its own.
    const [a, b] = [await log.append('idem', 'x'), await log.append('idem', 'x')];
    expect(a).not.toBe(b);
  });

  it('rejects bad append options with precise TypeErrors, storing nothing', async () => {
    const log = open();
    const bad: Array<[unknown, RegExp]> = [
      [{ id: '' }, /Expected `id` to be 1 to 64 characters of A-Z a-z 0-9 _ -, got ""/],
      [{ id: 'has space' }, /Expected `id` to be 1 to 64 characters/],
      [{ id: 'x'.repeat(65) }, /Expected `id` to be 1 to 64 characters/],
      [{ id: 42 }, /Expected `id` to be 1 to 64 characters of A-Z a-z 0-9 _ -, got 42/],
      [{ key: 'x' }, /Unknown option `key` for append\(\)/],
      [null, /Expected append options to be an object, got null/],
    ];
    for (const [options, message] of bad) await expect(log.append('bad-options', 1, options as never)).rejects.toThrow(message);
    expect(await admin.exists(redisKeys(prefix, 'bad-options').events)).toBe(0);
  });

  it('encodes stream ids so that positions compare as strings (…-9 < …-10)', async () => {
    const log = open();
    const { events } = redisKeys(prefix, 'ids');
    const ids = ['5-9', '5-10', '5-11', '10-0', '99-1000', '100-0'];
    for (const id of ids) await admin.xadd(events, id, 'd', JSON.stringify(id));
    const read = await log.read('ids', await log.start('ids', 'oldest'), ALL);
    if (read.kind !== 'events') throw new Error('expected events');
    expect(read.events.map((event) => JSON.parse(event.json))).toEqual(ids);
    const positions = read.events.map((event) => event.position);
    expect([...positions].sort()).toEqual(positions);
    expect(positions.map((position) => decodePosition(position)!.id)).toEqual(ids);
    // Read after each position gets exactly what follows it.
    for (const [i, position] of positions.entries()) {
      const rest = await log.read('ids', position, ALL);
      expect(rest.kind === 'events' && rest.events.map((event) => JSON.parse(event.json))).toEqual(ids.slice(i + 1));
    }
  });

  it('counts what a reader from the start of the channel missed, exactly; START (no generation) is a reset', async () => {
    const log = open({ maxEventsPerChannel: 4, trim: 'exact' });
    const before = await log.start('missed', 'now');
    for (let i = 0; i < 10; i++) await log.append('missed', i);
    const oldest = await log.start('missed', 'oldest');
    expect(await log.read('missed', before, ALL)).toEqual({ kind: 'gap', reason: 'retention', missed: 6, resumeAfter: oldest });
    expect(await log.read('missed', START, ALL)).toEqual({ kind: 'gap', reason: 'reset', missed: null, resumeAfter: oldest });
  });

  it('trims approximately: at most 1/16 over the limit, and the gap still resumes at the oldest kept event', async () => {
    const log = open({ maxEventsPerChannel: 32 });
    for (let i = 0; i < 100; i++) await log.append('approx', i);
    const length = await admin.xlen(redisKeys(prefix, 'approx').events);
    expect(length).toBeGreaterThanOrEqual(32);
    expect(length).toBeLessThanOrEqual(34);
    const gap = await log.read('approx', START, ALL); // an old cursor's START: resumes at the oldest kept
    if (gap.kind !== 'gap') throw new Error('expected a gap');
    const kept = await log.read('approx', gap.resumeAfter, ALL);
    expect(kept.kind === 'events' && kept.events.map((event) => JSON.parse(event.json))).toEqual(
      Array.from({ length }, (_, i) => 100 - length + i),
    );
  });

  it('reports entries removed by XDEL as a gap, not silently', async () => {
    const log = open();
    const positions: string[] = [];
    for (let i = 0; i < 3; i++) positions.push(await log.append('xdel', i));
    await admin.xdel(redisKeys(prefix, 'xdel').events, decodePosition(positions[1]!)!.id);
    expect(await log.read('xdel', positions[0]!, ALL)).toMatchObject({ kind: 'gap', resumeAfter: positions[1] });
  });

  it('wakes waiters on a plain XADD + PUBLISH from another language, and reads its entry', async () => {
    const log = open();
    const hangtime = createHangtime({ log });
    const first = await hangtime.wait({ channels: ['foreign'], waitMs: 0 });
    const waiting = hangtime.wait({ channels: ['foreign'], cursor: first.cursor, waitMs: 10_000 });
    await until(() => log.stats().waiters === 1, 'the poll to wait');
    await sleep(50);
    // Exactly what docs/redis.md tells other publishers to send.
    const keys = redisKeys(prefix, 'foreign');
    await admin.xadd(keys.events, '*', 'd', '{"from":"python"}');
    await admin.publish(keys.wake, '');
    const result = await waiting;
    expect(result.reason).toBe('events');
    expect(result.events.map((event) => event.data)).toEqual([{ from: 'python' }]);
    expect(result.heldMs).toBeLessThan(5_000);
  });

  it('delivers an entry appended without PUBLISH at the next poll, not never', async () => {
    const log = open();
    const hangtime = createHangtime({ log, minHoldMs: 0 });
    let { cursor } = await hangtime.wait({ channels: ['silent'], waitMs: 0 });
    // A short poll makes the channel watched and known; then an XADD nobody announces.
    ({ cursor } = await hangtime.wait({ channels: ['silent'], cursor, waitMs: 100 }));
    await admin.xadd(redisKeys(prefix, 'silent').events, '*', 'd', '"unannounced"');
    const seen: unknown[] = [];
    const deadline = Date.now() + 10_000;
    while (seen.length === 0 && Date.now() < deadline) {
      const result = await hangtime.wait({ channels: ['silent'], cursor, waitMs: 300 });
      seen.push(...result.events.map((event) => event.data));
      cursor = result.cursor;
    }
    expect(seen).toEqual(['unannounced']);
  });

  it('delivers an entry that is not a hangtime event as null, and reports it', async () => {
    const errors: unknown[] = [];
    const log = open({ onError: (error) => errors.push(error) });
    const keys = redisKeys(prefix, 'bad');
    await admin.xadd(keys.events, '*', 'd', '{not json');
    await admin.xadd(keys.events, '*', 'other', 'field');
    await log.append('bad', 'fine');
    const read = await log.read('bad', await log.start('bad', 'oldest'), ALL);
    expect(read.kind === 'events' && read.events.map((event) => event.json)).toEqual(['null', 'null', '"fine"']);
    expect(errors.map(String)).toEqual([
      expect.stringMatching(/not a hangtime event.*delivered as null/),
      expect.stringMatching(/not a hangtime event.*delivered as null/),
    ]);
  });

  it('starts a new generation when the stream is deleted, even if only the stream key is', async () => {
    const log = open();
    const old = await log.append('reborn', 'old');
    await admin.del(redisKeys(prefix, 'reborn').events);
    const fresh = await log.append('reborn', 'new');
    expect(decodePosition(fresh)!.generation).not.toBe(decodePosition(old)!.generation);
    const result = await log.read('reborn', old, ALL);
    expect(result).toEqual({
      kind: 'gap',
      reason: 'reset',
      missed: null,
      resumeAfter: encodePosition(decodePosition(fresh)!.generation, '0-0'),
    });
    if (result.kind === 'gap') expect(log.isPosition(result.resumeAfter)).toBe(true);
  });

  it('wakes a waiter in another process (another log instance) within a few milliseconds', async () => {
    const [waiterLog, publisherLog] = [open(), open()];
    const head = await waiterLog.start('cross', 'now');
    const waiting = waiterLog.waitFor([{ channel: 'cross', after: head }], new AbortController().signal);
    await until(() => waiterLog.stats().waiters === 1, 'registered');
    await sleep(50);
    await publisherLog.append('cross', 'hello');
    expect(await waiting).toBe(true);
  });
});
