// What the loop says about itself: `status` (and `onStatus`) with the next retry time, the
// attempt and the error while it waits to retry, and `retryNow()`. Driven by a fake clock:
// nothing here sleeps to make a retry happen.
import { describe, expect, it } from 'vitest';
import { subscribe, type HangtimeClientError, type Status } from '../../src/client/index.js';
import { fakeClock, onCleanup, sleep, startProxy, startServer, until, type Fault } from './support.js';

type Retrying = Status & { state: 'retrying' };

/** A server behind a proxy that answers 503 (with `Retry-After` when given) while `down`. */
async function flakyServer(retryAfter?: string) {
  const server = await startServer({ maxWaitMs: 20_000 });
  const gate = { down: true };
  const fault: Fault = { status: 503, when: 'before', headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } };
  const proxy = await startProxy(server.url, () => (gate.down ? fault : 'forward'));
  return { server, proxy, gate };
}

describe('status', () => {
  it('is set at once, and while retrying says when, which attempt and why; nothing is sent before `retryAt`', async () => {
    const { proxy, gate } = await flakyServer();
    const clock = fakeClock();
    const statuses: Status[] = [];
    const errors: HangtimeClientError[] = [];
    const subscription = subscribe(proxy.url, {
      channels: ['a'],
      backoffMs: 1_000,
      maxBackoffMs: 4_000,
      clock,
      onEvents: () => {},
      onError: (error) => errors.push(error),
      onStatus: (status) => statuses.push(status),
    });
    onCleanup(() => subscription.close());
    expect(subscription.status).toEqual({ state: 'connecting' });

    for (const attempt of [1, 2, 3, 4]) {
      await until(() => subscription.status.state === 'retrying' && subscription.status.attempt === attempt, 10_000, `retry ${attempt}`);
      const status = subscription.status as Retrying;
      expect(status.error).toBe(errors.at(-1));
      expect(status.error).toMatchObject({ code: 'http', status: 503, willRetry: true });
      // Full jitter under the cap: [0, min(4000, 1000 * 2^(attempt-1))).
      const waitMs = status.retryAt - clock.now();
      expect(waitMs).toBeGreaterThanOrEqual(0);
      expect(waitMs).toBeLessThan(Math.min(4_000, 1_000 * 2 ** (attempt - 1)));
      expect(clock.pending()).toEqual([waitMs]);
      const sent = proxy.requests.length;
      if (waitMs >= 1) {
        clock.advance(waitMs - 1);
        expect(clock.pending()[0]).toBeCloseTo(1);
      }
      if (attempt === 4) gate.down = false;
      clock.advance(1);
      await until(() => proxy.requests.length > sent, 10_000, `attempt ${attempt + 1}`);
    }
    await until(() => subscription.status.state === 'live', 10_000, 'live');
    // A retry in flight is `connecting`; every new retry time is reported.
    expect(statuses.map((status) => (status.state === 'retrying' ? status.attempt : status.state))).toEqual([
      'connecting',
      1,
      'connecting',
      2,
      'connecting',
      3,
      'connecting',
      4,
      'connecting',
      'live',
    ]);
  });

  it('`retryAt` honours Retry-After', async () => {
    const { proxy } = await flakyServer('30');
    const clock = fakeClock();
    const subscription = subscribe(proxy.url, { channels: ['a'], clock, onEvents: () => {}, onError: () => {} });
    onCleanup(() => subscription.close());
    await until(() => subscription.status.state === 'retrying', 10_000, 'retrying');
    // The backoff's first attempt is under 1 s: the 30 s are the server's.
    expect((subscription.status as Retrying).retryAt).toBe(clock.now() + 30_000);
  });
});

describe('retryNow()', () => {
  it('retries at once instead of at `retryAt`', async () => {
    // An hour's Retry-After: only `retryNow()` brings the subscription back within the test.
    const { server, proxy, gate } = await flakyServer('3600');
    const clock = fakeClock();
    const subscription = subscribe(proxy.url, { channels: ['a'], clock, onEvents: () => {}, onError: () => {} });
    onCleanup(() => subscription.close());
    await until(() => subscription.status.state === 'retrying', 10_000, 'retrying');
    expect((subscription.status as Retrying).retryAt).toBe(clock.now() + 3_600_000);
    gate.down = false;
    subscription.retryNow();
    await until(() => subscription.status.state === 'live', 10_000, 'live');
    // The hour's timer is cleared, not left to fire.
    expect(clock.pending()).toEqual([]);
    await until(() => server.hangtime.stats().waiting === 1, 10_000, 'a held poll');
  });

  it('a failed retry counts as the next attempt', async () => {
    const { proxy } = await flakyServer('3600');
    const clock = fakeClock();
    const subscription = subscribe(proxy.url, { channels: ['a'], clock, onEvents: () => {}, onError: () => {} });
    onCleanup(() => subscription.close());
    await until(() => subscription.status.state === 'retrying', 10_000, 'retrying');
    subscription.retryNow();
    await until(() => subscription.status.state === 'retrying' && subscription.status.attempt === 2, 10_000, 'the second attempt');
    expect(proxy.requests).toHaveLength(2);
  });

  it('does nothing unless retrying: a live poll is not cut', async () => {
    const server = await startServer({ maxWaitMs: 20_000 });
    const proxy = await startProxy(server.url);
    const subscription = subscribe(proxy.url, { channels: ['a'], onEvents: () => {} });
    onCleanup(() => subscription.close());
    await until(() => server.hangtime.stats().waiting === 1, 10_000, 'a held poll');
    const sent = proxy.requests.length;
    subscription.retryNow();
    // Nothing to wait for: a cut poll would be sent again at once.
    await sleep(300);
    expect(proxy.requests).toHaveLength(sent);
    expect(server.hangtime.stats().waiting).toBe(1);
  });
});
