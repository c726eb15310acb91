import { describe, expect, it } from 'vitest';
import { createHangtime, memoryLog, type EventLog } from '../../src/index.js';
import { POLLS_PER_TURN, eachInTurns } from '../../src/hold-timers.js';
import type { ReadSink } from '../../src/read.js';
import { until } from './support.js';

// Polls that read the same channels from the same positions at the same time share one read
// (src/read.ts, SharedRead), and its batch reaches them all, 256 per turn of the event loop.
// Sharing must never cross bounds: a poll asking for fewer events must not get a batch read for
// more, or the reverse.

describe('shared reads', () => {
  it('polls woken by one append share one read per bounds, each answered within its own', async () => {
    const base = memoryLog();
    let reads = 0;
    const log: EventLog = { ...base, read: (...args) => (reads++, base.read(...args)) };
    const hangtime = createHangtime({ log, maxWaitMs: 20_000 });
    const { cursor } = await hangtime.wait({ channels: ['c'], waitMs: 0 });
    const small = Array.from({ length: 10 }, () => hangtime.wait<number>({ channels: ['c'], cursor, limit: 2 }));
    const large = Array.from({ length: 10 }, () => hangtime.wait<number>({ channels: ['c'], cursor, limit: 5 }));
    await until(() => base.stats().waiters === 20);
    reads = 0;
    // Appended in one tick: the memory log wakes its waiters once, for all six.
    await Promise.all([0, 1, 2, 3, 4, 5].map((n) => log.append('c', n)));
    const answers = await Promise.all([...small, ...large]);
    for (const answer of answers.slice(0, 10)) expect([answer.events.map((e) => e.data), answer.more]).toEqual([[0, 1], true]);
    for (const answer of answers.slice(10)) expect([answer.events.map((e) => e.data), answer.more]).toEqual([[0, 1, 2, 3, 4], true]);
    expect(reads).toBe(2);
  });

  it('a sink that throws does not keep the others from their batch; its error is rethrown', () => {
    const got: string[] = [];
    const sink = (name: string, throws = false): ReadSink => ({
      read() {
        got.push(name);
        if (throws) throw new Error(`${name} broke`);
      },
      readFailed() {},
    });
    const sinks = [sink('a'), sink('b', true), sink('c'), sink('d', true)];
    expect(() => eachInTurns(sinks, (s) => s.read({ events: [], positions: new Map(), more: false, gaps: [] }))).toThrow('b broke');
    expect(got).toEqual(['a', 'b', 'c', 'd']);
  });

  it('many sinks are served in slices, one per turn of the event loop, each once and in order', async () => {
    const total = POLLS_PER_TURN * 2 + 10;
    const got: number[] = [];
    const expected = Array.from({ length: total }, (_, i) => i);
    const items: (number | undefined)[] = [...expected];
    // The first slice throws (a bug in one sink): it is rethrown at once, and the later slices still run.
    expect(() =>
      eachInTurns(items, (i) => {
        got.push(i);
        if (i === 3) throw new Error('3 broke');
      }),
    ).toThrow('3 broke');
    expect(got).toHaveLength(POLLS_PER_TURN);
    // What was called is no longer held by the walk (an answered poll is garbage at once), what
    // waits for a later slice still is.
    expect(items.slice(0, POLLS_PER_TURN).every((item) => item === undefined)).toBe(true);
    expect(items[POLLS_PER_TURN]).toBe(POLLS_PER_TURN);
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toHaveLength(POLLS_PER_TURN * 2);
    await until(() => got.length === total);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(got).toEqual(expected);
    expect(items.every((item) => item === undefined)).toBe(true);
  });

  it('a fan-out to more polls than one slice: each answered once, with the event or with a cursor that leads to it', async () => {
    // 700 polls share one read: the batch reaches them over three turns. When the first answer is
    // out (the first slice served, the last not yet), 200 clients leave, among them those of the
    // last slice, and a second event is appended: each poll must still end exactly once, and
    // none may skip the first event.
    const log = memoryLog();
    const hangtime = createHangtime({ log, maxWaitMs: 20_000, maxWaiters: 1_000 });
    const { cursor } = await hangtime.wait({ channels: ['c'], waitMs: 0 });
    const controllers = Array.from({ length: 700 }, () => new AbortController());
    let settled = 0;
    let leftAt = -1;
    // Polls with their answer so far (their outcome is out, whether or not its promise settled yet).
    const got = () => 700 - hangtime.stats().waiting;
    const polls = controllers.map((controller) =>
      hangtime.wait<string>({ channels: ['c'], cursor, signal: controller.signal }).then((result) => {
        if (settled++ === 0) {
          leftAt = got();
          for (const leaving of [...controllers.slice(0, 100), ...controllers.slice(600)]) leaving.abort();
          void log.append('c', 'second');
        }
        return result;
      }),
    );
    await until(() => log.stats().waiters === 700);
    await log.append('c', 'first');
    const results = await Promise.all(polls);
    // When the first answer was seen, one slice had been served (the polls' answers settle in
    // microtasks, before the next turn).
    expect(leftAt).toBe(POLLS_PER_TURN);
    expect(settled).toBe(700);
    for (const result of results) {
      if (result.events.length > 0) {
        expect(result.events[0]!.data).toBe('first');
        continue;
      }
      // Ended without events (its client left): its cursor still leads to the first event.
      const next = await hangtime.wait<string>({ channels: ['c'], cursor: result.cursor, waitMs: 0 });
      expect(next.events.map((e) => e.data)).toEqual(['first', 'second']);
    }
    expect(results.filter((r) => r.events.length > 0).length).toBeGreaterThanOrEqual(500);
    expect(hangtime.stats().waiting).toBe(0);
    await hangtime.close();
  });
});
