import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createHangtime, memoryLog, type EventLog } from '../../src/index.js';
import type { SignalLike } from '../../src/signal.js';
import { POLLS_PER_TURN } from '../../src/hold-timers.js';
import { fakeClock } from '../support/clock.js';
import { startServer, until, type PollBody } from './support.js';

describe('the hold', () => {
  it('frees the waiter at once when the client disconnects', async () => {
    const log = memoryLog();
    const { hangtime, poll } = await startServer({ log, maxWaitMs: 20_000 });
    const controllers = Array.from({ length: 20 }, () => new AbortController());
    const polls = controllers.map((c, i) => poll(`channels=c${i % 3},shared`, { signal: c.signal }).catch(() => 'aborted'));
    await until(() => hangtime.stats().waiting === 20 && log.stats().waiters === 20);
    const started = Date.now();
    controllers.forEach((c) => c.abort());
    expect(await Promise.all(polls)).toEqual(Array(20).fill('aborted'));
    await until(() => hangtime.stats().waiting === 0 && log.stats().waiters === 0);
    // "At once": well before the 20 s budget, with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('wait() ends at once on its signal and releases its listeners', async () => {
    const log = memoryLog();
    const hangtime = createHangtime({ log, maxWaitMs: 20_000 });
    const controller = new AbortController();
    const pending = hangtime.wait({ channels: ['a', 'b'], signal: controller.signal });
    await until(() => log.stats().waiters === 1);
    controller.abort();
    const result = await pending;
    expect(result.reason).toBe('abort');
    expect(result.events).toEqual([]);
    expect(log.stats().waiters).toBe(0);
    expect(hangtime.stats().waiting).toBe(0);
  });

  it('a poll with nothing after its cursor costs the log no read; an append costs one', async () => {
    const base = memoryLog();
    let reads = 0;
    const log: EventLog = { ...base, read: (...args) => (reads++, base.read(...args)) };
    const hangtime = createHangtime({ log, maxWaitMs: 20_000 });
    const { cursor } = await hangtime.wait({ channels: ['a'], waitMs: 0 });
    reads = 0;
    const timedOut = await hangtime.wait({ channels: ['a'], cursor, waitMs: 300 });
    expect([timedOut.reason, timedOut.cursor, reads]).toEqual(['timeout', cursor, 0]);
    const pending = hangtime.wait<string>({ channels: ['a'], cursor, waitMs: 20_000 });
    await until(() => base.stats().waiters === 1);
    await log.append('a', 'one');
    const woken = await pending;
    expect([woken.reason, woken.events.map((e) => e.data), reads]).toEqual(['events', ['one'], 1]);
  });

  it('after a spurious wake, waits again for the rest of the budget and still gets the event', async () => {
    const base = memoryLog();
    let spurious = 2;
    const waitSignals: SignalLike[] = [];
    const log: EventLog = {
      ...base,
      // A wrapper that changes `waitFor` drops `waitInto`, or the hold would use that instead.
      waitInto: undefined,
      waitFor: (targets, signal) => {
        waitSignals.push(signal);
        return spurious-- > 0 ? Promise.resolve(true) : base.waitFor(targets, signal);
      },
    };
    const hangtime = createHangtime({ log, maxWaitMs: 20_000 });
    const { cursor } = await hangtime.wait({ channels: ['a'], waitMs: 0 });
    const pending = hangtime.wait<number>({ channels: ['a'], cursor });
    await until(() => base.stats().waiters === 1);
    // Three waits, each with a signal of its own (a log may keep one it was given).
    expect(new Set(waitSignals).size).toBe(3);
    await log.append('a', 7);
    const result = await pending;
    expect([result.reason, result.events.map((e) => e.data)]).toEqual(['events', [7]]);
    expect(waitSignals.every((signal) => signal.aborted)).toBe(true);
    expect([base.stats().waiters, hangtime.stats().waiting]).toEqual([0, 0]);
  });

  it('wait() works with any SignalLike, not only AbortSignal, and releases its listener', async () => {
    const listeners = new Set<() => void>();
    const signal: SignalLike = {
      aborted: false,
      addEventListener: (_type, listener) => void listeners.add(listener),
      removeEventListener: (_type, listener) => void listeners.delete(listener),
    };
    const log = memoryLog();
    const hangtime = createHangtime({ log, maxWaitMs: 20_000 });
    const pending = hangtime.wait({ channels: ['a'], signal });
    await until(() => log.stats().waiters === 1);
    expect(listeners.size).toBe(1);
    (signal as { aborted: boolean }).aborted = true;
    for (const listener of [...listeners]) listener();
    expect((await pending).reason).toBe('abort');
    expect([listeners.size, log.stats().waiters]).toEqual([0, 0]);
  });

  it('a timed-out hold leaves no listener on the client signal and no waiter in the log', async () => {
    const log = memoryLog();
    const hangtime = createHangtime({ log, maxWaitMs: 20_000, minHoldMs: 0 });
    const controller = new AbortController();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => hangtime.wait({ channels: ['a'], signal: controller.signal, waitMs: 200 })),
    );
    expect(new Set(results.map((r) => r.reason))).toEqual(new Set(['timeout']));
    expect([log.stats().waiters, hangtime.stats().waiting]).toEqual([0, 0]);
    // Node warns past 10 listeners on one signal: none may be left behind.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('polls with the same URL share its parsing, not its Prefer header or its authorization', async () => {
    const seen: string[][] = [];
    const hangtime = createHangtime({
      maxWaitMs: 20_000,
      minHoldMs: 0,
      authorize: (_request, channels) => {
        seen.push([...channels]);
        // The list is the poll's own to read, not to change.
        expect(Object.isFrozen(channels)).toBe(true);
        return true;
      },
    });
    const request = (prefer: string | null) => ({
      method: 'GET',
      url: '/poll?channels=a,b',
      headers: { get: (name: string) => (name === 'prefer' ? prefer : null) },
    });
    const started = Date.now();
    const quick = await hangtime.respond(request('wait=0'));
    expect(quick.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    const held = hangtime.respond(request('wait=1'));
    await until(() => hangtime.stats().waiting === 1);
    // Held for its own `Prefer: wait=1`, not the cached parse's answer to the first poll (wait=0).
    const timing = (await held).headers['server-timing']!;
    expect(timing).toMatch(/desc="timeout"/);
    expect(Number(/dur=([\d.]+)/.exec(timing)?.[1])).toBeGreaterThanOrEqual(800);
    expect(seen).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    // A bad query is rejected every time, not remembered as good.
    for (let i = 0; i < 2; i++) expect((await hangtime.respond({ ...request(null), url: '/poll?channels=a&wait=x' })).status).toBe(400);
  });

  it('respond() settles with an answer even when the log fails and onError throws', async () => {
    const base = memoryLog();
    await base.append('a', 1);
    const log: EventLog = { ...base, read: () => Promise.reject(new Error('connection reset')) };
    const hangtime = createHangtime({
      log,
      onError: () => {
        throw new Error('a broken error reporter');
      },
    });
    const answer = await hangtime.respond({ method: 'GET', url: '/poll?channels=a&from=oldest', headers: { get: () => null } });
    expect([answer.status, JSON.parse(answer.body).error.code]).toEqual([503, 'log_unavailable']);
    expect(hangtime.stats().waiting).toBe(0);
  });

  it('appends made in the same tick reach a held poll as one batch', async () => {
    const hangtime = createHangtime({ maxWaitMs: 20_000 });
    const { cursor } = await hangtime.wait({ channels: ['a', 'b'], waitMs: 0 });
    const pending = hangtime.wait<number>({ channels: ['a', 'b'], cursor });
    await until(() => (hangtime.log as ReturnType<typeof memoryLog>).stats().waiters === 1);
    await Promise.all([hangtime.log.append('a', 1), hangtime.log.append('b', 2), hangtime.log.append('a', 3)]);
    const result = await pending;
    expect(result.events.map((e) => [e.channel, e.data])).toEqual([
      ['a', 1],
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('holds that end early leave no timer behind (nothing keeps the process alive)', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const hangtime = createHangtime({ maxWaitMs: 60_000 });
    const before = timers();
    const controller = new AbortController();
    // Budgets from 2 s to 40 s: many grid slots, several holds per slot.
    const holds = Array.from({ length: 200 }, (_, i) =>
      hangtime.wait({ channels: ['a'], waitMs: 2_000 + i * 190, signal: controller.signal }),
    );
    await until(() => hangtime.stats().waiting === 200);
    expect(timers()).toBeGreaterThan(before);
    controller.abort();
    expect(new Set((await Promise.all(holds)).map((r) => r.reason))).toEqual(new Set(['abort']));
    expect(timers()).toBe(before);
  });

  it('holds sharing a timer slot: those that end early leave it, the others time out together, once each', async () => {
    // On injected timers. Budgets of 10 s with no jitter all end in one 50 ms slot, a list
    // threaded through its holds (src/hold-timers.ts): unlink its head, its tail and a middle one
    // (abort), one more through an append, and the rest must still end, at the slot's time.
    const clock = fakeClock();
    const hangtime = createHangtime({ maxWaitMs: 60_000, random: () => 0, now: clock.now, timers: clock.timers });
    const ended: Array<string | undefined> = Array(7).fill(undefined);
    const controllers = Array.from({ length: 7 }, () => new AbortController());
    const holds = controllers.map((controller, i) =>
      hangtime
        .wait({ channels: [i === 2 ? 'b' : 'a'], waitMs: 10_000, signal: controller.signal })
        .then((result) => (ended[i] = result.reason)),
    );
    await clock.advance(0);
    expect(hangtime.stats().waiting).toBe(7);
    expect(clock.pending()).toBe(1);
    // The last hold started is the slot's head, the first its tail.
    for (const i of [6, 0, 3]) controllers[i]!.abort();
    await hangtime.log.append('b', 'x');
    await clock.advance(9_999);
    expect(ended).toEqual(['abort', undefined, 'events', 'abort', undefined, undefined, 'abort']);
    await clock.advance(1);
    await Promise.all(holds);
    expect(ended).toEqual(['abort', 'timeout', 'events', 'abort', 'timeout', 'timeout', 'abort']);
    expect(hangtime.stats().waiting).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('a timer slot of more holds than one turn answers (POLLS_PER_TURN) ends every one of them, once', async () => {
    // A crowd that started together times out together: the slot answers it over several turns
    // of the event loop (src/hold-timers.ts, eachInTurns). An append lands after the slot fired
    // but before the last slice ran: each hold still ends once, by its timeout or with the event.
    const clock = fakeClock();
    const hangtime = createHangtime({ maxWaitMs: 60_000, maxWaiters: 1_000, random: () => 0, now: clock.now, timers: clock.timers });
    const total = POLLS_PER_TURN * 2 + 50;
    const ended: string[] = [];
    const holds = Array.from({ length: total }, () =>
      hangtime.wait({ channels: ['a'], waitMs: 10_000 }).then((result) => {
        ended.push(result.reason);
        if (ended.length === 1) void hangtime.log.append('a', 'late');
        return result;
      }),
    );
    await clock.advance(0);
    expect(clock.pending()).toBe(1);
    await clock.advance(10_000);
    const results = await Promise.all(holds);
    expect(ended).toHaveLength(total);
    // The first slice timed out; a later hold may have been woken by the append first.
    expect(ended.slice(0, POLLS_PER_TURN).every((reason) => reason === 'timeout')).toBe(true);
    for (const result of results) {
      expect([result.reason, result.events.map((e) => e.data)]).toEqual(
        result.reason === 'timeout' ? ['timeout', []] : ['events', ['late']],
      );
    }
    expect(hangtime.stats().waiting).toBe(0);
  });

  it('a hold across the wrap of its 32-bit clock ends on its budget and reports how long it held', async () => {
    // The holder keeps its start as whole ms from the instance's creation in 32 bits (unboxed),
    // which wrap after 24.8 days: a hold that starts just before the wrap must still end after
    // its own budget, and report its own length, not one 2^32 ms off.
    const clock = fakeClock();
    const hangtime = createHangtime({ maxWaitMs: 60_000, random: () => 0, now: clock.now, timers: clock.timers });
    await clock.advance(2 ** 31 - 4_000);
    const timedOut = hangtime.wait({ channels: ['a'], waitMs: 10_000 });
    const woken = hangtime.wait<string>({ channels: ['b'], waitMs: 10_000 });
    await clock.advance(7_000);
    await hangtime.log.append('b', 'x');
    const event = await woken;
    expect([event.reason, event.events.map((e) => e.data), event.heldMs]).toEqual(['events', ['x'], 7_000]);
    // Holds over a second end on a 50 ms grid, never later than their budget.
    await clock.advance(2_949);
    expect(hangtime.stats().waiting).toBe(1);
    await clock.advance(51);
    const { reason, heldMs } = await timedOut;
    expect(reason).toBe('timeout');
    expect(heldMs).toBeGreaterThanOrEqual(9_950);
    expect(heldMs).toBeLessThanOrEqual(10_000);
  });

  it('holds over a second end on time, each on its own budget', async () => {
    const hangtime = createHangtime({ maxWaitMs: 60_000, random: () => 0 });
    const started = Date.now();
    const results = await Promise.all(
      [1_200, 1_500, 1_550].map(async (waitMs) => {
        const result = await hangtime.wait({ channels: ['a'], waitMs });
        return { waitMs, result, elapsed: Date.now() - started };
      }),
    );
    for (const { waitMs, result, elapsed } of results) {
      expect(result.reason).toBe('timeout');
      // Never later than the budget (the 50 ms grid rounds down); generous on a loaded machine.
      expect(elapsed).toBeGreaterThanOrEqual(waitMs - 60);
      expect(elapsed).toBeLessThan(waitMs + 1_500);
    }
  });

  it('wait() returns parsed events and a cursor that continues exactly after them', async () => {
    const hangtime = createHangtime({ maxWaitMs: 2_000 });
    const start = await hangtime.wait({ channels: ['x'], waitMs: 0 });
    expect(start.reason).toBe('timeout');
    await hangtime.log.append('x', { n: 1 });
    await hangtime.log.append('x', { n: 2 });
    const first = await hangtime.wait<{ n: number }>({ channels: ['x'], cursor: start.cursor, limit: 1 });
    expect(first.events.map((e) => e.data.n)).toEqual([1]);
    expect(first.more).toBe(true);
    const second = await hangtime.wait<{ n: number }>({ channels: ['x'], cursor: first.cursor });
    expect(second.events.map((e) => e.data.n)).toEqual([2]);
    expect(second.reason).toBe('events');
  });

  it('wait() holds until the deadline minus the safety margin', async () => {
    // On injected timers: the hold's budget is steered by its timer, no real time passes.
    const clock = fakeClock();
    const hangtime = createHangtime({ maxWaitMs: 20_000, safetyMarginMs: 300, now: clock.now, timers: clock.timers });
    const started = clock.now();
    let ended = false;
    const pending = hangtime.wait({ channels: ['x'], deadline: started + 1_300 }).finally(() => (ended = true));
    await clock.advance(799);
    expect(ended).toBe(false);
    await clock.advance(1_300 - 799);
    const result = await pending;
    expect(result.reason).toBe('deadline');
    expect(clock.now() - started).toBe(1_300);
    expect(result.heldMs).toBeLessThan(1_300);
    expect(result.heldMs).toBeGreaterThanOrEqual(800);
    expect(clock.pending()).toBe(0);
  });

  it('`timers` is checked like every option', () => {
    expect(() => createHangtime({ timers: { setTimeout } } as never)).toThrow(
      new TypeError('Expected `timers` to be an object with setTimeout and clearTimeout, got object'),
    );
  });

  it('cuts answers to maxResponseBytes and delivers the rest on the next poll', async () => {
    const log = memoryLog({ maxEventBytes: 10_000 });
    const hangtime = createHangtime({ log, maxResponseBytes: 40_000 });
    for (let i = 0; i < 20; i++) await log.append('big', { i, pad: 'x'.repeat(9_000) });
    let cursor: string | undefined;
    const seen: number[] = [];
    for (let round = 0; round < 20 && seen.length < 20; round++) {
      const answer = await hangtime.respond({
        method: 'GET',
        url: `/?channels=big&from=oldest&wait=0${cursor ? `&cursor=${cursor}` : ''}`,
        headers: new Headers(),
      });
      expect(answer.status).toBe(200);
      expect(Buffer.byteLength(answer.body)).toBeLessThanOrEqual(40_000);
      const body = JSON.parse(answer.body) as PollBody;
      seen.push(...body.events.map((e) => (e.data as { i: number }).i));
      cursor = body.cursor;
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('rejects bad options with precise TypeErrors', () => {
    expect(() => createHangtime({ maxWaitMs: -1 })).toThrow(new TypeError('Expected `maxWaitMs` to be a positive number, got -1'));
    expect(() => createHangtime({ maxWaitsMs: 5 } as never)).toThrow(/Unknown option `maxWaitsMs`/);
    expect(() => createHangtime({ maxEvents: 1.5 })).toThrow(/`maxEvents` to be a positive integer, got 1.5/);
    expect(() => createHangtime({ authorize: 'yes' } as never)).toThrow(/`authorize` to be a function/);
    expect(() => createHangtime({ maxResponseBytes: 100_000 })).toThrow(/maxResponseBytes.*maxEventBytes/);
    expect(() => createHangtime({ cors: { origins: '*' } } as never)).toThrow(/cors.origins/);
    expect(() => memoryLog({ maxAgeMs: 0 })).toThrow(/`maxAgeMs` to be a positive number/);
  });

  it('wait() rejects bad arguments with TypeErrors', async () => {
    const hangtime = createHangtime();
    await expect(hangtime.wait({ channels: [] })).rejects.toThrow(TypeError);
    await expect(hangtime.wait({ channels: ['bad channel'] })).rejects.toThrow(/Expected `channel`/);
    await expect(hangtime.wait({ channels: ['a'], timeout: 5 } as never)).rejects.toThrow(/Unknown option `timeout`/);
  });
});
