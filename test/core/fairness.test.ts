import { describe, expect, it } from 'vitest';
import { createHangtime, memoryLog, type EventLog, type ReadResult } from '../../src/index.js';
import { mergeFairly } from '../../src/hold.js';
import { startServer, type PollBody } from './support.js';

// Issue 9.2: answers used to be filled greedily in channel order, so while the first channel of
// a poll had `limit` or more events waiting, the others got nothing, poll after poll.

const stored = (channel: string, values: readonly unknown[]): Extract<ReadResult, { kind: 'events' }> => ({
  kind: 'events',
  events: values.map((value, i) => ({ position: `${channel}-${String(i).padStart(4, '0')}`, json: JSON.stringify(value) })),
  more: false,
});

describe('a poll over several channels', () => {
  it('gives a quiet channel its event in the next answer while a busy one always has more than `limit` waiting', async () => {
    const log = memoryLog({ maxEventsPerChannel: 10_000 });
    const hangtime = createHangtime({ log, maxEvents: 10 });
    let { cursor } = await hangtime.wait({ channels: ['busy', 'quiet'], waitMs: 0 });
    for (let i = 0; i < 50; i++) await log.append('busy', i);
    await log.append('quiet', 'hello');
    const first = await hangtime.wait({ channels: ['busy', 'quiet'], cursor, waitMs: 0 });
    expect(first.events.filter((event) => event.channel === 'quiet').map((event) => event.data)).toEqual(['hello']);
    expect(first.events).toHaveLength(10);
    expect(first.more).toBe(true);

    // The busy channel keeps more than `limit` waiting: the quiet one still progresses at once.
    cursor = first.cursor;
    let busySeen = first.events.filter((event) => event.channel === 'busy').map((event) => event.data as number);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) await log.append('busy', 1_000 + round * 20 + i);
      await log.append('quiet', round);
      const answer = await hangtime.wait({ channels: ['busy', 'quiet'], cursor, waitMs: 0 });
      expect(
        answer.events.filter((event) => event.channel === 'quiet').map((event) => event.data),
        `round ${round}`,
      ).toEqual([round]);
      busySeen = busySeen.concat(answer.events.filter((event) => event.channel === 'busy').map((event) => event.data as number));
      cursor = answer.cursor;
    }
    // The busy channel's order stays exact and nothing was skipped.
    const expected = [...Array.from({ length: 50 }, (_, i) => i), ...Array.from({ length: 100 }, (_, i) => 1_000 + i)];
    expect(busySeen).toEqual(expected.slice(0, busySeen.length));
  });

  it('over HTTP too: the answer lists each channel together, in the poll order, within `limit`', async () => {
    const { hangtime, poll } = await startServer({ maxEvents: 4 });
    const first = (await (await poll('channels=a,b,c&wait=0')).json()) as PollBody;
    for (let i = 0; i < 6; i++) await hangtime.log.append('a', `a${i}`);
    await hangtime.log.append('c', 'c0');
    const body = (await (await poll(`channels=a,b,c&cursor=${first.cursor}`)).json()) as PollBody;
    expect(body.events.map((event) => event.data)).toEqual(['a0', 'a1', 'a2', 'c0']);
    expect(body.more).toBe(true);
    const next = (await (await poll(`channels=a,b,c&cursor=${body.cursor}`)).json()) as PollBody;
    expect(next.events.map((event) => event.data)).toEqual(['a3', 'a4', 'a5']);
    expect(next.more).toBe(false);
  });
});

describe('mergeFairly', () => {
  const positions = new Map([
    ['a', 'a-start'],
    ['b', 'b-start'],
    ['c', 'c-start'],
  ]);

  it('takes turns within the limit and keeps each channel in order', () => {
    const batch = mergeFairly(
      ['a', 'b', 'c'],
      [stored('a', [1, 2, 3, 4, 5]), stored('b', []), stored('c', [6, 7])],
      positions,
      5,
      1_000_000,
    );
    expect(batch.events.map(({ channel, event }) => `${channel}:${event.json}`)).toEqual(['a:1', 'a:2', 'a:3', 'c:6', 'c:7']);
    expect(batch.positions.get('a')).toBe('a-0002');
    expect(batch.positions.get('b')).toBe('b-start');
    expect(batch.positions.get('c')).toBe('c-0001');
    expect(batch.more).toBe(true);
  });

  it('stops a channel at its first event that does not fit, and lets the others go on', () => {
    // Envelope: 33 bytes + channel + position (6) = 40 bytes, plus the data.
    const big = 'x'.repeat(200);
    const batch = mergeFairly(
      ['a', 'b', 'c'],
      [stored('a', ['s', big, 't']), stored('b', ['u']), stored('c', ['v', 'w'])],
      positions,
      100,
      200,
    );
    expect(batch.events.map(({ channel, event }) => `${channel}:${JSON.parse(event.json) as string}`)).toEqual([
      'a:s',
      'b:u',
      'c:v',
      'c:w',
    ]);
    expect(batch.more).toBe(true);
  });

  it('always takes the first event, whatever its size', () => {
    const batch = mergeFairly(['a', 'b', 'c'], [stored('a', []), stored('b', ['x'.repeat(500)]), stored('c', ['y'])], positions, 10, 100);
    expect(batch.events.map(({ channel }) => channel)).toEqual(['b']);
    expect(batch.more).toBe(true);
  });

  it('says nothing more when every channel was read to its end', () => {
    const batch = mergeFairly(['a', 'b', 'c'], [stored('a', [1]), stored('b', []), stored('c', [2])], positions, 10, 1_000_000);
    expect(batch.more).toBe(false);
    expect(mergeFairly(['a', 'b', 'c'], [stored('a', []), stored('b', []), stored('c', [])], positions, 10, 1).events).toEqual([]);
  });
});

describe('a log that keeps waking a hold with nothing to read', () => {
  it('costs a bounded number of reads (the hold backs off instead of spinning)', async () => {
    const base = memoryLog();
    let reads = 0;
    const log: EventLog = {
      ...base,
      waitInto: (_targets, signal, sink) => sink.woken(!signal.aborted),
      read: (...args) => (reads++, base.read(...args)),
    };
    const hangtime = createHangtime({ log, maxWaitMs: 2_000, minHoldMs: 0 });
    const { cursor } = await hangtime.wait({ channels: ['a'], waitMs: 0 });
    reads = 0;
    const result = await hangtime.wait({ channels: ['a'], cursor, waitMs: 2_000 });
    expect(result.reason).toBe('timeout');
    // 2 s at 25, 50, 100 … 1,000 ms apart: about 8 reads; without the back-off, thousands.
    expect(reads).toBeLessThanOrEqual(12);
    expect(reads).toBeGreaterThanOrEqual(2);
  });
});
