// The store behind `useHangtime`, in Node against a real server: what React relies on
// (useSyncExternalStore's subscribe/getSnapshot), without React. The hook itself runs in
// Chromium with React 18 and 19 (test/browser/react.test.ts).
import { describe, expect, it } from 'vitest';
import { HangtimeStore } from '../../src/react/store.js';
import { onCleanup, startServer, until } from '../client/support.js';

const memoryStorage = () => {
  const items = new Map<string, string>();
  return { items, getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
};

const texts = (store: HangtimeStore<{ text: string }, undefined>) => store.getSnapshot().events.map((event) => event.data.text);
const tick = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('HangtimeStore', () => {
  it('unsubscribing and subscribing again at once (StrictMode) keeps one loop; the last listener leaving closes it', async () => {
    const server = await startServer({ maxWaitMs: 10_000 });
    const store = new HangtimeStore<{ text: string }, undefined>(server.url, { channels: ['chat'] });
    let notified = 0;
    const listener = () => void notified++;
    const first = store.subscribe(listener);
    first();
    const second = store.subscribe(listener);
    onCleanup(() => second());
    await until(() => server.hangtime.stats().waiting === 1, 10_000, 'one held poll');
    await tick();
    expect(server.hangtime.stats().waiting).toBe(1);
    expect(store.getSnapshot().status).toEqual({ state: 'live' });
    // A snapshot is stable until something changes (useSyncExternalStore compares them).
    expect(store.getSnapshot()).toBe(store.getSnapshot());
    const before = notified;
    await server.log.append('chat', { text: 'hi' });
    await until(() => texts(store).length === 1, 10_000, 'the event');
    expect(notified).toBeGreaterThan(before);
    second();
    await until(() => server.hangtime.stats().waiting === 0, 10_000, 'the loop closed');
  });

  it('a loop started again resumes after the events the store holds: none twice (with from: last:N)', async () => {
    const server = await startServer({ maxWaitMs: 10_000 });
    await server.log.append('chat', { text: 'a' });
    await server.log.append('chat', { text: 'b' });
    const store = new HangtimeStore<{ text: string }, undefined>(server.url, { channels: ['chat'], from: 'last:5' });
    let off = store.subscribe(() => {});
    await until(() => texts(store).length === 2, 10_000, 'the history');
    off();
    await until(() => server.hangtime.stats().waiting === 0, 10_000, 'the loop closed');
    await server.log.append('chat', { text: 'c' });
    off = store.subscribe(() => {});
    onCleanup(() => off());
    await until(() => texts(store).length >= 3, 10_000, 'the event appended meanwhile');
    await tick();
    expect(texts(store)).toEqual(['a', 'b', 'c']);
  });

  it('with storageKey, the cursor and the state it covers are stored together; a new store starts from both', async () => {
    const server = await startServer({ maxWaitMs: 10_000 });
    const storage = memoryStorage();
    const options = {
      channels: ['chat'],
      from: 'last:10' as const,
      storageKey: 'k',
      storage,
      initial: 0,
      reduce: (count: number, events: readonly unknown[]) => count + events.length,
    };
    await server.log.append('chat', { text: 'a' });
    const first = new HangtimeStore<{ text: string }, number>(server.url, options);
    const off = first.subscribe(() => {});
    await until(() => first.getSnapshot().data === 1, 10_000, 'the first event counted');
    await server.log.append('chat', { text: 'b' });
    await until(() => first.getSnapshot().data === 2, 10_000, 'the second event counted');
    await until(() => (JSON.parse(storage.items.get('k') ?? '{}') as { data?: number }).data === 2, 10_000, 'the state stored');
    off();
    await until(() => server.hangtime.stats().waiting === 0, 10_000, 'the loop closed');
    const stored = JSON.parse(storage.items.get('k')!) as { cursor: string; data: number };

    // "A reload": a new store over the same storage shows the stored state at once, and counts
    // only what it missed.
    await server.log.append('chat', { text: 'c' });
    const second = new HangtimeStore<{ text: string }, number>(server.url, options);
    expect(second.getSnapshot().data).toBe(2);
    const offAgain = second.subscribe(() => {});
    onCleanup(() => offAgain());
    await until(() => second.getSnapshot().data === 3, 10_000, 'the missed event counted');
    await tick();
    expect(second.getSnapshot().data).toBe(3);
    expect(stored.cursor).toEqual(expect.any(String));
  });

  it('keeps the newest `keep` events; a fatal error is `stopped` with the error', async () => {
    const server = await startServer({ maxWaitMs: 10_000 });
    for (let i = 0; i < 5; i++) await server.log.append('chat', { text: `m${i}` });
    const store = new HangtimeStore<{ text: string }, undefined>(server.url, { channels: ['chat'], from: 'oldest', keep: 2 });
    const off = store.subscribe(() => {});
    onCleanup(() => off());
    await until(() => store.getSnapshot().status.state === 'live', 10_000, 'live');
    expect(texts(store)).toEqual(['m3', 'm4']);

    const refused = new HangtimeStore<{ text: string }, undefined>(server.url.replace('/poll', '/poll?timeout=1'), { channels: ['chat'] });
    const offRefused = refused.subscribe(() => {});
    onCleanup(() => offRefused());
    await until(() => refused.getSnapshot().status.state === 'stopped', 10_000, 'stopped');
    expect(refused.getSnapshot().error?.code).toBe('unknown_parameter');
  });
});
