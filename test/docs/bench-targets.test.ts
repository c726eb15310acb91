import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the bench, without declarations
import { pairedRatios } from '../../bench/lib/targets.mjs';

type Run = { cpuUsPerDeliveryWholeRun?: number; status?: string };
const stage = (...cpu: Array<number | 'failed'>): { runs: Run[] } => ({
  runs: cpu.map((c) => (c === 'failed' ? { status: 'failed' } : { cpuUsPerDeliveryWholeRun: c })),
});
const paired = (a: { runs: Run[] }, b: { runs: Run[] }) =>
  pairedRatios(a, b, 'cpuUsPerDeliveryWholeRun') as { ratios: number[]; median: number } | undefined;

// Issue 10's targets judge a repeated stage by the median of its runs' ratios to the floor run of
// the same turn (bench/lib/targets.mjs). A machine that slows down for one turn slows both.
describe('pairedRatios', () => {
  it('pairs each run with the floor run of its turn, not the sorted figures', () => {
    // Turn 2 ran on a slow machine: both systems were slower, by the same factor.
    const result = paired(stage(110, 220, 110), stage(100, 200, 100));
    expect(result?.ratios.map((r) => r.toFixed(2))).toEqual(['1.10', '1.10', '1.10']);
    expect(result?.median).toBeCloseTo(1.1, 10);
  });

  it('leaves out a turn where either run failed, and takes the middle of an even count', () => {
    const result = paired(stage(120, 'failed', 130, 100, 150), stage(100, 100, 100, 'failed', 100));
    expect(result?.ratios.map((r) => r.toFixed(2))).toEqual(['1.20', '1.30', '1.50']);
    expect(paired(stage(110, 130), stage(100, 100))?.median).toBeCloseTo(1.2, 10);
  });

  it('gives nothing to judge with fewer than two pairs (one run: the stage itself is compared)', () => {
    expect(paired(stage(110), stage(100))).toBeUndefined();
    expect(paired(stage(110, 'failed'), stage(100, 100))).toBeUndefined();
    expect(pairedRatios({}, stage(100, 100), 'cpuUsPerDeliveryWholeRun')).toBeUndefined();
  });
});
