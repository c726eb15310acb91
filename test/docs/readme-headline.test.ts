import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the bench, without declarations
import { HEADLINE_MARKERS, readmeHeadline, withHeadline } from '../../bench/report.mjs';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const results = JSON.parse(readFileSync(new URL('bench/results/latest.json', root), 'utf8')) as unknown;

// The README's bench figures are written by bench/report.mjs from bench/results/latest.json
// (the run docs/benchmarks.md shows), never copied by hand: they cannot disagree.
describe("README's bench headline", () => {
  it('is the one bench/report.mjs renders from bench/results/latest.json', () => {
    const [open, close] = HEADLINE_MARKERS as [string, string];
    const written = readme.slice(readme.indexOf(open) + open.length, readme.indexOf(close));
    expect(written).toBe(readmeHeadline(results));
    expect(written).toMatch(/^On \d+ cores, hangtime \+ Redis holds [\d,]+ polls on \d+ Redis connections/);
    expect(withHeadline(readme, results)).toBe(readme);
  });

  it('refuses a README without the markers instead of losing the headline', () => {
    expect(() => withHeadline('# no markers here', results)).toThrow(/bench:headline/);
  });
});
