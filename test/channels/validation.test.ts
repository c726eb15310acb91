// Typed channels at run time: `hangtime.log.append` and `POST` validate against the channel's
// Standard Schema (zod, valibot, arktype, and a hand-written async one); invalid data is never
// stored; the validator's output is what readers get; undeclared channels work as before.
import type { StandardSchemaV1 } from '../../src/index.js';
import { type } from 'arktype';
import * as v from 'valibot';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createHangtime,
  defineChannels,
  isInvalidEventError,
  InvalidEventError,
  memoryLog,
  type ChannelSchemas,
  type EventLog,
} from '../../src/index.js';
import { serve, type NodeServer } from '../../adapters/node/index.js';

const servers: NodeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Everything a channel retains. */
async function stored(log: EventLog, channel: string): Promise<unknown[]> {
  const result = await log.read(channel, await log.start(channel, 'oldest'), { limit: 1_000, maxBytes: 10_000_000 });
  if (result.kind !== 'events') throw new Error('expected events');
  return result.events.map((event) => JSON.parse(event.json) as unknown);
}

/** A Standard Schema written by hand, validating asynchronously (as a library may). */
const evenNumber: StandardSchemaV1<unknown, number> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: async (value) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return typeof value === 'number' && value % 2 === 0
        ? { value }
        : { issues: [{ message: 'not an even number', path: [{ key: 'n' }] }] };
    },
  },
};

const libraries: Array<[string, ChannelSchemas[string], unknown, unknown]> = [
  ['zod', z.object({ text: z.string().trim() }), { text: '  hi  ' }, { text: 5 }],
  ['valibot', v.object({ text: v.pipe(v.string(), v.trim()) }), { text: '  hi  ' }, { text: 5 }],
  ['arktype', type({ text: 'string.trim' }), { text: '  hi  ' }, { text: 5 }],
];

describe.each(libraries)('hangtime.log.append with %s', (_, schema, valid, invalid) => {
  it('stores the validator output, refuses invalid data with InvalidEventError and stores nothing', async () => {
    const log = memoryLog();
    const hangtime = createHangtime({ log, channels: { 'chat:*': schema } });
    await hangtime.log.append('chat:lobby', valid);
    expect(await stored(log, 'chat:lobby')).toEqual([{ text: 'hi' }]);
    const refused = await hangtime.log.append('chat:lobby', invalid).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(InvalidEventError);
    expect(refused).toBeInstanceOf(TypeError);
    expect(isInvalidEventError(refused)).toBe(true);
    const error = refused as InvalidEventError;
    expect(error.code).toBe('invalid_event');
    expect(error.channel).toBe('chat:lobby');
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues[0]!.message).toEqual(expect.any(String));
    expect(error.message).toMatch(/^Invalid event for channel "chat:lobby": .+ at text/);
    expect(await stored(log, 'chat:lobby')).toEqual([{ text: 'hi' }]);
    // `hangtime.log` is the validating view of the log; the log given to it is the raw one.
    await log.append('chat:lobby', invalid);
    expect(await stored(log, 'chat:lobby')).toEqual([{ text: 'hi' }, invalid]);
    await hangtime.close();
  });
});

describe('channel patterns', () => {
  it('exact name first, then the longest prefix; channels matching none are not validated', async () => {
    const log = memoryLog();
    const hangtime = createHangtime({
      log,
      channels: { '*': z.object({ any: z.literal(true) }), 'chat:*': z.string(), 'chat:vip:*': z.number(), 'chat:vip:boss': z.boolean() },
    });
    await hangtime.log.append('chat:lobby', 'text');
    // @ts-expect-error a number is no chat:* data (the types say so too; here, the run time)
    await expect(hangtime.log.append('chat:lobby', 1)).rejects.toThrow(InvalidEventError);
    await hangtime.log.append('chat:vip:1', 7);
    await expect(hangtime.log.append('chat:vip:1', 'text')).rejects.toThrow(InvalidEventError);
    await hangtime.log.append('chat:vip:boss', true);
    await expect(hangtime.log.append('chat:vip:boss', 7)).rejects.toThrow(InvalidEventError);
    await hangtime.log.append('other', { any: true });
    // @ts-expect-error `any` is missing
    await expect(hangtime.log.append('other', {})).rejects.toThrow(InvalidEventError);
    expect(await stored(log, 'chat:vip:boss')).toEqual([true]);
  });

  it('without `*`, an undeclared channel takes any data, as without a declaration', async () => {
    const hangtime = createHangtime({ channels: { presence: v.object({ user: v.string() }) } });
    await hangtime.log.append('news', { anything: [1, 'two'] });
    // @ts-expect-error `user` is a string
    await expect(hangtime.log.append('presence', { user: 1 })).rejects.toThrow(/Invalid event for channel "presence"/);
    expect(await stored(hangtime.log, 'news')).toEqual([{ anything: [1, 'two'] }]);
  });

  it('an asynchronous validator is awaited; its issue paths are plain keys', async () => {
    const hangtime = createHangtime({ channels: { count: evenNumber } });
    await hangtime.log.append('count', 2);
    const error = (await hangtime.log.append('count', 3).catch((caught: unknown) => caught)) as InvalidEventError;
    expect(error.issues).toEqual([{ message: 'not an even number', path: [{ key: 'n' }] }]);
    expect(error.message).toBe('Invalid event for channel "count": not an even number at n');
  });

  it('the rest of the log is the log itself (idempotent appends, stats, close)', async () => {
    const log = memoryLog();
    const hangtime = createHangtime({ log, channels: { 'chat:*': z.string() } });
    const first = await hangtime.log.append('chat:a', 'x', { id: 'k1' });
    expect(await hangtime.log.append('chat:a', 'x', { id: 'k1' })).toBe(first);
    expect(hangtime.log.maxEventBytes).toBe(log.maxEventBytes);
    expect(hangtime.log.isPosition(first)).toBe(true);
    expect(await stored(log, 'chat:a')).toEqual(['x']);
  });

  it.each([
    [{ 'chat:**': z.string() }, /channel pattern "chat:\*\*"/],
    [{ 'a*b': z.string() }, /channel pattern "a\*b"/],
    [{ 'has space': z.string() }, /channel pattern "has space"/],
    [{ '': z.string() }, /channel pattern ""/],
    [{ chat: { parse: () => 1 } }, /`channels\["chat"\]` to be a Standard Schema validator/],
    [{ chat: null }, /`channels\["chat"\]` to be a Standard Schema validator/],
  ])('createHangtime({ channels: %o }) throws a precise TypeError', (channels, message) => {
    expect(() => createHangtime({ channels: channels as unknown as ChannelSchemas })).toThrow(TypeError);
    expect(() => createHangtime({ channels: channels as unknown as ChannelSchemas })).toThrow(message);
    expect(() => defineChannels(channels as unknown as ChannelSchemas)).toThrow(message);
  });

  it('`channels` that is not an object is a TypeError', () => {
    expect(() => createHangtime({ channels: 'chat:*' as unknown as ChannelSchemas })).toThrow(/Expected `channels` to be an object/);
  });
});

