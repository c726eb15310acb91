import { describe, expect, it } from 'vitest';
import { memoryLog, type MemoryLogOptions, type ReadResult } from '../../src/index.js';

// What only the memory log does (the shared behaviour is in test/conformance/): it forgets
// channels whose events have all expired, so that a log fed ever new channel names stays
// bounded (issue 9.8), and it still answers every reader of a forgotten channel exactly.

const ALL = { limit: 10_000, maxBytes: 100_000_000 };
const HOUR = 3_600_000;

function clockedLog(options: MemoryLogOptions = {}) {
  let nowMs = 1_700_000_000_000;
  const log = memoryLog({ maxAgeMs: HOUR, ...options, now: () => nowMs });
  return {
    log,
    advance: (ms: number) => void (nowMs += ms),
    /** Append to other channels until the log has swept (every max(1,000, channels) appends). */
    churn: async (count = 2_000) => {
      for (let i = 0; i < count; i++) await log.append(`churn-${i % 50}`, i);
    },
  };
}

const values = (result: ReadResult): unknown[] => {
  if (result.kind !== 'events') throw new Error(`Expected events, got ${JSON.stringify(result)}`);
  return result.events.map((event) => JSON.parse(event.json) as unknown);
};

describe('the memory log forgets channels nobody needs', () => {
  it('stays bounded when every event goes to a new channel name', async () => {
    const { log, advance } = clockedLog();
    for (let i = 0; i < 30_000; i++) {
      await log.append(`spam-${i}`, i);
      if (i % 1_000 === 999) advance(HOUR / 4);
    }
    const { channels, forgotten } = log.stats();
    // About an hour and a quarter of channels (5,000) plus a sweep's worth, not 30,000.
    expect(channels).toBeLessThan(8_000);
    expect(forgotten).toBeLessThanOrEqual(10_000);
  });

  it('never forgets a channel a poll waits on', async () => {
    const { log, advance, churn } = clockedLog();
    const position = await log.append('watched', 'x');
    const controller = new AbortController();
    const waiting = log.waitFor([{ channel: 'watched', after: position }], controller.signal);
    advance(2 * HOUR);
    await churn();
    expect(log.stats().channels).toBe(51);
    controller.abort();
    expect(await waiting).toBe(false);
  });

  it('answers a reader of a forgotten channel exactly: nothing missed, or how many', async () => {
    const { log, advance, churn } = clockedLog();
    const positions = [];
    for (let i = 0; i < 5; i++) positions.push(await log.append('gone', i));
    advance(2 * HOUR);
    await churn();
    expect(log.stats().forgotten).toBeGreaterThanOrEqual(1);

    // Read everything before it expired: nothing to tell, nothing to read.
    expect(values(await log.read('gone', positions[4]!, ALL))).toEqual([]);
    // Behind: the expired events it never got, counted.
    const behind = await log.read('gone', positions[1]!, ALL);
    expect(behind).toMatchObject({ kind: 'gap', reason: 'retention', missed: 3 });

    // The channel comes back: the reader that had everything reads the new events with no gap;
    // the one behind is still told, and resumes with the new events.
    await log.append('gone', 'back');
    expect(values(await log.read('gone', positions[4]!, ALL))).toEqual(['back']);
    const stillBehind = await log.read('gone', positions[1]!, ALL);
    expect(stillBehind).toMatchObject({ kind: 'gap', reason: 'retention', missed: 3 });
    if (stillBehind.kind === 'gap') expect(values(await log.read('gone', stillBehind.resumeAfter, ALL))).toEqual(['back']);
  });

  it('tells a reader that waited for the first event of a channel whose whole life it missed', async () => {
    const { log, advance, churn } = clockedLog();
    const nothingYet = await log.start('brief', 'now');
    await log.append('brief', 'lived and expired');
    advance(2 * HOUR);
    await churn();
    const absent = await log.read('brief', nothingYet, ALL);
    expect(absent).toMatchObject({ kind: 'gap', reason: 'retention' });
    await log.append('brief', 'again');
    const recreated = await log.read('brief', nothingYet, ALL);
    expect(recreated).toMatchObject({ kind: 'gap', reason: 'retention' });
    if (recreated.kind === 'gap') expect(values(await log.read('brief', recreated.resumeAfter, ALL))).toEqual(['again']);

    // A reader that started after the channel was forgotten missed nothing.
    const fresh = await log.start('brief2', 'now');
    await log.append('brief2', 'one');
    expect(values(await log.read('brief2', fresh, ALL))).toEqual(['one']);
  });

  it('caps channels with events at maxChannels, dropping those appended to least recently', async () => {
    const { log, advance } = clockedLog({ maxChannels: 1_000, maxAgeMs: Infinity });
    const first = await log.append('oldest', 'o1');
    await log.append('oldest', 'o2');
    for (let i = 0; i < 3_000; i++) {
      advance(1);
      await log.append(`c-${i}`, i);
    }
    expect(log.stats().channels).toBeLessThanOrEqual(1_000);
    // The dropped channel's reader is told how many events it lost.
    expect(await log.read('oldest', first, ALL)).toMatchObject({ kind: 'gap', reason: 'retention', missed: 1 });
    // Recent channels are kept whole.
    expect(values(await log.read('c-2999', await log.start('c-2999', 'oldest'), ALL))).toEqual([2999]);
  });

  it('keeps at most 10,000 records of forgotten channels; past them, gaps say missed: null', async () => {
    const { log, advance, churn } = clockedLog();
    const early = await log.append('early', 'e');
    await log.append('early', 'f');
    advance(2 * HOUR);
    await churn();
    for (let i = 0; i < 12_000; i++) await log.append(`later-${i}`, i);
    advance(2 * HOUR);
    await churn(15_000);
    expect(log.stats().forgotten).toBe(10_000);
    expect(await log.read('early', early, ALL)).toMatchObject({ kind: 'gap', reason: 'retention', missed: null });
  });
});
