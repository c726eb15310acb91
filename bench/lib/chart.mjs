// The fan-out chart: median fan-out completion against N for every system, as a standalone
// SVG generated from the results JSON (never edited by hand).
import { num } from './format.mjs';

const SHORT = {
  floor: 'floor (bare node:http)',
  memory: 'hangtime + memory log',
  redis: 'hangtime + Redis log',
  naive: 'naive 1:1',
  nchan: 'Nchan (C)',
};
const COLORS = { floor: '#555555', memory: '#1f77b4', redis: '#d62728', naive: '#ff7f0e', nchan: '#2ca02c' };
const DASH = { floor: '6 4' };
const W = 760;
const H = 440;
const M = { left: 70, right: 200, top: 56, bottom: 56 };

const esc = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Log-scale bounds covering the values, and ticks at 1, 2, 5 × powers of ten. */
function logScale(values) {
  const lo = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...values))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(1, ...values)));
  const ticks = [];
  for (let p = lo; p <= hi * 1.0001; p *= 10) for (const f of [1, 2, 5]) if (p * f <= hi * 1.0001) ticks.push(p * f);
  return { lo, hi, ticks };
}

export function fanoutChart(results) {
  const systems = results.systems.filter((s) => results.fanout.some((f) => f.system === s.id));
  const ns = [...new Set(results.fanout.map((f) => f.n))].sort((a, b) => a - b);
  const ok = results.fanout.filter((f) => f.status === 'ok' && f.fanoutMs?.median !== undefined);
  const scale = logScale(ok.length ? ok.map((f) => f.fanoutMs.median) : [1, 1000]);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const logs = ns.map(Math.log10);
  const [lo, hi] = [Math.min(...logs), Math.max(...logs)];
  const x = (n) => M.left + (hi === lo ? plotW / 2 : ((Math.log10(n) - lo) / (hi - lo)) * plotW);
  // Log-log: N spans two decades and fan-out times three; a linear axis hides small N.
  const y = (ms) => M.top + plotH - ((Math.log10(ms) - Math.log10(scale.lo)) / (Math.log10(scale.hi) - Math.log10(scale.lo))) * plotH;

  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(
    `<text x="${M.left}" y="22" font-size="15" font-weight="600">Fan-out completion (median of ${results.fanout[0]?.rounds ?? '?'} rounds) against held polls N</text>`,
  );
  out.push(
    `<text x="${M.left}" y="40" fill="#666">${esc(`${results.machine.cores} cores, Node ${results.machine.node}, Redis ${results.machine.redis ?? '–'}, ${results.mode} mode${results.partial ? ' (partial run)' : ''}, ${results.startedAt.slice(0, 10)} · lower is better`)}</text>`,
  );
  for (const v of scale.ticks) {
    out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end" fill="#444">${num(v, 1)}</text>`);
  }
  for (const n of ns) {
    out.push(`<line x1="${x(n)}" x2="${x(n)}" y1="${M.top}" y2="${M.top + plotH}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x(n)}" y="${M.top + plotH + 18}" text-anchor="middle" fill="#444">${num(n, 0)}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#888"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#888"/>`);
  out.push(
    `<text x="${M.left + plotW / 2}" y="${H - 14}" text-anchor="middle" fill="#222">N, concurrent polls held on one channel (log scale)</text>`,
  );
  out.push(
    `<text transform="translate(18 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#222">publish → last subscriber answered (ms, log scale)</text>`,
  );

  systems.forEach((system, i) => {
    const color = COLORS[system.id] ?? '#000';
    const points = ok.filter((f) => f.system === system.id).sort((a, b) => a.n - b.n);
    if (points.length > 1) {
      const d = points.map((p, j) => `${j ? 'L' : 'M'}${x(p.n).toFixed(1)} ${y(p.fanoutMs.median).toFixed(1)}`).join(' ');
      out.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${DASH[system.id] ? ` stroke-dasharray="${DASH[system.id]}"` : ''}/>`,
      );
    }
    for (const p of points) {
      out.push(
        `<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.fanoutMs.median).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(`${system.label}, N = ${num(p.n, 0)}: ${num(p.fanoutMs.median, 1)} ms`)}</title></circle>`,
      );
    }
    // A stage that failed is drawn as a cross on the top edge: the system did not make it.
    for (const f of results.fanout.filter((s) => s.system === system.id && s.status === 'failed')) {
      const cx = x(f.n);
      const cy = M.top + 6 + i * 3;
      out.push(
        `<path d="M${cx - 5} ${cy - 5} L${cx + 5} ${cy + 5} M${cx - 5} ${cy + 5} L${cx + 5} ${cy - 5}" stroke="${color}" stroke-width="2.5"><title>${esc(`${system.label}, N = ${num(f.n, 0)}: failed — ${f.failure}`)}</title></path>`,
      );
    }
    const ly = M.top + 10 + i * 22;
    const lx = W - M.right + 20;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${DASH[system.id] ? ` stroke-dasharray="${DASH[system.id]}"` : ''}/>`,
    );
    out.push(`<text x="${lx + 30}" y="${ly + 4}" fill="#222">${esc(SHORT[system.id] ?? system.label)}</text>`);
  });
  const absent = results.systems.filter((s) => !s.available);
  absent.forEach((system, i) => {
    out.push(
      `<text x="${W - M.right + 20}" y="${M.top + 10 + (systems.length + i) * 22 + 4}" fill="#999">${esc(`${SHORT[system.id] ?? system.label}: not run`)}</text>`,
    );
  });
  if (results.fanout.some((f) => f.status === 'failed')) {
    out.push(`<text x="${W - M.right + 20}" y="${M.top + plotH}" fill="#666">× on the top edge: failed</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
