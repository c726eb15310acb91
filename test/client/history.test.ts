// `from: 'last:N'`: a new reader gets the recent past at once, then live events, each once; a
// reader with a stored cursor (a reload) resumes from it and gets no history twice.
import { describe, expect, it } from 'vitest';
import { poll, subscribe, type HangtimeEvent } from '../../src/client/index.js';
import { onCleanup, startProxy, startServer, until } from './support.js';

/** An in-memory Web Storage stand-in: one per test, shared by the "tabs" of the test. */
const memoryStorage = () => {
  const items = new Map<string, string>();
  return { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
};

describe("from: 'last:N'", () => {
  it('delivers the last N events of each channel, then live ones, each once; a restart with the stored cursor gets no history again', async () => {
    const server = await startServer();
    for (let i = 1; i <= 6; i++) await server.log.append('chat', i);
    await server.log.append('room', 'r1');
    const proxy = await startProxy(server.url);
    const storage = memoryStorage();
    const seen: Array<[string, unknown]> = [];
    const onEvents = (events: ReadonlyArray<HangtimeEvent>) => void seen.push(...events.map((e): [string, unknown] => [e.channel, e.data]));
    const first = subscribe(proxy.url, { channels: ['chat', 'room'], from: 'last:2', storageKey: 'k', storage, onEvents });
    onCleanup(() => first.close());
    await until(() => seen.length === 3, 10_000, 'the history');
    expect(seen).toEqual([
      ['chat', 5],
      ['chat', 6],
      ['room', 'r1'],
    ]);
    expect(new URL(proxy.requests[0]!, proxy.url).searchParams.get('from')).toBe('last:2');
    await server.log.append('chat', 7);
    await until(() => seen.length === 4, 10_000, 'a live event');
    expect(seen.at(-1)).toEqual(['chat', 7]);
    first.close();
    await first.done;

    // The "reload": the same storage key, the same `from`; events appended while it was gone
    // come once, the history not again.
    await server.log.append('chat', 8);
    const again = subscribe(proxy.url, { channels: ['chat', 'room'], from: 'last:2', storageKey: 'k', storage, onEvents });
    onCleanup(() => again.close());
    await until(() => seen.length === 5, 10_000, 'the event appended meanwhile');
    await server.log.append('room', 'r2');
    await until(() => seen.length === 6, 10_000, 'a live event after the reload');
    expect(seen.slice(4)).toEqual([
      ['chat', 8],
      ['room', 'r2'],
    ]);
  });

  it('poll() pages a history longer than the server answers at once', async () => {
    const server = await startServer({ maxEvents: 3 });
    for (let i = 1; i <= 10; i++) await server.log.append('chat', i);
    const got: unknown[] = [];
    for await (const batch of poll(server.url, { channels: ['chat'], from: 'last:7' })) {
      got.push(...batch.events.map((e) => e.data));
      if (got.length >= 7) break;
    }
    expect(got).toEqual([4, 5, 6, 7, 8, 9, 10]);
  });
});
