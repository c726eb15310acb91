import { describe, expect, it } from 'vitest';
import { answersFor, cursorOf } from '../../src/answer.js';
import type { WakeReason } from '../../src/budget.js';
import { emptyBatch } from '../../src/read.js';

describe('the answer of a poll that held', () => {
  it('says how long it held and why in Server-Timing, whatever the values, the same values built once', () => {
    // The values are cached by (duration, reason) in one number key: every pair must get its
    // own text, including durations that do not fit the key (fractions, negatives, very long).
    const answers = answersFor(() => {});
    const batch = emptyBatch(new Map([['a', '0']]));
    const reasons: WakeReason[] = ['events', 'timeout', 'deadline', 'abort', 'gap', 'shutdown'];
    const durations = [0, 1, 7, 8, 9, 63, 64, 999, 25_000, 2 ** 27 - 1, 2 ** 27, 2 ** 31 + 5, -1, -8, 0.5, 12.25];
    for (let pass = 0; pass < 2; pass++) {
      for (const heldMs of durations) {
        for (const reason of reasons) {
          const timing = answers.held(batch, reason, heldMs).headers['server-timing'];
          expect(timing).toBe(`hold;dur=${heldMs.toFixed(1)};desc="${reason}"`);
        }
      }
    }
    // The status and body follow the batch, not the cached header: an empty batch is a 200 with
    // its cursor, a gap a 410 that names its channel, each with its own Server-Timing.
    const empty = answers.held(batch, 'timeout', 5);
    expect([empty.status, empty.body]).toEqual([200, `{"events":[],"cursor":"${cursorOf(batch)}","more":false}`]);
    const gap = {
      ...batch,
      gaps: [{ channel: 'a', resumeAfter: '0', missed: 3, reason: 'retention' as const }],
    };
    const gone = answers.held(gap, 'gap', 5);
    expect([gone.status, JSON.parse(gone.body).error.code, gone.headers['server-timing']]).toEqual([
      410,
      'cursor_expired',
      'hold;dur=5.0;desc="gap"',
    ]);
  });
});
