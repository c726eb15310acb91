import { describe, expect, it, onTestFinished } from 'vitest';
import { createHangtime } from '../../src/hangtime.js';
import { START, type EventLog, type ReadResult, type StoredEvent } from '../../src/log.js';

/**
 * The conformance suite: what every event log must do, whatever it stores events in. Each
 * log runs it through a small harness (`LogSubject`) that hides what only that log can do:
 * let time pass on its clock, or lose a channel's history.
 *
 * Run by test/conformance/memory.test.ts, test/redis/redis-conformance.test.ts and
 * test/redis/cluster.test.ts.
 */

export interface LogSubjectOptions {
  readonly maxEventsPerChannel?: number;
  readonly maxAgeMs?: number;
  readonly maxEventBytes?: number;
}

export interface LogSubject {
  readonly log: EventLog;
  /** Another log over the same storage, as another process would have (none for the memory log). */
  readonly peer?: EventLog;
  /** Let `ms` pass on the clock the log ages events by (a fake clock, or a real sleep). */
  advance(ms: number): Promise<void>;
  /** Lose a channel's history the way this log can (a restart, a deleted key); returns the log to use from then on. */
  forget(channel: string): Promise<EventLog>;
  /** A position of the same generation as `position`, ahead of it by `count` events that were
   * never appended (what a forged or failover-lost cursor names). */
  ahead(position: string, count: number): string;
  /** Waiters the log holds, when it can tell. */
  waiters?(): number;
  /** Close every log and delete what the subject stored. */
  dispose(): Promise<void>;
}

export type MakeLogSubject = (options: LogSubjectOptions) => Promise<LogSubject>;

export interface ConformanceSettings {
  /** Iterations of the log-level race. Default `2_000`. */
  readonly raceIterations?: number;
  /** Events of the hold-level race. Default `600`. */
  readonly raceEvents?: number;
}

/** Positions travel in cursors: every log's positions must fit this (src/cursor.ts). */
const CURSOR_POSITION = /^[A-Za-z0-9_.:~-]{1,64}$/;

const ALL = { limit: 10_000, maxBytes: 100_000_000 };

let channelCount = 0;
/** A channel name no other test uses (the storage may be shared). */
const newChannel = (what: string): string => `${what}-${process.pid}-${++channelCount}`;

function events(result: ReadResult): readonly StoredEvent[] {
  if (result.kind !== 'events') throw new Error(`Expected events, got a gap: ${JSON.stringify(result)}`);
  return result.events;
}

const data = (result: ReadResult): unknown[] => events(result).map((event) => JSON.parse(event.json) as unknown);

