// The rules of the poll loop, each against the real handler on a real server (a proxy in
// front where a platform's answers are needed).
import { describe, expect, it } from 'vitest';
import {
  isHangtimeClientError,
  poll,
  subscribe,
  type CursorStorage,
  type HangtimeClientError,
  type HangtimeEvent,
  type Status,
} from '../../src/client/index.js';
import { fakeClock, onCleanup, sleep, startProxy, startServer, until } from './support.js';

type N = { n: number };

const memoryStorage = (): CursorStorage & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return { map, getItem: (key) => map.get(key) ?? null, setItem: (key, value) => void map.set(key, value) };
};

describe('stopping', () => {
  it('stops on a 403 with a typed error that says why, after one request', async () => {
    const server = await startServer({ authorize: () => false });
    const proxy = await startProxy(server.url);
    const errors: HangtimeClientError[] = [];
    const statuses: Array<Status['state']> = [];
    const subscription = subscribe(proxy.url, {
      channels: ['a'],
      onEvents: () => {},
      onError: (error) => errors.push(error),
      onStatus: (status) => statuses.push(status.state),
    });
    await expect(subscription.done).rejects.toMatchObject({
      name: 'HangtimeClientError',
      code: 'forbidden',
      status: 403,
      willRetry: false,
    });
    expect(errors).toHaveLength(1);
    expect(isHangtimeClientError(errors[0])).toBe(true);
    expect(statuses).toEqual(['connecting', 'closed']);
    expect(proxy.requests).toHaveLength(1);
  });

  it('stops on a 400 (a cursor this server did not write) with the protocol code', async () => {
    const server = await startServer();
    const subscription = subscribe(server.url, { channels: ['a'], cursor: 'not-a-cursor', onEvents: () => {}, onError: () => {} });
    await expect(subscription.done).rejects.toMatchObject({ code: 'bad_cursor', status: 400, willRetry: false });
    expect(subscription.status.state).toBe('closed');
  });

  it('gives up after `retries` failed attempts in a row', async () => {
    const server = await startServer();
    await server.stop();
    const clock = fakeClock();
    const errors: HangtimeClientError[] = [];
    const subscription = subscribe(server.url, { channels: ['a'], retries: 2, clock, onEvents: () => {}, onError: (e) => errors.push(e) });
    for (const attempt of [1, 2]) {
      await until(() => subscription.status.state === 'retrying' && subscription.status.attempt === attempt, 10_000, `retry ${attempt}`);
      clock.advance(60_000);
    }
    await expect(subscription.done).rejects.toMatchObject({ code: 'network', status: 0, willRetry: false });
    expect(errors.map((e) => e.willRetry)).toEqual([true, true, false]);
  });

  it('close() aborts the held poll at once: the server holds nothing afterwards', async () => {
    const server = await startServer({ maxWaitMs: 20_000 });
    const statuses: Array<Status['state']> = [];
    const subscription = subscribe(server.url, { channels: ['a'], onEvents: () => {}, onStatus: (s) => statuses.push(s.state) });
    await until(() => subscription.status.state === 'live');
    await until(() => server.hangtime.stats().waiting === 1, 10_000, 'a held poll');
    subscription.close();
    await subscription.done;
    await until(() => server.hangtime.stats().waiting === 0, 2_000, 'the hold released');
    expect(statuses).toEqual(['connecting', 'live', 'closed']);
    subscription.close(); // idempotent
  });

  it('an aborted signal ends the loop like close(); an already aborted one never polls', async () => {
    const server = await startServer({ maxWaitMs: 20_000 });
    const proxy = await startProxy(server.url);
    const controller = new AbortController();
    const subscription = subscribe(proxy.url, { channels: ['a'], signal: controller.signal, onEvents: () => {} });
    await until(() => server.hangtime.stats().waiting === 1, 10_000, 'a held poll');
    controller.abort();
    await subscription.done;
    await until(() => server.hangtime.stats().waiting === 0, 2_000, 'the hold released');
    const requests = proxy.requests.length;
    const never = subscribe(proxy.url, { channels: ['a'], signal: AbortSignal.abort(), onEvents: () => {} });
    await never.done;
    expect(never.status.state).toBe('closed');
    expect(proxy.requests).toHaveLength(requests);
  });
});