describe('POST with a declaration', () => {
  async function start() {
    const log = memoryLog();
    const hangtime = createHangtime({
      log,
      channels: defineChannels({ 'chat:*': z.object({ name: z.string().min(1), text: z.string().max(10) }) }),
      authorizePublish: () => true,
    });
    const server = await serve(hangtime, { port: 0 });
    servers.push(server);
    const post = (body: unknown) =>
      fetch(`${server.url}/poll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { log, post };
  }

  it('400 invalid_event with the validator issues, nothing stored', async () => {
    const { log, post } = await start();
    const response = await post({ channel: 'chat:lobby', data: { name: '', text: 'far too long a text' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as {
      error: { code: string; message: string };
      issues: Array<{ message: string; path?: Array<string | number> }>;
    };
    expect(body.error.code).toBe('invalid_event');
    expect(body.error.message).toMatch(/^Invalid event for channel "chat:lobby"/);
    expect(body.issues.map((issue) => issue.path)).toEqual([['name'], ['text']]);
    for (const issue of body.issues) expect(issue.message).toEqual(expect.any(String));
    expect(await stored(log, 'chat:lobby')).toEqual([]);
  });

  it('201 for valid data; a channel without a schema publishes as before', async () => {
    const { log, post } = await start();
    expect((await post({ channel: 'chat:lobby', data: { name: 'ada', text: 'hi', extra: 1 } })).status).toBe(201);
    // zod's object strips unknown keys: the output is what is stored.
    expect(await stored(log, 'chat:lobby')).toEqual([{ name: 'ada', text: 'hi' }]);
    expect((await post({ channel: 'news', data: 42 })).status).toBe(201);
    expect(await stored(log, 'news')).toEqual([42]);
  });
});

describe('appendLinked (the log method GRIP publishing uses)', () => {
  it('validates like append: no way around the declaration, and the output is what is stored', async () => {
    const log = memoryLog();
    const hangtime = createHangtime({ log, channels: { 'chat:*': z.object({ text: z.string().trim() }) } });
    const first = await hangtime.log.appendLinked!('chat:lobby', { text: '  hi  ' });
    expect(first.previous).toBeNull();
    const refused = await hangtime.log.appendLinked!('chat:lobby', { text: 5 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isInvalidEventError(refused)).toBe(true);
    const second = await hangtime.log.appendLinked!('chat:lobby', { text: 'there ' });
    expect(second.previous).toBe(first.position);
    expect(await stored(log, 'chat:lobby')).toEqual([{ text: 'hi' }, { text: 'there' }]);
  });
});

describe('the wrapped log', () => {
  it('keeps validating when spread, and its other members are the log’s own', async () => {
    const log = memoryLog();
    // Declared as any schema, so that the type of `append` lets the invalid data through to run time.
    const chat: ChannelSchemas[string] = z.object({ text: z.string() });
    const hangtime = createHangtime({ log, channels: { chat } });
    const spread = { ...hangtime.log };
    const refused = await spread.append('chat', { text: 5 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isInvalidEventError(refused)).toBe(true);
    expect(spread.maxEventBytes).toBe(log.maxEventBytes);
    expect(await stored(log, 'chat')).toEqual([]);
  });
});
