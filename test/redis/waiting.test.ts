import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createHangtime } from '../../src/hangtime.js';
import { redisLog, type RedisLog, type RedisLogOptions } from '../../src/redis/index.js';
import { commandCalls, sleep, testPrefix, until } from '../support/redis.js';
import { describeWithServers, startRedisServer, type RedisServer } from './servers.js';

/**
 * The waiting modes (`waiting: 'blocking' | 'shared' | 'auto'`), on a private redis-server so
 * that connections and commands can be counted exactly: how many connections a process holding
 * polls uses, what an empty and a delivering poll cost, and an instance whose connection died
 * while it was idle (frozen between invocations) or while it waited.
 */

let server: RedisServer;
let admin: Redis;
let logs: RedisLog[] = [];
let prefix = testPrefix();

const open = (connectionName: string, options: Partial<RedisLogOptions> = {}): RedisLog => {
  const log = redisLog({ url: server.url, prefix, connectionName, onError: () => {}, ...options });
  logs.push(log);
  return log;
};

/** Connections to the server named `name` or `name-…`. */
async function connections(name: string): Promise<number> {
  const list = String(await admin.client('LIST'));
  return list.split('\n').filter((line) => new RegExp(` name=${name}(-\\S+)? `).test(line)).length;
}

/** The log's commands since the last reset (the test's own INFO, CONFIG and CLIENT left out). */
async function logCalls(): Promise<Record<string, number>> {
  return Object.fromEntries(Object.entries(await commandCalls(admin)).filter(([name]) => !/^(info|config|client)/.test(name)));
}

