// Small statistics helpers shared by the scenarios and the report.

/** Nearest-rank percentile (p in 0..100) of numbers; undefined for none. */
export function percentile(values, p) {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values) => percentile(values, 50);

export const sum = (values) => values.reduce((total, value) => total + value, 0);

/** Add counts of `from` into `into` ({ kind: count }). */
export function addCounts(into, from) {
  for (const [kind, count] of Object.entries(from ?? {})) into[kind] = (into[kind] ?? 0) + count;
  return into;
}

/** Counts of `after` minus those of `before`, keeping only what grew. */
export function diffCounts(after, before) {
  const delta = {};
  for (const [kind, count] of Object.entries(after ?? {})) {
    const grown = count - (before?.[kind] ?? 0);
    if (grown > 0) delta[kind] = grown;
  }
  return delta;
}

export const round = (value, digits = 1) => (value === undefined || Number.isNaN(value) ? undefined : Number(value.toFixed(digits)));

/** Largest value, without spreading a large array into arguments. */
export const max = (values) => values.reduce((best, value) => Math.max(value, best), -Infinity);
export const min = (values) => values.reduce((best, value) => Math.min(value, best), Infinity);
