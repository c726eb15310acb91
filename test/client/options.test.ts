// Options are checked when `subscribe()` or `poll()` is called, in the core's words: a bad or
// unknown option throws a TypeError that names it, and the loop never starts. An option the
// checks let through is one the server accepts: the loop never stops for its own parameter.
import { describe, expect, it } from 'vitest';
import { type HangtimeClientError, poll, subscribe, type Status, type Subscription } from '../../src/client/index.js';
import { onCleanup, startProxy, startServer, until } from './support.js';

const url = 'http://127.0.0.1:9/poll';
const onEvents = () => {};
const NAMES =
  'channels, cursor, from, waitMs, headers, fetch, signal, retries, backoffMs, maxBackoffMs, storageKey, storage, pauseWhenHidden, clock, onGap, onError, onStatus, onEvents';

describe('subscribe() and poll() check their options', () => {
  it.each([
    [undefined, 'Expected `channels` to be a non-empty array of channel names, got undefined'],
    [{ channels: [], onEvents }, 'Expected `channels` to be a non-empty array of channel names, got []'],
    [{ channels: ['a,b'], onEvents }, 'Expected `channels` to be a non-empty array of channel names, got ["a,b"]'],
    [{ channels: 'a', onEvents }, 'Expected `channels` to be a non-empty array of channel names, got "a"'],
    [{ channels: ['a'] }, 'Expected `onEvents` to be a function, got undefined'],
    [{ channels: ['a'], onEvents: undefined }, 'Expected `onEvents` to be a function, got undefined'],
    [{ channels: ['a'], onEvents, cursor: 7 }, 'Expected `cursor` to be a string, got 7'],
    // Each of these was sent as it was, answered with a 400, and stopped the loop for good.
    [{ channels: ['a'], onEvents, from: 'newest' }, "Expected `from` to be 'now', 'oldest' or 'last:N', got \"newest\""],
    [{ channels: ['a'], onEvents, from: 'last:0' }, "Expected `from` to be 'now', 'oldest' or 'last:N', got \"last:0\""],
    [{ channels: ['a'], onEvents, from: 'last:1001' }, "Expected `from` to be 'now', 'oldest' or 'last:N', got \"last:1001\""],
    [{ channels: ['a'], onEvents, from: 'last:05' }, "Expected `from` to be 'now', 'oldest' or 'last:N', got \"last:05\""],
    [{ channels: ['a'], onEvents, from: 'last:1.5' }, "Expected `from` to be 'now', 'oldest' or 'last:N', got \"last:1.5\""],
    [{ channels: ['a'], onEvents, from: 'last:' }, "Expected `from` to be 'now', 'oldest' or 'last:N', got \"last:\""],
    [{ channels: ['a'], onEvents, from: 'last:-1' }, "Expected `from` to be 'now', 'oldest' or 'last:N', got \"last:-1\""],
    [{ channels: ['a'], onEvents, from: 'last:ten' }, "Expected `from` to be 'now', 'oldest' or 'last:N', got \"last:ten\""],
    [{ channels: ['a'], onEvents, from: 'last:50 ' }, "Expected `from` to be 'now', 'oldest' or 'last:N', got \"last:50 \""],
    [{ channels: ['a'], onEvents, from: 'last:10000' }, "Expected `from` to be 'now', 'oldest' or 'last:N', got \"last:10000\""],
    [{ channels: ['a'], onEvents, waitMs: -1 }, 'Expected `waitMs` to be a number >= 0, got -1'],
    [{ channels: ['a'], onEvents, waitMs: Number.NaN }, 'Expected `waitMs` to be a number >= 0, got NaN'],
    [{ channels: ['a'], onEvents, waitMs: '25' }, 'Expected `waitMs` to be a number >= 0, got "25"'],
    [{ channels: ['a'], onEvents, retries: Number.NaN }, 'Expected `retries` to be a number >= 0, got NaN'],
    [{ channels: ['a'], onEvents, backoffMs: -5 }, 'Expected `backoffMs` to be a number >= 0, got -5'],
    [{ channels: ['a'], onEvents, maxBackoffMs: null }, 'Expected `maxBackoffMs` to be a number >= 0, got null'],
    [{ channels: ['a'], onEvents, headers: 'x-token: 1' }, 'Expected `headers` to be an object or a function, got "x-token: 1"'],
    [{ channels: ['a'], onEvents, headers: null }, 'Expected `headers` to be an object or a function, got null'],
    [{ channels: ['a'], onEvents, signal: true }, 'Expected `signal` to be an object, got true'],
    [{ channels: ['a'], onEvents, storage: 'session' }, 'Expected `storage` to be an object, got "session"'],
    [{ channels: ['a'], onEvents, clock: 1 }, 'Expected `clock` to be an object, got 1'],
    [{ channels: ['a'], onEvents, onError: 'log' }, 'Expected `onError` to be a function, got "log"'],
    [{ channels: ['a'], onEvents, onStatus: {} }, 'Expected `onStatus` to be a function, got [object Object]'],
    [{ channels: ['a'], onEvents, pauseWhenHidden: 1 }, 'Expected `pauseWhenHidden` to be a boolean, got 1'],
    [{ channels: ['a'], onEvents, storagekey: 'typo' }, `Unknown option \`storagekey\` for subscribe(); expected one of: ${NAMES}`],
  ])('subscribe(%j) throws a TypeError', (options, message) => {
    let started: Subscription | undefined;
    expect(() => (started = subscribe(url, options as never))).toThrow(new TypeError(message));
    // Had it not thrown, a loop would poll on past the test.
    started?.close();
  });

  it('poll() takes no onEvents, and names its own options', () => {
    const names = NAMES.replace(', onEvents', '');
    expect(() => poll(url, { channels: ['a'], onEvents } as never)).toThrow(
      new TypeError(`Unknown option \`onEvents\` for poll(); expected one of: ${names}`),
    );
    expect(() => poll(url, { channels: [] })).toThrow(
      new TypeError('Expected `channels` to be a non-empty array of channel names, got []'),
    );
    expect(() => poll(url, { channels: ['a'], waitMs: -1 })).toThrow(new TypeError('Expected `waitMs` to be a number >= 0, got -1'));
  });

  it('accepts every option at its edge, and undefined for any optional one', () => {
    const subscription = subscribe(url, {
      channels: ['a', 'b.c:d@e/f-g_h'],
      onEvents,
      cursor: undefined,
      from: 'oldest',
      waitMs: 0,
      headers: () => ({}),
      retries: 0,
      backoffMs: 0,
      maxBackoffMs: Infinity,
      storageKey: 'k',
      storage: { getItem: () => null, setItem: () => {} },
      pauseWhenHidden: false,
      clock: globalThis,
      onError: () => {},
    });
    subscription.close();
  });

  it('rejects a URL it cannot resolve (a relative one in Node)', () => {
    expect(() => subscribe('/relative/in/node', { channels: ['a'], onEvents })).toThrow(TypeError);
  });
});