describeWithServers('waiting modes', () => {
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterEach(async () => {
    await Promise.all(logs.map((log) => log.close()));
    logs = [];
    prefix = testPrefix();
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it('rejects an unknown waiting mode with a TypeError', () => {
    expect(() => redisLog({ url: server.url, waiting: 'poll' as 'auto' })).toThrow(TypeError);
    expect(() => redisLog({ url: server.url, waiting: 'poll' as 'auto' })).toThrow(
      /^Expected `waiting` to be 'auto', 'blocking' or 'shared', got .*poll/,
    );
  });

  for (const [waiting, expected] of [
    ['blocking', 1],
    ['auto', 1],
    ['shared', 2],
  ] as const) {
    it(`holds a poll on ${expected} Redis connection(s) with waiting: '${waiting}'`, async () => {
      const name = `ht-conn-${waiting}`;
      const log = open(name, { waiting });
      const hangtime = createHangtime({ log, minHoldMs: 0 });
      const { cursor } = await hangtime.wait({ channels: ['one'], waitMs: 0 });
      const held = hangtime.wait({ channels: ['one'], cursor, waitMs: 10_000 });
      await until(() => log.stats().waiters === 1, 'the poll waits');
      await sleep(200);
      expect(await connections(name)).toBe(expected);
      const position = await open(`${name}-writer`).append('one', 'hi');
      const result = await held;
      expect(result.events.map((event) => event.position)).toEqual([position]);
    });
  }

  it('auto: blocking while one poll at a time, shared for good once two are held at once', async () => {
    const name = 'ht-auto';
    const log = open(name);
    const writer = open('ht-writer-auto');
    const hangtime = createHangtime({ log, minHoldMs: 0 });
    let { cursor } = await hangtime.wait({ channels: ['auto'], waitMs: 0 });
    const first = hangtime.wait({ channels: ['auto'], cursor, waitMs: 10_000 });
    await until(() => log.stats().waiters === 1, 'first poll waits');
    await sleep(100);
    expect(await connections(name)).toBe(1);
    // A second poll at once: its read must not wait behind the first poll's blocking XREAD.
    const startedAt = Date.now();
    const second = hangtime.wait({ channels: ['auto'], cursor, waitMs: 10_000 });
    await until(() => log.stats().waiters === 2, 'both polls wait');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    const position = await writer.append('auto', 1);
    const results = await Promise.all([first, second]);
    for (const result of results) expect(result.events.map((event) => event.position)).toEqual([position]);
    cursor = results[0].cursor;
    // From now on, one poll at a time still waits the shared way: the pub/sub connection stays.
    const third = hangtime.wait({ channels: ['auto'], cursor, waitMs: 10_000 });
    await until(() => log.stats().waiters === 1, 'third poll waits');
    // Commands and pub/sub; the connection that unblocked the first poll's XREAD closes when idle.
    expect(await connections(`${name}-sub`)).toBe(1);
    let count = 0;
    await until(async () => (count = await connections(name)) === 2, `2 connections (${count})`);
    await writer.append('auto', 2);
    expect((await third).events).toHaveLength(1);
  });

  it('blocking: an empty poll on a warm instance is one command, a delivered event one XREAD and one read', async () => {
    const log = open('ht-cost-blocking', { waiting: 'blocking' });
    const writer = open('ht-cost-writer');
    const hangtime = createHangtime({ log, minHoldMs: 0 });
    let { cursor } = await hangtime.wait({ channels: ['cost'], waitMs: 0 });
    await writer.append('cost', 0);
    ({ cursor } = await hangtime.wait({ channels: ['cost'], cursor, waitMs: 100 }));
    ({ cursor } = await hangtime.wait({ channels: ['cost'], cursor, waitMs: 100 }));
    await admin.config('RESETSTAT');
    const polls = 10;
    for (let i = 0; i < polls; i++) {
      const result = await hangtime.wait({ channels: ['cost'], cursor, waitMs: 150 });
      expect(result.reason).toBe('timeout');
      cursor = result.cursor;
    }
    // The last XREAD ends with its poll: counted once it has.
    await sleep(300);
    const empty = await logCalls();
    // At most one command per poll, the XREAD (the hold waits before it reads; a poll whose
    // XREAD is still being counted when its hold answered is the one that may be missing).
    expect(empty.xread).toBeGreaterThanOrEqual(polls - 1);
    expect((empty.xread ?? 0) + (empty.evalsha ?? 0)).toBeLessThanOrEqual(polls);

    const held = hangtime.wait({ channels: ['cost'], cursor, waitMs: 10_000 });
    await until(() => log.stats().waiters === 1, 'the poll waits');
    await sleep(50);
    await admin.config('RESETSTAT');
    await writer.append('cost', 1);
    expect((await held).events).toHaveLength(1);
    const delivered = await logCalls();
    // The writer's append script and the poller's read script; the XREAD that returned.
    expect(delivered.evalsha).toBe(2);
    expect(delivered.xread ?? 0).toBeLessThanOrEqual(1);
  });

  it('blocking: a poll aborted while it waits frees the connection at once for the next command', async () => {
    const log = open('ht-abort', { waiting: 'blocking' });
    const hangtime = createHangtime({ log, minHoldMs: 0 });
    const { cursor } = await hangtime.wait({ channels: ['abort'], waitMs: 0 });
    const controller = new AbortController();
    const held = hangtime.wait({ channels: ['abort'], cursor, waitMs: 20_000, signal: controller.signal });
    await until(() => log.stats().waiters === 1, 'the poll waits');
    await sleep(100);
    controller.abort();
    expect((await held).reason).toBe('abort');
    const startedAt = Date.now();
    await log.append('abort', 'next');
    // Not behind the XREAD's 20 s timeout.
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });

  it('blocking: a command right after a hold its timer ended waits for that XREAD to end instead of opening a connection to unblock it', async () => {
    const log = open('ht-drain', { waiting: 'blocking' });
    const hangtime = createHangtime({ log, minHoldMs: 0 });
    let { cursor } = await hangtime.wait({ channels: ['drain'], waitMs: 0 });
    await admin.config('RESETSTAT');
    // Holds over 1 s end on a 50 ms grid (hold-timers.ts), up to 50 ms before the XREAD sized
    // to their budget returns: the append right after each answer comes while it still blocks.
    for (let i = 0; i < 4; i++) {
      const result = await hangtime.wait({ channels: ['drain'], cursor, waitMs: 1_100 });
      expect(result.reason).toBe('timeout');
      const appendedAt = Date.now();
      await log.append('drain', i);
      expect(Date.now() - appendedAt).toBeLessThan(3_000);
      const next = await hangtime.wait({ channels: ['drain'], cursor, waitMs: 0 });
      expect(next.events.map((event) => event.data)).toEqual([i]);
      cursor = next.cursor;
    }
    expect((await commandCalls(admin))['client|unblock'] ?? 0).toBe(0);
    expect(await connections('ht-drain')).toBe(1);
  });

  it('blocking: a connection killed while the instance is idle (frozen) reconnects on the next poll, missing nothing', async () => {
    const name = 'ht-frozen';
    const log = open(name, { waiting: 'blocking' });
    const writer = open('ht-writer-frozen');
    const hangtime = createHangtime({ log, minHoldMs: 0 });
    let { cursor } = await hangtime.wait({ channels: ['frozen'], waitMs: 0 });
    ({ cursor } = await hangtime.wait({ channels: ['frozen'], cursor, waitMs: 100 }));
    // Between invocations: the server (or a NAT, or an idle timeout) drops the connection, and
    // events are appended while nobody listens.
    await admin.call('CLIENT', 'KILL', 'SKIPME', 'yes');
    const missed = await writer.append('frozen', 'while frozen');
    const result = await hangtime.wait({ channels: ['frozen'], cursor, waitMs: 5_000 });
    expect(result.events.map((event) => [event.position, event.data])).toEqual([[missed, 'while frozen']]);
    // And it waits again on its reconnected connection: an append wakes the next poll.
    const held = hangtime.wait({ channels: ['frozen'], cursor: result.cursor, waitMs: 10_000 });
    await until(() => log.stats().waiters === 1, 'the poll waits');
    await sleep(100);
    const next = await writer.append('frozen', 'after');
    const woken = await held;
    expect(woken.events.map((event) => event.position)).toEqual([next]);
    expect(woken.heldMs).toBeLessThan(5_000);
  });

  it('blocking: a connection killed while a poll waits is reopened, and an append made meanwhile wakes the poll', async () => {
    const name = 'ht-killed';
    const log = open(name, { waiting: 'blocking' });
    const writer = open(`${name}-w`);
    const hangtime = createHangtime({ log, minHoldMs: 0 });
    const { cursor } = await hangtime.wait({ channels: ['killed'], waitMs: 0 });
    const held = hangtime.wait({ channels: ['killed'], cursor, waitMs: 15_000 });
    await until(() => log.stats().waiters === 1, 'the poll waits');
    await sleep(100);
    await admin.call('CLIENT', 'KILL', 'SKIPME', 'yes');
    const position = await writer.append('killed', 'meanwhile');
    const result = await held;
    expect(result.events.map((event) => event.position)).toEqual([position]);
    expect(result.heldMs).toBeLessThan(10_000);
  });
});