describe('retrying', () => {
  it('honours Retry-After on a 429, and retries 408', async () => {
    const server = await startServer({ maxWaitMs: 300 });
    const proxy = await startProxy(server.url, (_req, i) => {
      if (i === 1) return { status: 429, when: 'before', headers: { 'retry-after': '2' } };
      if (i === 3) return { status: 408, when: 'before' };
      return 'forward';
    });
    const clock = fakeClock();
    const errors: HangtimeClientError[] = [];
    const subscription = subscribe(proxy.url, {
      channels: ['a'],
      backoffMs: 5,
      maxBackoffMs: 10,
      clock,
      onEvents: () => {},
      onError: (e) => errors.push(e),
    });
    onCleanup(() => subscription.close());
    await until(() => subscription.status.state === 'retrying', 10_000, 'the 429');
    // The backoff alone is under 10 ms; the wait after the 429 is the server's two seconds.
    expect(clock.pending()).toEqual([2_000]);
    clock.advance(1_999);
    expect(clock.pending()).toEqual([1]);
    expect(proxy.requests).toHaveLength(2);
    clock.advance(1);
    await until(() => errors.length === 2, 10_000, 'the 408');
    expect(clock.pending()[0]).toBeLessThan(10);
    clock.advance(10);
    await until(() => proxy.requests.length >= 6, 10_000, 'six requests');
    expect(errors.map((e) => [e.status, e.willRetry])).toEqual([
      [429, true],
      [408, true],
    ]);
  });

  it('re-polls at once after an empty answer from a held poll', async () => {
    const server = await startServer({ maxWaitMs: 300, minHoldMs: 20 });
    const proxy = await startProxy(server.url);
    // Real time for `now` (the holds are real), timers that fire only when the test says: a
    // client that waited any backoff after a held answer would stop here.
    const clock = fakeClock(Date.now);
    const errors: HangtimeClientError[] = [];
    const subscription = subscribe(proxy.url, { channels: ['a'], clock, onEvents: () => {}, onError: (e) => errors.push(e) });
    onCleanup(() => subscription.close());
    await until(() => proxy.requests.length >= 5, 15_000, 'five polls');
    expect(clock.pending()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('backs off when the server keeps answering at once with nothing (no busy loop)', async () => {
    // A budget below `minHoldMs`: every answer is an instant empty one.
    const server = await startServer({ maxWaitMs: 1 });
    const proxy = await startProxy(server.url);
    const clock = fakeClock();
    const subscription = subscribe(proxy.url, { channels: ['a'], backoffMs: 50, maxBackoffMs: 400, clock, onEvents: () => {} });
    onCleanup(() => subscription.close());
    // The first poll (`wait=0`) is not held by design; each held one that comes back at once is
    // followed by a backoff that grows up to the cap: the client waits, it does not spin.
    for (const [polls, bound] of [
      [2, 50],
      [3, 100],
      [4, 200],
      [5, 400],
      [6, 400],
    ] as const) {
      await until(() => clock.pending().length === 1, 10_000, `the backoff after poll ${polls}`);
      expect(proxy.requests).toHaveLength(polls);
      expect(clock.pending()[0]).toBeLessThan(bound);
      clock.advance(bound);
    }
    // Not a failure: live all along.
    expect(subscription.status.state).toBe('live');
  });

  it('a throwing onEvents gets the same batch again after a backoff, reported as `handler`', async () => {
    const server = await startServer();
    const received: number[][] = [];
    const errors: HangtimeClientError[] = [];
    let failures = 2;
    const subscription = subscribe<N>(server.url, {
      channels: ['a'],
      backoffMs: 5,
      onEvents: (events) => {
        received.push(events.map((e) => e.data.n));
        if (failures-- > 0) throw new Error('handler bug');
      },
      onError: (e) => errors.push(e),
    });
    onCleanup(() => subscription.close());
    await until(() => subscription.status.state === 'live');
    const before = subscription.cursor;
    // Both appended before the woken hold reads (appends run synchronously up to their wake):
    // one batch of two.
    await Promise.all([server.log.append('a', { n: 1 }), server.log.append('a', { n: 2 })]);
    await until(() => received.length === 3, 10_000, 'three deliveries');
    expect(received).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(errors.map((e) => [e.code, (e.cause as Error).message, e.willRetry])).toEqual([
      ['handler', 'handler bug', true],
      ['handler', 'handler bug', true],
    ]);
    expect(subscription.cursor).not.toBe(before);
    await server.log.append('a', { n: 3 });
    await until(() => received.length === 4);
    expect(received[3]).toEqual([3]);
  });
});

describe('cursor', () => {
  it('drops duplicates (same channel and position) when a poll is answered from an older cursor', async () => {
    const server = await startServer();
    const urls: string[] = [];
    let replayed = false;
    // A fetch that, once, sends the request before last again: its answer repeats events.
    const replaying = (url: string, init: RequestInit) => {
      urls.push(url);
      const events = new URL(url).searchParams.get('cursor') && urls.length > 3 && !replayed;
      if (events) replayed = true;
      return fetch(events ? urls[urls.length - 3]! : url, init);
    };
    const events: Array<HangtimeEvent<N>> = [];
    const subscription = subscribe<N>(server.url, { channels: ['a'], fetch: replaying, onEvents: (batch) => void events.push(...batch) });
    onCleanup(() => subscription.close());
    await until(() => subscription.status.state === 'live');
    for (let n = 0; n < 6; n++) {
      await server.log.append('a', { n });
      await until(() => events.length === n + 1 || replayed, 5_000);
      await sleep(30);
    }
    await until(() => events.length >= 6);
    await sleep(200);
    expect(replayed).toBe(true);
    expect(events.map((e) => e.data.n)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  /** A server, an in-memory storage, and the options of a subscriber storing its cursor under `k`. */
  async function storedCursorCase() {
    const server = await startServer();
    const storage = memoryStorage();
    const seen: number[] = [];
    const options = {
      channels: ['a'],
      storageKey: 'k',
      storage,
      onEvents: (batch: ReadonlyArray<HangtimeEvent<N>>) => void seen.push(...batch.map((e) => e.data.n)),
    };
    return { server, storage, seen, options };
  }

  it('persists the cursor under storageKey: a restarted subscriber misses nothing and repeats nothing', async () => {
    const { server, storage, seen, options } = await storedCursorCase();
    const first = subscribe<N>(server.url, options);
    await until(() => first.status.state === 'live');
    await server.log.append('a', { n: 0 });
    await until(() => seen.length === 1);
    first.close();
    await first.done;
    expect(storage.map.get('k')).toBe(first.cursor);
    await server.log.append('a', { n: 1 });
    await server.log.append('a', { n: 2 });
    const second = subscribe<N>(server.url, options);
    onCleanup(() => second.close());
    await until(() => seen.length === 3);
    await sleep(200);
    expect(seen).toEqual([0, 1, 2]);
    expect(storage.map.get('k')).toBe(second.cursor);
  });

  it('with both cursor and storageKey: starts from the given cursor, not the stored one, and still stores after every batch', async () => {
    const { server, storage, seen, options } = await storedCursorCase();
    const first = subscribe<N>(server.url, options);
    await until(() => first.status.state === 'live');
    // A stale stored cursor, from before event 0.
    const stale = storage.map.get('k')!;
    await server.log.append('a', { n: 0 });
    await until(() => seen.length === 1);
    first.close();
    await first.done;
    storage.map.set('k', stale);
    // The explicit cursor (after event 0) wins over the stale stored one: event 0 is not repeated.
    const second = subscribe<N>(server.url, { ...options, cursor: first.cursor });
    onCleanup(() => second.close());
    await until(() => second.status.state === 'live');
    expect(storage.map.get('k')).toBe(first.cursor);
    await server.log.append('a', { n: 1 });
    await until(() => seen.length === 2);
    await sleep(200);
    expect(seen).toEqual([0, 1]);
    // And the cursor is stored after every handled batch: a reload resumes after event 1.
    expect(storage.map.get('k')).toBe(second.cursor);
    expect(second.cursor).not.toBe(first.cursor);
  });

  it('sends extra headers from a function, called for every poll', async () => {
    let token = 'one';
    const seen: string[] = [];
    const server = await startServer({
      maxWaitMs: 200,
      minHoldMs: 20,
      authorize: (request) => {
        seen.push(request.headers.get('authorization') ?? '');
        return request.headers.get('authorization') !== null;
      },
    });
    const subscription = subscribe(server.url, {
      channels: ['a'],
      headers: () => ({ authorization: `Bearer ${token}` }),
      onEvents: () => {},
    });
    onCleanup(() => subscription.close());
    await until(() => seen.length >= 2);
    token = 'two';
    await until(() => seen.at(-1) === 'Bearer two');
    expect(seen[0]).toBe('Bearer one');
  });
});

describe('poll()', () => {
  it('yields batches; the cursor moves when the next one is asked for; break releases the hold', async () => {
    const server = await startServer({ maxWaitMs: 20_000 });
    const storage = memoryStorage();
    setTimeout(() => void server.log.append('jobs', { n: 1 }), 300);
    const batches: number[][] = [];
    for await (const batch of poll<N>(server.url, { channels: ['jobs'], storageKey: 'jobs', storage })) {
      batches.push(batch.events.map((e) => e.data.n));
      // Inside the body the batch is not handled yet: the stored cursor is still the old one.
      expect(storage.map.get('jobs')).not.toBe(batch.cursor);
      if (batches.length === 2) break;
      setTimeout(() => void server.log.append('jobs', { n: 2 }), 100);
    }
    expect(batches).toEqual([[1], [2]]);
    await until(() => server.hangtime.stats().waiting === 0, 2_000, 'no hold left');
  });

  it('throws the fatal error from the loop, and validates its options at once', async () => {
    const server = await startServer({ authorize: () => ({ status: 401 }) });
    await expect(async () => {
      for await (const _ of poll(server.url, { channels: ['a'] })) void _;
    }).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    expect(() => poll(server.url, { channels: [] })).toThrow(TypeError);
  });
});
