import { afterEach, describe, expect, it } from 'vitest';
import { memoryLog, type EventLog } from '../../src/index.js';
import { redisLog } from '../../src/redis/index.js';
import { WaitList, type WaitLink, type WaitListOwner } from '../../src/wait-list.js';
import type { LogWaiter } from '../../src/waiter.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, testPrefix, until } from '../support/redis.js';

// The logs keep each channel's waiters in a list threaded through the waiters (src/wait-list.ts,
// a LinkedList of src/linked-list.ts, as the hold-timer slots are), not in a Set. What could go
// wrong: a link lost or left behind when waiters leave from the head, the middle or the tail,
// and a wake that stops early when settling one waiter takes another out of the list while the
// wake walks it.

/** A bare link with a name for a waiter (the list never calls the waiter). */
function link(name: string, after = '0'): WaitLink {
  return { waiter: name as unknown as LogWaiter, after, previousLink: undefined, nextLink: undefined };
}

/** The lists' log, where a test has none (the list itself never calls it). */
const NO_OWNER: WaitListOwner = { waiterJoined() {}, waiterLeft() {}, emptied() {} };

describe('WaitList', () => {
  it('keeps every other link when links leave from the head, the middle and the tail', () => {
    const list = new WaitList('chat', NO_OWNER);
    const links = ['a', 'b', 'c', 'd', 'e'].map((name) => link(name));
    for (const l of links) list.add(l);
    expect(list.waiters().sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const [a, b, c, d, e] = links as [WaitLink, WaitLink, WaitLink, WaitLink, WaitLink];
    // Added at the head: e is first, a last.
    list.remove(e);
    list.remove(c);
    list.remove(a);
    expect([list.size, list.waiters().sort()]).toEqual([2, ['b', 'd']]);
    list.remove(d);
    list.remove(b);
    expect([list.size, list.waiters()]).toEqual([0, []]);
    // The list is usable again once empty.
    list.add(c);
    expect([list.size, list.waiters()]).toEqual([1, ['c']]);
  });

  it('leaves the list alone when asked to remove a link it does not hold', () => {
    const list = new WaitList('chat', NO_OWNER);
    const other = new WaitList('other', NO_OWNER);
    const mine = link('mine');
    const theirs = link('theirs');
    list.add(mine);
    other.add(theirs);
    list.remove(theirs);
    list.remove(link('stranger'));
    expect([list.size, list.waiters(), other.size, other.waiters()]).toEqual([1, ['mine'], 1, ['theirs']]);
  });

  it('lists only the waiters whose position the wake accepts', () => {
    const list = new WaitList('chat', NO_OWNER);
    for (const [name, after] of [
      ['behind', '1'],
      ['head', '2'],
      ['also behind', '0'],
    ] as const) {
      list.add(link(name, after));
    }
    expect(list.waiters((after) => after < '2').sort()).toEqual(['also behind', 'behind']);
  });
});

/** A wait registered through `waitInto` that records how it was settled. */
interface Registered {
  readonly controller: AbortController;
  outcomes: boolean[];
}

/**
 * Five waits on one channel at its head; each one the append wakes aborts its neighbours (in
 * the order they were registered) from inside its sink, while the log is still waking the
 * channel. Walked in either direction, the wake settles 0, 2 and 4 and the aborts settle 1 and
 * 3: a walk that followed the list while settling would stop at the link taken out right after
 * the one it settles, and leave 2 and 4 (or 0 and 2) waiting. Each wait is settled once, and the
 * log holds no waiter after.
 */
async function abortDuringWake(log: EventLog, channel: string, waiterCount: () => number): Promise<void> {
  const head = await log.start(channel, 'now');
  const waits: Registered[] = [];
  for (let i = 0; i < 5; i++) {
    const wait: Registered = { controller: new AbortController(), outcomes: [] };
    waits.push(wait);
    log.waitInto!([{ channel, after: head }], wait.controller.signal, {
      woken: (woken) => {
        wait.outcomes.push(woken);
        if (woken) for (const neighbour of [waits[i - 1], waits[i + 1]]) neighbour?.controller.abort();
      },
    });
  }
  expect(waiterCount()).toBe(5);
  await log.append(channel, { n: 1 });
  await until(() => waits.every((wait) => wait.outcomes.length > 0), 'every wait settled');
  // A tick more: a wait settled twice would show it now.
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(waits.map((wait) => wait.outcomes)).toEqual([[true], [false], [true], [false], [true]]);
  expect(waiterCount()).toBe(0);
}

describe('a wake that takes a waiter out of the list while it walks it', () => {
  it('memory log: wakes every other waiter, once', async () => {
    const log = memoryLog();
    await abortDuringWake(log, 'chat', () => log.stats().waiters);
  });

  it('memory log: a waiter on several channels leaves every list, the others stay', async () => {
    const log = memoryLog();
    const [a, b] = [await log.start('a', 'now'), await log.start('b', 'now')];
    const both = new AbortController();
    const onlyB = new AbortController();
    const woken: string[] = [];
    log.waitInto!(
      [
        { channel: 'a', after: a },
        { channel: 'b', after: b },
      ],
      both.signal,
      { woken: (w) => woken.push(`both:${w}`) },
    );
    log.waitInto!([{ channel: 'b', after: b }], onlyB.signal, { woken: (w) => woken.push(`onlyB:${w}`) });
    expect(log.stats().waiters).toBe(2);
    both.abort();
    expect([woken, log.stats().waiters]).toEqual([['both:false'], 1]);
    // The channel the aborted waiter shared still wakes the other one; the one only it used is gone.
    await log.append('a', 1);
    await log.append('b', 2);
    await until(() => woken.length === 2, 'the other waiter woken');
    expect([woken, log.stats().waiters]).toEqual([['both:false', 'onlyB:true'], 0]);
  });
});

describe("a log's waiter on a signal that calls only functions (not an AbortSignal)", () => {
  // Waiters listen to a Trigger or an AbortSignal with themselves (no closure); any other
  // SignalLike gets a closure, which must be the one removed when the waiter settles.
  function functionSignal() {
    const listeners = new Set<() => void>();
    const signal = {
      aborted: false,
      addEventListener: (_type: 'abort', listener: () => void) => void listeners.add(listener),
      removeEventListener: (_type: 'abort', listener: () => void) => void listeners.delete(listener),
      abort() {
        signal.aborted = true;
        for (const listener of [...listeners]) listener();
      },
    };
    return { signal, listeners };
  }

  it('memory log: settles on abort and on a wake, and leaves no listener either way', async () => {
    const log = memoryLog();
    const head = await log.start('chat', 'now');
    const outcomes: string[] = [];
    const aborted = functionSignal();
    const woken = functionSignal();
    log.waitInto!([{ channel: 'chat', after: head }], aborted.signal, { woken: (w) => outcomes.push(`aborted:${w}`) });
    log.waitInto!([{ channel: 'chat', after: head }], woken.signal, { woken: (w) => outcomes.push(`woken:${w}`) });
    expect([aborted.listeners.size, woken.listeners.size, log.stats().waiters]).toEqual([1, 1, 2]);
    aborted.signal.abort();
    expect([outcomes, aborted.listeners.size, log.stats().waiters]).toEqual([['aborted:false'], 0, 1]);
    await log.append('chat', 1);
    await until(() => outcomes.length === 2, 'the other waiter woken');
    expect([outcomes, woken.listeners.size, log.stats().waiters]).toEqual([['aborted:false', 'woken:true'], 0, 0]);
    // Aborting after the wake changes nothing.
    woken.signal.abort();
    expect(outcomes).toHaveLength(2);
  });
});

describeRedis('a wake that takes a waiter out of the list while it walks it (Redis log)', () => {
  const prefixes: string[] = [];
  const logs: EventLog[] = [];
  afterEach(async () => {
    await Promise.all(logs.splice(0).map((log) => log.close()));
    const admin = adminClient();
    for (const prefix of prefixes.splice(0)) await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('wakes every other waiter, once', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const log = redisLog({ url: REDIS_URL, prefix });
    logs.push(log);
    await abortDuringWake(log, 'chat', () => log.stats().waiters);
  });
});
