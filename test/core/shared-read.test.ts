import { describe, expect, it } from 'vitest';
import { createHangtime, memoryLog, type EventLog } from '../../src/index.js';
import { deliverEach, type ReadSink } from '../../src/read.js';
import { until } from './support.js';

// Polls that read the same channels from the same positions at the same time share one read
// (src/read.ts, SharedRead), and its batch reaches them in one pass. Sharing must never cross
// bounds: a poll asking for fewer events must not get a batch read for more, or the reverse.

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
    expect(() => deliverEach(sinks, (s) => s.read({ events: [], positions: new Map(), more: false, gaps: [] }))).toThrow('b broke');
    expect(got).toEqual(['a', 'b', 'c', 'd']);
  });
});
