import { describe, expect, it } from 'vitest';
import { holdBudget } from '../../src/budget.js';

const base = { now: 1_000_000, maxWaitMs: 25_000, safetyMarginMs: 1_000, minHoldMs: 250, random: 0 };

describe('holdBudget', () => {
  it('is maxWaitMs when nothing else limits it', () => {
    expect(holdBudget(base)).toEqual({ budgetMs: 25_000, limitedBy: 'timeout' });
  });
  it('takes the client wait when shorter', () => {
    expect(holdBudget({ ...base, clientWaitMs: 5_000 })).toEqual({ budgetMs: 5_000, limitedBy: 'timeout' });
  });
  it('ends safetyMarginMs before the deadline', () => {
    expect(holdBudget({ ...base, deadline: base.now + 10_000 })).toEqual({ budgetMs: 9_000, limitedBy: 'deadline' });
  });
  it('jitters downward by at most 1/16', () => {
    const { budgetMs } = holdBudget({ ...base, random: 0.999999 });
    expect(budgetMs).toBeLessThan(25_000);
    expect(budgetMs).toBeGreaterThan(25_000 * (15 / 16) - 1);
  });
  it('answers at once when the budget is below minHoldMs', () => {
    expect(holdBudget({ ...base, deadline: base.now + 1_200 })).toEqual({ budgetMs: 0, limitedBy: 'deadline' });
    expect(holdBudget({ ...base, deadline: base.now - 5_000 })).toEqual({ budgetMs: 0, limitedBy: 'deadline' });
    expect(holdBudget({ ...base, clientWaitMs: 0 })).toEqual({ budgetMs: 0, limitedBy: 'timeout' });
  });
});