/** Settle within `ms` or report `'pending'`: for "resolves at once" and "stays waiting". */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([promise, pending]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every event retained in a channel: read from before its oldest. */
async function readAll(log: EventLog, channel: string, options = ALL): Promise<ReadResult> {
  return log.read(channel, await log.start(channel, 'oldest'), options);
}

const never = (): AbortSignal => new AbortController().signal;

export function describeEventLog(name: string, make: MakeLogSubject, settings: ConformanceSettings = {}): void {
  const raceIterations = settings.raceIterations ?? 2_000;
  const raceEvents = settings.raceEvents ?? 600;

  async function subject(options: LogSubjectOptions = {}): Promise<LogSubject> {
    const created = await make(options);
    onTestFinished(() => created.dispose());
    return created;
  }

  async function appendAll(log: EventLog, channel: string, values: readonly unknown[]): Promise<string[]> {
    const positions: string[] = [];
    for (const value of values) positions.push(await log.append(channel, value));
    return positions;
  }

  describe(`event log conformance: ${name}`, () => {
    describe('positions', () => {
      it('are unique, valid in cursors, and increase as strings', async () => {
        const { log } = await subject();
        const channel = newChannel('positions');
        const positions = await appendAll(
          log,
          channel,
          Array.from({ length: 30 }, (_, i) => i),
        );
        expect(new Set(positions).size).toBe(30);
        for (const [i, position] of positions.entries()) {
          expect(log.isPosition(position)).toBe(true);
          expect(position).toMatch(CURSOR_POSITION);
          if (i > 0) expect(position > positions[i - 1]!).toBe(true);
        }
      });

      it('stay unique and ordered for hundreds of appends in the same millisecond', async () => {
        const { log } = await subject();
        const channel = newChannel('same-ms');
        const positions = await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(channel, i)));
        expect(new Set(positions).size).toBe(300);
        const read = events(await readAll(log, channel));
        expect(read.map((event) => event.position)).toEqual([...positions].sort());
        // Each position names the data appended with it.
        const byPosition = new Map(positions.map((position, i) => [position, i]));
        for (const event of read) expect(JSON.parse(event.json)).toBe(byPosition.get(event.position));
        for (let i = 1; i < read.length; i++) expect(read[i]!.position > read[i - 1]!.position).toBe(true);
      });

      it('isPosition accepts what start() gives and START (old cursors), and rejects what no log writes', async () => {
        const { log } = await subject();
        const channel = newChannel('is-position');
        expect(log.isPosition(await log.start(channel, 'now'))).toBe(true);
        expect(log.isPosition(START)).toBe(true);
        for (const junk of ['', ' ', 'not a position', 'x'.repeat(200), '0 ', '-', '💥', '../0', '0,0']) {
          expect(log.isPosition(junk), junk).toBe(false);
        }
      });
    });

    describe('append', () => {
      it('round-trips JSON data exactly', async () => {
        const { log } = await subject();
        const channel = newChannel('json');
        const values = [null, 0, -1.5, 'text', 'ünïcødé 💥 "quotes" \\ \n', [1, [2]], { a: { b: [true, false] } }, ''];
        await appendAll(log, channel, values);
        expect(data(await readAll(log, channel))).toEqual(values);
      });

      it('rejects oversized data with a RangeError and unserialisable data with a TypeError, storing nothing', async () => {
        const { log } = await subject({ maxEventBytes: 64 });
        const channel = newChannel('reject');
        expect(log.maxEventBytes).toBe(64);
        await expect(log.append(channel, 'x'.repeat(63))).rejects.toBeInstanceOf(RangeError);
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        for (const bad of [undefined, () => 1, 10n, circular]) {
          await expect(log.append(channel, bad)).rejects.toBeInstanceOf(TypeError);
        }
        expect(events(await readAll(log, channel))).toEqual([]);
        // Exactly at the limit is accepted: "xxx…" with quotes is 64 bytes.
        await log.append(channel, 'x'.repeat(62));
        expect(events(await readAll(log, channel))).toHaveLength(1);
      });
    });

    describe('idempotent appends', () => {
      it('stores an append repeated with the same id once, and returns the first position to both', async () => {
        const s = await subject();
        const channel = newChannel('idempotent');
        const first = await s.log.append(channel, 'once', { id: 'order-42' });
        const again = await (s.peer ?? s.log).append(channel, 'once', { id: 'order-42' });
        const other = await s.log.append(channel, 'twice', { id: 'order-43' });
        const plain = await s.log.append(channel, 'no id');
        expect(again).toBe(first);
        expect(new Set([first, other, plain]).size).toBe(3);
        expect(data(await readAll(s.log, channel))).toEqual(['once', 'twice', 'no id']);
        // The same id on another channel is another append.
        const elsewhere = newChannel('idempotent-other');
        await s.log.append(elsewhere, 'there', { id: 'order-42' });
        expect(data(await readAll(s.log, elsewhere))).toEqual(['there']);
      });

      it('rejects an id that is not 1 to 64 of A-Z a-z 0-9 _ - with a TypeError, storing nothing', async () => {
        const { log } = await subject();
        const channel = newChannel('bad-id');
        for (const bad of ['', 'has space', 'x'.repeat(65), 42, null]) {
          await expect(log.append(channel, 'x', { id: bad as never }), String(bad)).rejects.toBeInstanceOf(TypeError);
        }
        await expect(log.append(channel, 'x', { bogus: 1 } as never)).rejects.toBeInstanceOf(TypeError);
        expect(data(await readAll(log, channel))).toEqual([]);
      });
    });

    describe('appendLinked (optional: GRIP prev-id, src/grip/)', () => {
      it('tells the position of the event before, which is where a reader at the head holds', async () => {
        const { log } = await subject();
        if (log.appendLinked === undefined) return;
        const channel = newChannel('linked');
        const headBefore = await log.start(channel, 'now');
        const first = await log.appendLinked(channel, 'one');
        // Before the first event a reader holds a stamp, no event's position: nothing to match.
        expect(first.previous === null || first.previous === headBefore).toBe(true);
        const head = await log.start(channel, 'now');
        expect(head).toBe(first.position);
        const second = await log.appendLinked(channel, 'two');
        expect(second.previous).toBe(first.position);
        const plain = await log.append(channel, 'three');
        const fourth = await log.appendLinked(channel, 'four', { id: 'linked-4' });
        expect(fourth.previous).toBe(plain);
        // A repeated id stores nothing: no link to tell.
        const repeat = await log.appendLinked(channel, 'four', { id: 'linked-4' });
        expect(repeat).toEqual({ position: fourth.position, previous: null });
        expect(data(await readAll(log, channel))).toEqual(['one', 'two', 'three', 'four']);
      });
    });

    describe('read', () => {
      it('reads nothing from a channel that never had an event', async () => {
        const { log } = await subject();
        const channel = newChannel('empty');
        for (const from of ['now', 'oldest', { last: 5 }] as const) {
          const start = await log.start(channel, from);
          expect(start).not.toBe(START);
          expect(await log.read(channel, start, ALL)).toEqual({ kind: 'events', events: [], more: false });
        }
      });

      it('honours limit and says when more follow', async () => {
        const { log } = await subject();
        const channel = newChannel('limit');
        const positions = await appendAll(log, channel, [1, 2, 3, 4, 5]);
        const first = await readAll(log, channel, { limit: 2, maxBytes: 1_000_000 });
        expect(data(first)).toEqual([1, 2]);
        expect(first.kind === 'events' && first.more).toBe(true);
        const rest = await log.read(channel, positions[1]!, { limit: 10, maxBytes: 1_000_000 });
        expect(data(rest)).toEqual([3, 4, 5]);
        expect(rest.kind === 'events' && rest.more).toBe(false);
        const exact = await log.read(channel, positions[1]!, { limit: 3, maxBytes: 1_000_000 });
        expect(data(exact)).toEqual([3, 4, 5]);
        expect(exact.kind === 'events' && exact.more).toBe(false);
        expect(await log.read(channel, positions[4]!, ALL)).toEqual({ kind: 'events', events: [], more: false });
      });

      it('honours maxBytes, but always returns the first event', async () => {
        const { log } = await subject();
        const channel = newChannel('bytes');
        // Each event is 10 bytes of JSON: "aaaaaaaa".
        await appendAll(log, channel, ['aaaaaaaa', 'bbbbbbbb', 'cccccccc']);
        const two = await readAll(log, channel, { limit: 100, maxBytes: 25 });
        expect(data(two)).toEqual(['aaaaaaaa', 'bbbbbbbb']);
        expect(two.kind === 'events' && two.more).toBe(true);
        const exactlyTwo = await readAll(log, channel, { limit: 100, maxBytes: 20 });
        expect(data(exactlyTwo)).toEqual(['aaaaaaaa', 'bbbbbbbb']);
        const one = await readAll(log, channel, { limit: 100, maxBytes: 5 });
        expect(data(one)).toEqual(['aaaaaaaa']);
        expect(one.kind === 'events' && one.more).toBe(true);
      });

      it('counts bytes of UTF-8, not characters', async () => {
        const { log } = await subject();
        const channel = newChannel('utf8');
        // "éé" is 6 bytes of JSON (2 quotes + 2 × 2 bytes), 4 characters.
        await appendAll(log, channel, ['éé', 'éé']);
        expect(data(await readAll(log, channel, { limit: 10, maxBytes: 11 }))).toEqual(['éé']);
        expect(data(await readAll(log, channel, { limit: 10, maxBytes: 12 }))).toEqual(['éé', 'éé']);
      });
    });

    describe('start', () => {
      it("'now' is the newest position: reading after it gets only what comes next", async () => {
        const { log } = await subject();
        const channel = newChannel('now');
        const positions = await appendAll(log, channel, ['old1', 'old2']);
        const now = await log.start(channel, 'now');
        expect(now).toBe(positions[1]);
        expect(events(await log.read(channel, now, ALL))).toEqual([]);
        await log.append(channel, 'new');
        expect(data(await log.read(channel, now, ALL))).toEqual(['new']);
      });

      it("'now' on a channel with no events is a position of its own: every later event follows it", async () => {
        const s = await subject();
        const channel = newChannel('now-empty');
        const now = await s.log.start(channel, 'now');
        expect(now).not.toBe(START);
        expect(s.log.isPosition(now)).toBe(true);
        await (s.peer ?? s.log).append(channel, 'first');
        await s.log.append(channel, 'second');
        expect(data(await s.log.read(channel, now, ALL))).toEqual(['first', 'second']);
        if (s.peer) expect(data(await s.peer.read(channel, now, ALL))).toEqual(['first', 'second']);
      });

      it("'oldest' is before the oldest retained event, without a gap after trimming", async () => {
        const { log } = await subject({ maxEventsPerChannel: 3 });
        const channel = newChannel('oldest');
        await appendAll(log, channel, [1, 2, 3, 4, 5]);
        expect(data(await log.read(channel, await log.start(channel, 'oldest'), ALL))).toEqual([3, 4, 5]);
      });

      it('{ last: n } is before the last n retained events, or all of them when fewer are retained', async () => {
        const { log } = await subject({ maxEventsPerChannel: 4 });
        const channel = newChannel('last');
        await appendAll(log, channel, [1, 2, 3, 4, 5, 6]);
        expect(data(await log.read(channel, await log.start(channel, { last: 1 }), ALL))).toEqual([6]);
        expect(data(await log.read(channel, await log.start(channel, { last: 3 }), ALL))).toEqual([4, 5, 6]);
        expect(data(await log.read(channel, await log.start(channel, { last: 50 }), ALL))).toEqual([3, 4, 5, 6]);
      });

      it('rejects what is not a start with a TypeError', async () => {
        const { log } = await subject();
        const channel = newChannel('bad-start');
        for (const bad of ['later', { last: 0 }, { last: 1.5 }, { last: -1 }, { first: 2 }, null, 3]) {
          await expect(log.start(channel, bad as never), JSON.stringify(bad)).rejects.toBeInstanceOf(TypeError);
        }
      });
    });

    describe('retention and gaps', () => {
      it('trims by count; readers behind the trimmed events get a gap with where to resume', async () => {
        const { log } = await subject({ maxEventsPerChannel: 3 });
        const channel = newChannel('count');
        const p = await appendAll(log, channel, [1, 2, 3, 4, 5]);

        const behind = await log.read(channel, p[0]!, ALL);
        expect(behind).toMatchObject({ kind: 'gap', resumeAfter: p[1], reason: 'retention' });
        if (behind.kind === 'gap' && behind.missed !== null) expect(behind.missed).toBe(1);
        expect(data(await log.read(channel, p[1]!, ALL))).toEqual([3, 4, 5]);

        // The position of no generation (an old cursor's) is a reset gap, resuming at the oldest.
        const untied = await log.read(channel, START, ALL);
        expect(untied).toMatchObject({ kind: 'gap', resumeAfter: p[1], reason: 'reset', missed: null });

        // The reader that saw the last trimmed event lost nothing: no gap.
        expect(data(await log.read(channel, p[1]!, ALL))).toEqual([3, 4, 5]);
        // A gap counts as "has an event" for a waiter.
        expect(await within(log.waitFor([{ channel, after: p[0]! }], new AbortController().signal), 2_000)).toBe(true);
      });

      it('trims by age, also when nothing is appended', async () => {
        const subjectWithAge = await subject({ maxAgeMs: 2_000 });
        const { log } = subjectWithAge;
        const channel = newChannel('age');
        const before = await log.start(channel, 'now');
        const [p1] = await appendAll(log, channel, ['old']);
        expect(data(await log.read(channel, before, ALL))).toEqual(['old']);

        await subjectWithAge.advance(3_000);
        const gap = await log.read(channel, before, ALL);
        expect(gap).toMatchObject({ kind: 'gap', reason: 'retention' });
        if (gap.kind === 'gap' && gap.missed !== null) expect(gap.missed).toBe(1);
        if (gap.kind === 'gap') expect(events(await log.read(channel, gap.resumeAfter, ALL))).toEqual([]);
        expect(events(await log.read(channel, p1!, ALL))).toEqual([]);
        expect(events(await readAll(log, channel))).toEqual([]);

        await log.append(channel, 'new');
        expect(data(await log.read(channel, p1!, ALL))).toEqual(['new']);
      });

      it('reports a position ahead of the channel as a reset gap that resumes at the newest event', async () => {
        const s = await subject();
        const channel = newChannel('ahead');
        const [, p2] = await appendAll(s.log, channel, ['a', 'b']);
        const result = await s.log.read(channel, s.ahead(p2!, 3), ALL);
        expect(result).toMatchObject({ kind: 'gap', reason: 'reset', resumeAfter: p2, missed: null });
        expect(await within(s.log.waitFor([{ channel, after: s.ahead(p2!, 3) }], never()), 2_000)).toBe(true);
        // Nothing the reader had is delivered again; what comes next is.
        await s.log.append(channel, 'c');
        expect(data(await s.log.read(channel, p2!, ALL))).toEqual(['c']);
      });

      it('reports a position of another channel (never appended to this one) as a gap, never skipping events', async () => {
        const { log } = await subject();
        const channel = newChannel('foreign');
        const other = newChannel('foreign-other');
        await appendAll(
          log,
          other,
          Array.from({ length: 5 }, (_, i) => i),
        );
        const foreign = await log.start(other, 'now');
        await appendAll(log, channel, ['a']);
        const result = await log.read(channel, foreign, ALL);
        // A log may give both channels one sequence; then the position is simply further on.
        if (result.kind === 'gap') expect(data(await log.read(channel, result.resumeAfter, ALL))).toEqual(['a']);
        else expect(result.events.every((event) => JSON.parse(event.json) === 'a')).toBe(true);
      });
    });

    describe('generations', () => {
      it('never reads a position of a lost history against new data', async () => {
        const original = await subject();
        const channel = newChannel('generation');
        const [p1, p2] = await appendAll(original.log, channel, ['old1', 'old2']);
        const log = await original.forget(channel);

        expect(await log.read(channel, p1!, ALL)).toMatchObject({ kind: 'gap', reason: 'reset' });
        expect(await log.start(channel, 'now')).not.toBe(START);
        await log.append(channel, 'new1');
        await log.append(channel, 'new2');

        for (const old of [p1!, p2!]) {
          const result = await log.read(channel, old, ALL);
          expect(result, `read after ${old}`).toMatchObject({ kind: 'gap', reason: 'reset', missed: null });
          if (result.kind !== 'gap') continue;
          expect(log.isPosition(result.resumeAfter)).toBe(true);
          expect(data(await log.read(channel, result.resumeAfter, ALL))).toEqual(['new1', 'new2']);
          expect(await within(log.waitFor([{ channel, after: old }], new AbortController().signal), 2_000)).toBe(true);
        }
      });

      // Issue 9.1: a reader that polled before the first event holds a "nothing yet" position;
      // when the history it would have read is lost, it must be told, not handed the rest.
      it('tells a reader that waited for the first event when the history after it was lost', async () => {
        const original = await subject();
        const channel = newChannel('lost-first');
        const nothingYet = await original.log.start(channel, 'now');
        await appendAll(original.log, channel, ['lost1', 'lost2']);
        const log = await original.forget(channel);
        await log.append(channel, 'after-loss');

        expect(await within(log.waitFor([{ channel, after: nothingYet }], never()), 2_000)).toBe(true);
        const result = await log.read(channel, nothingYet, ALL);
        expect(result).toMatchObject({ kind: 'gap', reason: 'reset', missed: null });
        if (result.kind === 'gap') expect(data(await log.read(channel, result.resumeAfter, ALL))).toEqual(['after-loss']);
      });

      it('tells it too when nothing was appended after the loss', async () => {
        const original = await subject();
        const channel = newChannel('lost-quiet');
        const nothingYet = await original.log.start(channel, 'now');
        await appendAll(original.log, channel, ['lost']);
        const log = await original.forget(channel);
        expect(await log.read(channel, nothingYet, ALL)).toMatchObject({ kind: 'gap', reason: 'reset', missed: null });
        expect(await within(log.waitFor([{ channel, after: nothingYet }], never()), 2_000)).toBe(true);
      });
    });

    describe('waitFor', () => {
      it('resolves true at once when an event already follows the position', async () => {
        const { log } = await subject();
        const channel = newChannel('present');
        const [p1] = await appendAll(log, channel, [1, 2]);
        expect(await within(log.waitFor([{ channel, after: await log.start(channel, 'oldest') }], never()), 2_000)).toBe(true);
        expect(await within(log.waitFor([{ channel, after: p1! }], never()), 2_000)).toBe(true);
      });

      it('waits at the head, and an append wakes it', async () => {
        const s = await subject();
        const { log } = s;
        const channel = newChannel('wake');
        await log.append(channel, 'before');
        const controller = new AbortController();
        const waiting = log.waitFor([{ channel, after: await log.start(channel, 'now') }], controller.signal);
        expect(await within(waiting, 200)).toBe('pending');
        await (s.peer ?? log).append(channel, 'after');
        expect(await within(waiting, 5_000)).toBe(true);
        if (s.waiters) expect(s.waiters()).toBe(0);
      });

      it('waits on a channel that does not exist yet', async () => {
        const { log } = await subject();
        const channel = newChannel('future');
        const waiting = log.waitFor([{ channel, after: await log.start(channel, 'now') }], never());
        expect(await within(waiting, 200)).toBe('pending');
        await log.append(channel, 'first');
        expect(await within(waiting, 5_000)).toBe(true);
      });

      it('resolves false on abort and releases the waiter', async () => {
        const s = await subject();
        const channel = newChannel('abort');
        const controller = new AbortController();
        const now = await s.log.start(channel, 'now');
        const waiting = s.log.waitFor([{ channel, after: now }], controller.signal);
        expect(await within(waiting, 100)).toBe('pending');
        if (s.waiters) expect(s.waiters()).toBe(1);
        controller.abort();
        expect(await within(waiting, 2_000)).toBe(false);
        if (s.waiters) expect(s.waiters()).toBe(0);
        // A signal aborted before the call resolves false too, registering nothing.
        expect(await within(s.log.waitFor([{ channel, after: now }], AbortSignal.abort()), 2_000)).toBe(false);
        if (s.waiters) expect(s.waiters()).toBe(0);
        // Appending after the abort disturbs nothing.
        await s.log.append(channel, 'late');
      });

      it('wakes on any of several channels and releases the others', async () => {
        const s = await subject();
        const [a, b] = [newChannel('multi-a'), newChannel('multi-b')];
        const waiting = s.log.waitFor(
          [
            { channel: a, after: await s.log.start(a, 'now') },
            { channel: b, after: await s.log.start(b, 'now') },
          ],
          never(),
        );
        expect(await within(waiting, 200)).toBe('pending');
        await (s.peer ?? s.log).append(b, 'on b');
        expect(await within(waiting, 5_000)).toBe(true);
        if (s.waiters) expect(s.waiters()).toBe(0);
      });

      it('one append wakes every waiter of the channel', async () => {
        const s = await subject();
        const channel = newChannel('many');
        const head = await s.log.start(channel, 'now');
        const waiting = Array.from({ length: 200 }, () => s.log.waitFor([{ channel, after: head }], new AbortController().signal));
        expect(await within(Promise.race(waiting), 200)).toBe('pending');
        await s.log.append(channel, 'all');
        expect(await within(Promise.all(waiting), 5_000)).toEqual(waiting.map(() => true));
      });

      it('close releases waiters and is idempotent', async () => {
        const s = await subject();
        const channel = newChannel('close');
        const waiting = s.log.waitFor([{ channel, after: await s.log.start(channel, 'now') }], never());
        expect(await within(waiting, 100)).toBe('pending');
        await Promise.all([s.log.close(), s.log.close()]);
        await s.log.close();
        expect(await within(waiting, 2_000)).toBe(false);
      });
    });

    describe('concurrency', () => {
      it('keeps every concurrent append, in position order, on each channel', async () => {
        const s = await subject();
        const channels = [newChannel('concurrent-a'), newChannel('concurrent-b')];
        const writers = [s.log, s.peer ?? s.log];
        const appended = await Promise.all(
          Array.from({ length: 400 }, (_, i) => writers[i % 2]!.append(channels[i % 2]!, i).then((position) => ({ i, position }))),
        );
        for (const [c, channel] of channels.entries()) {
          const read = events(await readAll(s.log, channel));
          const mine = appended.filter(({ i }) => i % 2 === c).sort((x, y) => (x.position < y.position ? -1 : 1));
          expect(read.map((event) => event.position)).toEqual(mine.map(({ position }) => position));
          expect(read.map((event) => JSON.parse(event.json))).toEqual(mine.map(({ i }) => i));
        }
      });
    });

    describe('the race between appends, reads and waits', () => {
      const schedules: Array<[string, (append: () => void) => void]> = [
        ['before the wait', (append) => append()],
        ['in a microtask', (append) => queueMicrotask(append)],
        ['on the next turn', (append) => setImmediate(append)],
        ['after a timer', (append) => setTimeout(append, 0)],
        ['a little later', (append) => setTimeout(append, 2)],
      ];

      it(`wakes every wait whatever the moment of the append (${raceIterations} iterations)`, async () => {
        const s = await subject({ maxEventsPerChannel: 100_000 });
        const channel = newChannel('race');
        let after = await s.log.start(channel, 'now');
        for (let i = 0; i < raceIterations; i++) {
          const writer = s.peer !== undefined && i % 2 === 1 ? s.peer : s.log;
          const [label, schedule] = schedules[i % schedules.length]!;
          let appended!: Promise<string>;
          const controller = new AbortController();
          schedule(() => {
            appended = writer.append(channel, i);
          });
          const woken = await within(s.log.waitFor([{ channel, after }], controller.signal), 10_000);
          controller.abort();
          if (woken !== true) throw new Error(`iteration ${i} (${label}): waitFor gave ${String(woken)}`);
          const position = await appended;
          const read = events(await s.log.read(channel, after, ALL));
          expect(read.map((event) => JSON.parse(event.json))).toEqual([i]);
          expect(read[0]!.position).toBe(position);
          after = position;
        }
        if (s.waiters) expect(s.waiters()).toBe(0);
      });

      it(`consecutive holds carrying the cursor see every event exactly once (${raceEvents} events)`, async () => {
        const s = await subject({ maxEventsPerChannel: 100_000 });
        const channels = [newChannel('hold-a'), newChannel('hold-b')];
        // Tiny holds: timeouts are as frequent as wake-ups, so appends land in every phase.
        const hangtime = createHangtime({ log: s.log, maxWaitMs: 40, minHoldMs: 0, safetyMarginMs: 0 });
        const readers = 4;

        const consume = async (): Promise<Map<string, number[]>> => {
          const seen = new Map(channels.map((channel) => [channel, [] as number[]]));
          let cursor: string | undefined;
          let total = 0;
          const deadline = Date.now() + 60_000;
          while (total < raceEvents) {
            if (Date.now() > deadline) throw new Error(`reader stuck at ${total} of ${raceEvents} events`);
            const result = await hangtime.wait<number>({ channels, cursor, from: 'oldest' });
            expect(result.gaps).toEqual([]);
            for (const event of result.events) seen.get(event.channel)!.push(event.data);
            total += result.events.length;
            cursor = result.cursor;
          }
          return seen;
        };

        const produce = async (): Promise<void> => {
          const writers = [s.log, s.peer ?? s.log];
          for (let i = 0; i < raceEvents; i++) {
            const append = writers[i % 2]!.append(channels[i % 2]!, i);
            // Mostly back to back, sometimes a pause, sometimes a burst without awaiting.
            const roll = Math.random();
            if (roll < 0.3) await append;
            else if (roll < 0.5) await sleep(Math.floor(Math.random() * 3));
            else if (roll < 0.55) await sleep(45);
          }
        };

        const [results] = await Promise.all([Promise.all(Array.from({ length: readers }, consume)), produce()]);
        for (const seen of results) {
          for (const [c, channel] of channels.entries()) {
            const expected = Array.from({ length: raceEvents }, (_, i) => i).filter((i) => i % 2 === c);
            expect(seen.get(channel)).toEqual(expected);
          }
        }
      });
    });
  });
}
