// Types end to end: a server's channel declaration, with zod, valibot or arktype, types the
// events of `subscribe` and `poll` through a type-only import, with no cast. `npm run typecheck`
// (tsc over test/) checks every `expectTypeOf` and `@ts-expect-error` here; vitest runs the
// file too, where the same calls run against a real server.
import type { StandardSchemaV1 as SpecSchema } from '@standard-schema/spec';
import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createHangtime, defineChannels, type ChannelData, type StandardSchemaV1 } from '../../src/index.js';
import { poll, subscribe, type HangtimeEvent } from '../../src/client/index.js';
import type { HangtimeState, UseHangtimeOptions } from '../../src/react/index.js';
import { serve } from '../../adapters/node/index.js';

// What a server module exports: the declaration's type, imported by the page with `import type`.
const ChatMessage = z.object({ name: z.string(), text: z.string().max(500), sentAt: z.string().default('') });
const Presence = v.object({ user: v.string(), online: v.boolean() });
const Cursor = type({ x: 'number', y: 'number' });
const channels = defineChannels({ 'chat:*': ChatMessage, presence: Presence, 'cursor:*': Cursor });
type AppChannels = typeof channels;

const onError = () => {};

describe('types from a channel declaration', () => {
  it('subscribe() types each event by its channel: a union to narrow by `channel`', () => {
    const subscription = subscribe<AppChannels>('http://127.0.0.1:9/poll', {
      channels: ['chat:lobby', 'presence', 'cursor:doc-1'],
      retries: 0,
      onError,
      onEvents: (events) => {
        for (const event of events) {
          if (event.channel === 'presence') {
            expectTypeOf(event.data).toEqualTypeOf<{ user: string; online: boolean }>();
          } else if (event.channel.startsWith('chat:')) {
            expectTypeOf(event.data).toMatchTypeOf<{ name: string; text: string } | { x: number; y: number }>();
          }
          expectTypeOf(event.position).toEqualTypeOf<string>();
        }
      },
    });
    subscription.close();
  });

  it('one pattern: `data` is its output type directly (zod defaults applied)', () => {
    const subscription = subscribe<{ 'chat:*': typeof ChatMessage }>('http://127.0.0.1:9/poll', {
      channels: ['chat:lobby'],
      retries: 0,
      onError,
      onEvents: (events) => {
        expectTypeOf(events[0]!.data).toEqualTypeOf<{ name: string; text: string; sentAt: string }>();
        expectTypeOf(events[0]!.channel).toEqualTypeOf<`chat:${string}`>();
      },
    });
    subscription.close();
  });

  it('names the declaration does not have are compile errors', () => {
    const subscription = subscribe<AppChannels>('http://127.0.0.1:9/poll', {
      // @ts-expect-error 'news' matches no declared name or pattern
      channels: ['news'],
      retries: 0,
      onError,
      onEvents: () => {},
    });
    subscription.close();
  });

  it('poll() yields typed batches', async () => {
    const stop = new AbortController();
    stop.abort();
    for await (const batch of poll<AppChannels>('http://127.0.0.1:9/poll', { channels: ['cursor:doc-1'], signal: stop.signal })) {
      for (const event of batch.events) if (event.channel === 'presence') expectTypeOf(event.data.online).toEqualTypeOf<boolean>();
    }
  });

  it('without a declaration, as before: `T` is the data type, `unknown` by default', () => {
    const typed = subscribe<{ text: string }>('http://127.0.0.1:9/poll', {
      channels: ['anything'],
      retries: 0,
      onError,
      onEvents: (events) => expectTypeOf(events).toEqualTypeOf<ReadonlyArray<HangtimeEvent<{ text: string }>>>(),
    });
    typed.close();
    const untyped = subscribe('http://127.0.0.1:9/poll', {
      channels: ['anything'],
      retries: 0,
      onError,
      onEvents: (events) => expectTypeOf(events[0]!.data).toEqualTypeOf<unknown>(),
    });
    untyped.close();
  });

  it("hangtime restates the spec's StandardSchemaV1: each is assignable to the other", () => {
    expectTypeOf<SpecSchema<string, number>>().toExtend<StandardSchemaV1<string, number>>();
    expectTypeOf<StandardSchemaV1<string, number>>().toExtend<SpecSchema<string, number>>();
    expectTypeOf<SpecSchema.Issue>().toExtend<StandardSchemaV1.Issue>();
    expectTypeOf<StandardSchemaV1.Issue>().toExtend<SpecSchema.Issue>();
    // @ts-expect-error a validator of another output is not one of this output
    expectTypeOf<SpecSchema<string, string>>().toExtend<StandardSchemaV1<string, number>>();
  });

  it('useHangtime: the same declaration types its options, events and reducer', () => {
    type Chat = HangtimeState<AppChannels, undefined>['events'][number];
    expectTypeOf<Extract<Chat, { channel: 'presence' }>['data']>().toEqualTypeOf<{ user: string; online: boolean }>();
    expectTypeOf<UseHangtimeOptions<AppChannels>['channels'][number]>().toEqualTypeOf<`chat:${string}` | 'presence' | `cursor:${string}`>();
    const options: UseHangtimeOptions<AppChannels, number> = {
      channels: ['presence'],
      initial: 0,
      reduce: (count, events) => count + events.filter((event) => event.channel === 'presence' && event.data.online).length,
    };
    expectTypeOf(options.reduce!).returns.toEqualTypeOf<number>();
    expectTypeOf<HangtimeState<AppChannels, number>['data']>().toEqualTypeOf<number>();
  });

  it("hangtime.log.append takes each channel's schema input; undeclared channels anything", async () => {
    const hangtime = createHangtime({ channels });
    // zod's default: `sentAt` may be left out on input.
    await hangtime.log.append('chat:lobby', { name: 'ada', text: 'hi' });
    await hangtime.log.append('presence', { user: 'ada', online: true });
    // @ts-expect-error `text` is missing
    await expect(hangtime.log.append('chat:lobby', { name: 'ada' })).rejects.toThrow(/Invalid event/);
    // @ts-expect-error `online` is a boolean
    await expect(hangtime.log.append('presence', { user: 'ada', online: 'yes' })).rejects.toThrow(/Invalid event/);
    await hangtime.log.append('news', { anything: 1 });
    expectTypeOf(hangtime.log.append<'news'>)
      .parameter(1)
      .toEqualTypeOf<unknown>();
    // Without a declaration, the log as before.
    const plain = createHangtime();
    expectTypeOf(plain.log.append).parameter(1).toEqualTypeOf<unknown>();
    await hangtime.close();
    await plain.close();
  });

  it('ChannelData: what backend code may append to a channel', () => {
    expectTypeOf<ChannelData<AppChannels, 'chat:lobby'>>().toEqualTypeOf<{ name: string; text: string; sentAt: string }>();
    expectTypeOf<ChannelData<AppChannels, 'presence'>>().toEqualTypeOf<{ user: string; online: boolean }>();
    expectTypeOf<ChannelData<AppChannels, 'news'>>().toEqualTypeOf<never>();
  });
});

describe('the same declaration at run time', () => {
  it('a typed subscriber receives the validated output of each library', async () => {
    const hangtime = createHangtime({ channels, maxWaitMs: 2_000 });
    const server = await serve(hangtime, { port: 0 });
    try {
      await hangtime.log.append('chat:lobby', { name: 'ada', text: 'hi' });
      await hangtime.log.append('presence', { user: 'ada', online: true });
      await hangtime.log.append('cursor:doc-1', { x: 1, y: 2 });
      const got: Array<[string, unknown]> = [];
      for await (const batch of poll<AppChannels>(`${server.url}/poll`, {
        channels: ['chat:lobby', 'presence', 'cursor:doc-1'],
        from: 'oldest',
      })) {
        for (const event of batch.events) got.push([event.channel, event.data]);
        if (got.length === 3) break;
      }
      expect(got).toEqual([
        ['chat:lobby', { name: 'ada', text: 'hi', sentAt: '' }],
        ['presence', { user: 'ada', online: true }],
        ['cursor:doc-1', { x: 1, y: 2 }],
      ]);
    } finally {
      await server.close();
    }
  });
});
