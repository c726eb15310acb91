import { describe, expect, it } from 'vitest';
import { Ledger, starvation, type ProblemKind, type RawAnswer } from './ledger.js';

/**
 * The stress test is only as good as its accounting: each kind of difference it claims to
 * find is planted here, in a hand-made run, and must be named (and an exact run must pass).
 */

/** A ledger where `count` events were published and acknowledged on `chat` in generation `gen`. */
function published(ledger: Ledger, gen: string, from: number, count: number, channel = 'chat'): string[] {
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) {
    const id = `p:${i}`;
    ledger.attempt(id, channel, 'log:test', i);
    ledger.acknowledge(id, `${gen}-${String(i).padStart(9, '0')}`, i);
    ids.push(id);
  }
  return ids;
}

const deliver = (ledger: Ledger, ids: readonly string[], subscriber = 's1', channel = 'chat') => {
  for (const id of ids) ledger.delivered(subscriber, channel, id, ledger.publications.get(id)!.position!, 1_000);
};

const kinds = (ledger: Ledger, gapsAllowed = true): ProblemKind[] =>
  ledger.account({ gapsAllowed }).problems.map((problem) => problem.kind);

describe('the stress ledger', () => {
  it('passes an exact run, across a generation change told by a gap', () => {
    const ledger = new Ledger();
    const first = published(ledger, 'aaaaaa', 1, 5);
    const second = published(ledger, 'bbbbbb', 10, 5);
    deliver(ledger, first.slice(0, 3));
    ledger.gap('s1', 'chat', { resumeAfter: '0', missed: null });
    deliver(ledger, second);
    const { problems, stats } = ledger.account({ gapsAllowed: true });
    expect(problems).toEqual([]);
    expect(stats).toMatchObject({ acknowledged: 10, deliveries: 8, gaps: 1, coveredByGaps: 2 });
  });

  it('names an event skipped without a gap', () => {
    const ledger = new Ledger();
    const ids = published(ledger, 'aaaaaa', 1, 5);
    deliver(ledger, [ids[0]!, ids[1]!, ids[3]!, ids[4]!]);
    expect(kinds(ledger)).toEqual(['lost']);
  });

  it('names events never delivered', () => {
    const ledger = new Ledger();
    const ids = published(ledger, 'aaaaaa', 1, 5);
    deliver(ledger, ids.slice(0, 3));
    expect(kinds(ledger)).toEqual(['lost']);
  });

  it('names a generation change crossed without a gap (the start cursor that skips lost history)', () => {
    const ledger = new Ledger();
    published(ledger, 'aaaaaa', 1, 5);
    const second = published(ledger, 'bbbbbb', 10, 5);
    deliver(ledger, second);
    expect(kinds(ledger)).toEqual(['lost']);
  });

  it('names events of the live generation skipped behind a gap', () => {
    const ledger = new Ledger();
    const first = published(ledger, 'aaaaaa', 1, 3);
    const second = published(ledger, 'bbbbbb', 10, 5);
    deliver(ledger, first);
    ledger.gap('s1', 'chat', { resumeAfter: second[1]!, missed: null });
    deliver(ledger, second.slice(2));
    expect(kinds(ledger)).toEqual(['lost-despite-gap']);
  });

  it('accepts a retention gap that counts what it skipped, not one that counts less', () => {
    const counted = new Ledger();
    const ids = published(counted, 'aaaaaa', 1, 6);
    deliver(counted, ids.slice(0, 1));
    counted.gap('s1', 'chat', { resumeAfter: ids[3]!, missed: 3 });
    deliver(counted, ids.slice(4));
    expect(kinds(counted)).toEqual([]);

    const undercounted = new Ledger();
    const same = published(undercounted, 'aaaaaa', 1, 6);
    deliver(undercounted, same.slice(0, 1));
    undercounted.gap('s1', 'chat', { resumeAfter: same[3]!, missed: 1 });
    deliver(undercounted, same.slice(4));
    expect(kinds(undercounted)).toEqual(['lost-despite-gap']);
  });

  it('names duplicates, reordering, phantoms, misrouting and position disagreements', () => {
    const ledger = new Ledger();
    const ids = published(ledger, 'aaaaaa', 1, 4);
    published(ledger, 'cccccc', 20, 1, 'other');
    deliver(ledger, [ids[0]!, ids[2]!, ids[1]!, ids[3]!, ids[3]!]);
    ledger.delivered('s2', 'chat', 'p:99', 'aaaaaa-000000099');
    ledger.delivered('s3', 'chat', 'p:20', 'cccccc-000000020');
    ledger.delivered('s4', 'chat', ids[0]!, 'aaaaaa-000000077');
    expect(new Set(kinds(ledger))).toEqual(new Set(['lost', 'reordered', 'duplicate', 'phantom', 'misrouted', 'position-mismatch']));
  });

  it('accepts an unacknowledged publish delivered to all, and names a subscriber that missed it', () => {
    const ledger = new Ledger();
    const ids = published(ledger, 'aaaaaa', 1, 2);
    ledger.attempt('lost-ack', 'chat', 'http:test', 5);
    ledger.fail('lost-ack', 'socket hang up');
    for (const subscriber of ['s1', 's2']) {
      deliver(ledger, [ids[0]!], subscriber);
      ledger.delivered(subscriber, 'chat', 'lost-ack', 'aaaaaa-000000001x');
      deliver(ledger, [ids[1]!], subscriber);
    }
    deliver(ledger, ids, 's3');
    const { problems, stats } = ledger.account({ gapsAllowed: false });
    expect(problems.map((problem) => [problem.kind, problem.subscriber])).toEqual([['lost', 's3']]);
    expect(stats.landedUnacknowledged).toBe(1);
  });

  it('names any gap where no history may be lost', () => {
    const ledger = new Ledger();
    const ids = published(ledger, 'aaaaaa', 1, 2);
    deliver(ledger, ids.slice(0, 1));
    ledger.gap('s1', 'chat', { resumeAfter: ids[0]!, missed: null });
    deliver(ledger, ids.slice(1));
    expect(kinds(ledger, false)).toEqual(['unexpected-gap']);
    expect(kinds(ledger, true)).toEqual([]);
  });
});

describe('the starvation check', () => {
  const ledger = new Ledger();
  ledger.attempt('quiet:1', 'quiet', 'log:test', 0);
  ledger.acknowledge('quiet:1', 'q-1', 0);
  const hot = (n: number) => Array.from({ length: 10 }, (_, i) => ({ channel: 'hot', id: `hot:${n}:${i}` }));
  const answers = (quietIn: number): RawAnswer[] =>
    Array.from({ length: 12 }, (_, j) => ({
      sentAt: 2_000 + j,
      status: 200,
      events: j === quietIn ? [...hot(j).slice(0, 9), { channel: 'quiet', id: 'quiet:1' }] : hot(j),
    }));
  const options = { marginMs: 1_000, maxPassedOver: 4 };

  it('passes a waiting channel served within the bound', () => {
    expect(starvation('s1', ['hot', 'quiet'], answers(3), ledger.publications, options)).toEqual([]);
  });

  it('names a waiting channel passed over beyond the bound', () => {
    const problems = starvation('s1', ['hot', 'quiet'], answers(11), ledger.publications, options);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'starved', channel: 'quiet' });
  });

  it('does not count answers sent before the event could be read', () => {
    const early = answers(11).map((answer, j) => ({ ...answer, sentAt: j < 9 ? 500 : 2_000 }));
    expect(starvation('s1', ['hot', 'quiet'], early, ledger.publications, options)).toEqual([]);
  });
});
