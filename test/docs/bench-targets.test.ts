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

// The fan-out completion targets (issue 6) are judged the same way when a stage was repeated: one
// run of seven (the one with the median whole-run CPU) is not the stage.
describe('fan-out completion targets', () => {
  it('judge a repeated stage by the median of its runs’ ratios to the floor run of each turn', async () => {
    const { readFileSync } = await import('node:fs');
    // @ts-expect-error: a plain ES module of the bench, without declarations
    const { evaluateTargets } = await import('../../bench/lib/targets.mjs');
    const results = JSON.parse(readFileSync(new URL('../../bench/results/latest.json', import.meta.url), 'utf8'));
    const at = (system: string) => results.fanout.find((f: { system: string; n: number }) => f.system === system && f.n === 10_000);
    const [memory, floor] = [at('memory'), at('floor')];
    if (memory?.status !== 'ok' || floor?.status !== 'ok')
      throw new Error('latest.json has no N = 10,000 stages for the floor and the memory log');
    const row = () =>
      (evaluateTargets(results) as { target: string; status: string; text: string }[]).find((r) =>
        r.target.startsWith('hangtime + memory log fan-out completion ≤ 1.1× the floor (N = 10,000)'),
      );
    // The stage's own row was a slow turn (1.5×), the runs were 1.05× the floor beside them.
    memory.fanoutMs.median = 300;
    floor.fanoutMs.median = 200;
    memory.runs = [{ fanoutMs: 105 }, { fanoutMs: 300 }, { fanoutMs: 210 }];
    floor.runs = [{ fanoutMs: 100 }, { fanoutMs: 200 }, { fanoutMs: 200 }];
    expect(row()?.status).toBe('met');
    expect(row()?.text).toContain("the median of 3 runs' ratios to the floor run beside each (1.05×, 1.50×, 1.05×)");
    expect(row()?.text).toContain('300 ms vs 200 ms (1.50×)');
    // Most turns over the bound: missed.
    memory.runs = [{ fanoutMs: 130 }, { fanoutMs: 300 }, { fanoutMs: 210 }];
    expect(row()?.status).toBe('missed');
    // One run each: the stages themselves.
    memory.runs = floor.runs = undefined;
    expect(row()?.status).toBe('missed');
    expect(row()?.text).toContain(': 300 ms vs 200 ms');
  });
});
