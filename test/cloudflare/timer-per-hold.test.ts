import { describe, expect, it } from 'vitest';
import { POLLS_PER_TURN, eachInTurns, timerPerHold } from '../../src/hold-timers.js';
import { createHangtime } from '../../src/index.js';

// With timerPerHold() (what cloudflare() switches on, because a Worker's timer belongs to the
// request that set it), every hold of over a second gets its own timer instead of a shared
// 50 ms slot. Holds still end by their budget, each on its own, and an append still wakes them,
// also one landing while holds start and end around it. Its own test file: the switch is global.
describe('holds with a timer each (timerPerHold)', () => {
  timerPerHold();

  it('end by their own budgets, started at different moments, none late and none early', async () => {
    const hangtime = createHangtime({ maxWaitMs: 60_000, random: () => 0, minHoldMs: 0 });
    const { cursor } = await hangtime.wait({ channels: ['quiet'], waitMs: 0 });
    const budgets = [1_200, 1_250, 1_500, 1_800, 2_000];
    const results = await Promise.all(
      budgets.map(async (waitMs, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 37));
        return hangtime.wait({ channels: ['quiet'], cursor, waitMs });
      }),
    );
    results.forEach((result, i) => {
      expect(result.reason).toBe('timeout');
      expect(result.heldMs).toBeGreaterThanOrEqual(budgets[i]! - 5);
      // Generous: the machine is shared; a shared slot would end it up to 50 ms early, never late.
      expect(result.heldMs).toBeLessThan(budgets[i]! + 1_000);
    });
    await hangtime.close();
  });

  it('are woken by an append whatever the moment around their start (200 holds)', async () => {
    const hangtime = createHangtime({ maxWaitMs: 60_000, minHoldMs: 0 });
    const { cursor } = await hangtime.wait({ channels: ['busy'], waitMs: 0 });
    const holds: Array<Promise<{ events: readonly unknown[] }>> = [];
    for (let i = 0; i < 200; i++) {
      holds.push(hangtime.wait({ channels: ['busy'], cursor, waitMs: 5_000 }));
      if (i === 100) void hangtime.log.append('busy', 'now');
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all(holds);
    for (const result of results) expect(result.events.map((event) => (event as { data: unknown }).data)).toEqual(['now']);
    await hangtime.close();
  });

  it('answer many polls at once in the turn that woke them, not in slices over later turns', () => {
    const called: number[] = [];
    eachInTurns(
      Array.from({ length: POLLS_PER_TURN * 3 }, (_, i) => i),
      (i) => called.push(i),
    );
    expect(called).toHaveLength(POLLS_PER_TURN * 3);
  });
});
