// Number formatting for the report and the console summary.

/** `12,345.6` with at most `digits` decimals; `–` for a missing value. */
export function num(value, digits = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** `1.23×` of the floor's value measured in the same run. */
export function ratio(value, reference) {
  if (value === undefined || reference === undefined || reference === 0 || Number.isNaN(value)) return '–';
  return `${(value / reference).toFixed(2)}×`;
}

export const kib = (value) => num(value, value !== undefined && value < 10 ? 2 : 1);
export const mib = (valueKiB) => (valueKiB === undefined ? '–' : num(valueKiB / 1024, 1));

export function errorsText(errors) {
  const entries = Object.entries(errors ?? {});
  if (entries.length === 0) return '0';
  return entries.map(([kind, count]) => `${kind}: ${num(count, 0)}`).join(', ');
}

export const errorTotal = (errors) => Object.values(errors ?? {}).reduce((total, n) => total + n, 0);

/** A Markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A plain-text table (for the terminal). */
export function textTable(header, rows) {
  const widths = header.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
