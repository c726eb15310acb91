import { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { redisKeys } from '../../src/redis/keys.js';
import { runScript } from '../../src/redis/run.js';
import { encodePosition } from '../../src/redis/position.js';
import { APPEND, START_AT, STATE, toState } from '../../src/redis/scripts.js';
import { Subscriber } from '../../src/redis/subscriber.js';
import { Watcher, type ChannelState } from '../../src/redis/watcher.js';
import { REDIS_URL, deletePrefix, describeRedis, testPrefix, until } from '../support/redis.js';

/**
 * The watcher with a short linger (the log uses 30 s): a channel's subscription ends after its
 * last waiter leaves, and a wait that comes back later must still see what was appended while
 * nobody was subscribed.
 */
let client: Redis;
let prefix: string;
let watcher: Watcher;
let subscriber: Subscriber | undefined;
const errors: unknown[] = [];

/** A watcher wired as redisLog wires it, with the given linger. */
function start(lingerMs: number): void {
  const check = async (channel: string): Promise<ChannelState> => {
    const keys = redisKeys(prefix, channel);
    return toState(await runScript(client, STATE, [keys.events, keys.meta], ['abcdefgh', 60_000]));
  };
  subscriber = new Subscriber(
    client,
    'ht-watcher-test',
    {
      onReady: () => watcher.onReady(),
      onLost: () => watcher.onLost(),
      onMessage: (name, message) => watcher.onMessage(name, message),
      onError: (error) => errors.push(error),
    },
    2_000,
  );
  watcher = new Watcher({ prefix, subscriber, check, onError: (error) => errors.push(error), lingerMs });
}

const append = async (channel: string, data: unknown): Promise<void> => {
  const keys = redisKeys(prefix, channel);
  const id = Math.random().toString(36).slice(2);
  // Built for the history Redis writes now (the script refuses an append built for another).
  const history = /^master_replid:(\w+)/m.exec(await client.info('replication'))![1]!;
  await runScript(
    client,
    APPEND,
    [keys.events, keys.meta, ...keys.appends],
    ['abcdefgh', JSON.stringify(data), keys.wake, 0, 0, 0, 0, id, 60_000, '0', history],
  );
};

/** Where a reader starts on `channel` now, as `start(channel, 'now')` does (a stamped generation). */
async function now(channel: string): Promise<string> {
  const keys = redisKeys(prefix, channel);
  const [generation, , at] = (await runScript(
    client,
    START_AT,
    [keys.events, keys.meta],
    ['abcdefgh', 'now', 0, 60_000, 0, 0, 0, 0],
  )) as string[];
  return encodePosition(generation!, at!);
}

async function subscribers(channel: string): Promise<number> {
  const [, count] = (await client.pubsub('NUMSUB', redisKeys(prefix, channel).wake)) as [string, number];
  return Number(count);
}

describeRedis('the watcher', () => {
  beforeEach(() => {
    client = new Redis(REDIS_URL);
    prefix = testPrefix();
    errors.length = 0;
  });
  afterEach(async () => {
    watcher.close();
    await subscriber?.close();
    await deletePrefix(client, prefix);
    client.disconnect();
    expect(errors).toEqual([]);
  });

  it('unsubscribes after the linger, and a later wait sees what was appended meanwhile', async () => {
    start(50);
    const controller = new AbortController();
    const after = await now('linger');
    const first = watcher.wait([{ channel: 'linger', after }], controller.signal);
    await until(async () => (await subscribers('linger')) === 1, 'the subscription');
    controller.abort();
    expect(await first).toBe(false);
    await until(async () => (await subscribers('linger')) === 0 && watcher.stats().channels === 0, 'the unsubscription');

    await append('linger', 'while nobody listened');
    expect(await watcher.wait([{ channel: 'linger', after }], new AbortController().signal)).toBe(true);
  });

  it('a wait that returns within the linger finds the channel still subscribed and known', async () => {
    start(60_000);
    const controller = new AbortController();
    const after = await now('warm');
    const first = watcher.wait([{ channel: 'warm', after }], controller.signal);
    await until(() => watcher.knownEmpty('warm', after), 'the channel to be checked');
    controller.abort();
    await first;
    // Still known after its last waiter left: no Redis needed to say a reader at its start has nothing.
    expect(watcher.knownEmpty('warm', after)).toBe(true);
    expect(await subscribers('warm')).toBe(1);
    const second = watcher.wait([{ channel: 'warm', after }], new AbortController().signal);
    await append('warm', 1);
    expect(await second).toBe(true);
  });
});
