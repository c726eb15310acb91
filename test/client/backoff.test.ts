import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffMs, retryAfterMs } from '../../src/client/backoff.js';

describe('backoffMs', () => {
  afterEach(() => void vi.restoreAllMocks());

  it('doubles from the base up to the cap, and scales by the random draw (full jitter)', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffMs(attempt, 100, 1_000))).toEqual([50, 100, 200, 400, 500, 500]);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffMs(3, 100, 1_000)).toBe(0);
  });

  it('applies the jitter after the cap: clients at the cap stay spread over [0, cap)', () => {
    const delays = Array.from({ length: 2_000 }, () => backoffMs(30, 1_000, 30_000));
    expect(Math.max(...delays)).toBeLessThan(30_000);
    expect(Math.max(...delays)).toBeGreaterThan(27_000);
    expect(Math.min(...delays)).toBeLessThan(3_000);
    // Not bunched at the cap: about half fall below its middle.
    const below = delays.filter((d) => d < 15_000).length;
    expect(below).toBeGreaterThan(800);
    expect(below).toBeLessThan(1_200);
  });
});

describe('retryAfterMs', () => {
  it.each([
    ['2', 2_000],
    ['0.5', 500],
    [null, 0],
    ['', 0],
    ['soon', 0],
    // The HTTP-date form is left to the backoff (documented in docs/client.md).
    ['Wed, 21 Oct 2037 07:28:00 GMT', 0],
  ])('%j → %i ms', (header, ms) => {
    expect(retryAfterMs(header)).toBe(ms);
  });
});
