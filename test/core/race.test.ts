import { describe, expect, it } from 'vitest';
import { createHangtime, memoryLog, type EventLog } from '../../src/index.js';
import { startServer, type PollBody } from './support.js';

/**
 * The race the hold must close: an append that lands after a poll's read found nothing and
 * before its wait is registered, or while the poll is timing out. Consecutive polls that carry
 * the cursor forward must see every event exactly once, in order.
 */

const schedulers: Array<(fn: () => void) => void> = [
  (fn) => fn(),
  (fn) => queueMicrotask(fn),
  (fn) => setImmediate(fn),
  (fn) => setTimeout(fn, 0),
  (fn) => setTimeout(fn, 1),
];
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** A memory log that appends, at random moments around each read, the next events. */
function racingLog(produce: () => void): EventLog {
  const log = memoryLog({ maxEventsPerChannel: 100_000 });
  return {
    ...log,
    async read(channel, after, options) {
      if (Math.random() < 0.5) pick(schedulers)(produce);
      const result = await log.read(channel, after, options);
      // The window between "read found nothing" and "wait registered".
      if (Math.random() < 0.5) pick(schedulers)(produce);
      return result;
    },
  };
}

describe('no event lost or duplicated across consecutive polls', () => {
  it('holds: thousands of appends timed around reads, waits and timeouts', async () => {
    const total = 3_000;
    const channels = ['a', 'b', 'c'];
    let produced = 0;
    let log!: EventLog;
    const produce = () => {
      if (produced >= total) return;
      const n = produced++;
      void log.append(channels[n % 3]!, n);
    };
    log = racingLog(produce);
    // minHoldMs 0 and tiny waits make timeouts as frequent as events.
    const hangtime = createHangtime({ log, maxWaitMs: 3, minHoldMs: 0, safetyMarginMs: 0 });
    // Producers outside the reads too, so appends also land mid-wait and mid-timeout.
    const ticker = setInterval(() => pick(schedulers)(produce), 1);

    const consume = async () => {
      const seen: number[] = [];
      let cursor: string | undefined;
      let polls = 0;
      const deadline = Date.now() + 60_000;
      while (seen.length < total && Date.now() < deadline) {
        const result = await hangtime.wait<number>({
          channels,
          cursor,
          from: 'oldest',
          waitMs: Math.random() * 3,
          limit: 1 + Math.floor(Math.random() * 5),
        });
        seen.push(...result.events.map((e) => e.data));
        cursor = result.cursor;
        polls++;
      }
      return { seen, polls };
    };
    try {
      const consumers = await Promise.all([consume(), consume(), consume()]);
      for (const { seen, polls } of consumers) {
        expect(polls).toBeGreaterThan(300);
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen.length).toBe(total);
        for (const channel of [0, 1, 2]) {
          const ofChannel = seen.filter((n) => n % 3 === channel);
          expect(ofChannel).toEqual([...ofChannel].sort((x, y) => x - y));
        }
      }
    } finally {
      clearInterval(ticker);
    }
  });

  it('over HTTP: a poller carrying its cursor sees every published event once', async () => {
    const total = 600;
    const { hangtime, poll } = await startServer({ maxWaitMs: 40, minHoldMs: 0, log: memoryLog({ maxEventsPerChannel: 10_000 }) });
    const publisher = (async () => {
      for (let n = 0; n < total; n++) {
        await hangtime.log.append(n % 2 ? 'odd' : 'even', n);
        if (n % 7 === 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
      }
    })();
    const seen: number[] = [];
    let cursor = '';
    const deadline = Date.now() + 60_000;
    while (seen.length < total && Date.now() < deadline) {
      const body = (await (await poll(`channels=even,odd&from=oldest&limit=7${cursor && `&cursor=${cursor}`}`)).json()) as PollBody;
      seen.push(...body.events.map((e) => e.data as number));
      cursor = body.cursor;
    }
    await publisher;
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('polls that share a cursor share reads, and each still sees every event once', async () => {
    const total = 1_500;
    const inner = memoryLog({ maxEventsPerChannel: 100_000 });
    let reads = 0;
    const log: EventLog = {
      ...inner,
      read(channel, after, options) {
        reads++;
        return inner.read(channel, after, options);
      },
    };
    const hangtime = createHangtime({ log, maxWaitMs: 5, minHoldMs: 0, safetyMarginMs: 0 });
    let produced = 0;
    const ticker = setInterval(() => {
      // Bursts at random moments: between, during and after the shared reads.
      const burst = 1 + Math.floor(Math.random() * 4);
      for (let i = 0; i < burst; i++) {
        pick(schedulers)(() => {
          if (produced < total) void log.append('shared', produced++);
        });
      }
    }, 1);
    const start = await hangtime.wait({ channels: ['shared'], waitMs: 0 });
    let polls = 0;
    const consume = async () => {
      const seen: number[] = [];
      let cursor = start.cursor;
      const deadline = Date.now() + 60_000;
      while (seen.length < total && Date.now() < deadline) {
        const result = await hangtime.wait<number>({ channels: ['shared'], cursor, limit: 3 });
        polls++;
        seen.push(...result.events.map((e) => e.data));
        cursor = result.cursor;
      }
      return seen;
    };
    try {
      const results = await Promise.all(Array.from({ length: 40 }, consume));
      for (const seen of results) expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
      // The sharing really happened: far fewer reads than polls.
      expect(reads).toBeLessThan(polls / 3);
    } finally {
      clearInterval(ticker);
    }
  });
});