describe('a `waitMs` beyond what `wait` can say', () => {
  it.each([Infinity, 1e12])('waitMs %d holds as long as the server allows, and never stops the loop', async (waitMs) => {
    const server = await startServer({ maxWaitMs: 20_000 });
    const proxy = await startProxy(server.url);
    const errors: HangtimeClientError[] = [];
    const statuses: Array<Status['state']> = [];
    const subscription = subscribe(proxy.url, {
      channels: ['a'],
      waitMs,
      onEvents,
      onError: (error) => errors.push(error),
      onStatus: (status) => statuses.push(status.state),
    });
    onCleanup(() => subscription.close());
    await until(() => server.hangtime.stats().waiting === 1, 10_000, 'a held poll');
    // The protocol's longest `wait` (`\d{1,6}(\.\d{1,3})?` seconds), which the server caps.
    expect(new URL(proxy.requests.at(-1)!, url).searchParams.get('wait')).toBe('999999.999');
    expect(errors).toEqual([]);
    expect(statuses).toEqual(['connecting', 'live']);
  });

  it('a fractional waitMs is sent in whole milliseconds', async () => {
    const server = await startServer({ maxWaitMs: 20_000 });
    const proxy = await startProxy(server.url);
    const subscription = subscribe(proxy.url, { channels: ['a'], waitMs: 10_000.4, onEvents });
    onCleanup(() => subscription.close());
    await until(() => server.hangtime.stats().waiting === 1, 10_000, 'a held poll');
    expect(new URL(proxy.requests.at(-1)!, url).searchParams.get('wait')).toBe('10');
  });
});
