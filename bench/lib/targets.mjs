// The targets of issues 6 and 10, checked against one run's results. Every verdict is computed from
// the JSON; the text around it says what the figure is limited by when the data can tell.
import { SATURATED } from './fanout.mjs';
import { errorTotal, num } from './format.mjs';

const stage = (results, system, n) => results.fanout.find((f) => f.system === system && f.n === n);
const okStage = (results, system, n) => {
  const found = stage(results, system, n);
  return found?.status === 'ok' ? found : undefined;
};

/** `met (0.93×)` or `missed by 23% (1.48×, target ≤ 1.25×)`. */
function verdictRatio(value, reference, bound) {
  if (value === undefined || reference === undefined || reference <= 0) return { status: 'not measured', text: 'not measured' };
  const r = value / reference;
  if (r <= bound) return { status: 'met', text: `met (${r.toFixed(2)}×)` };
  // Three decimals when two would print the bound itself (a miss by less than 0.5%).
  const shown = r.toFixed(2) === bound.toFixed(2) ? r.toFixed(3) : r.toFixed(2);
  const by = (r / bound - 1) * 100;
  return { status: 'missed', text: `missed by ${by < 1 ? by.toFixed(1) : Math.round(by)}% (${shown}× the floor, target ≤ ${bound}×)` };
}

/**
 * With `--repeat K` the systems take turns run by run (floor, memory, Redis, floor, …), so run i
 * of a system ran beside run i of the floor, on the machine as it was then. The ratio of each
 * such pair, and their median, is the estimate of "× the floor" that a machine drifting over the
 * minutes of a stage (a neighbour's load) moves least: the ratio of two medians can pair a fast
 * floor run with a slow system run. Undefined with fewer than two pairs that both finished.
 */
export function pairedRatios(stage, floor, field) {
  const [runs, floorRuns] = [stage.runs, floor.runs];
  if (!Array.isArray(runs) || !Array.isArray(floorRuns)) return undefined;
  const ratios = [];
  for (let i = 0; i < Math.min(runs.length, floorRuns.length); i++) {
    const [a, b] = [runs[i]?.[field], floorRuns[i]?.[field]];
    if (typeof a === 'number' && typeof b === 'number' && b > 0) ratios.push(a / b);
  }
  if (ratios.length < 2) return undefined;
  const sorted = [...ratios].sort((x, y) => x - y);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { ratios, median };
}

function unavailable(results, system, n) {
  const info = results.systems.find((s) => s.id === system);
  if (info && !info.available) return `not measured: ${info.reason}`;
  if (!results.fanout.some((f) => f.n === n))
    return `not measured: N = ${num(n, 0)} is not part of this run${n > 5000 ? ' (run with --full)' : ''}`;
  const found = stage(results, system, n);
  if (found === undefined) return 'not measured in this run';
  return `${found.status}: ${found.failure}`;
}

/** Hints that the data supports: what else was at its limit when the figure was taken. */
function limits(results, n, systems) {
  const hints = [];
  for (const id of systems) {
    const s = okStage(results, id, n);
    if (s?.client?.busyMedian >= SATURATED)
      hints.push(
        `the load client was saturated during ${id}'s deliveries (busy ${num(s.client.busyMedian, 2)} of a core): latency partly measures the client`,
      );
  }
  const load = results.machine.loadAverageStart?.[0];
  if (load !== undefined && load > results.machine.cores * 0.25)
    hints.push(`the machine was not quiet (load average ${num(load, 2)} on ${results.machine.cores} cores when the run started)`);
  return hints;
}

/** Where the extra CPU goes, phase by phase, against the floor. */
function cpuSplit(results, id, n) {
  const s = okStage(results, id, n)?.server;
  const f = okStage(results, 'floor', n)?.server;
  if (!s || !f) return undefined;
  return `delivery phase ${num(s.cpuUsDeliveryPhase)} µs vs floor ${num(f.cpuUsDeliveryPhase)} µs (${(s.cpuUsDeliveryPhase / f.cpuUsDeliveryPhase).toFixed(2)}×), re-poll phase ${num(s.cpuUsRepollPhase)} µs vs ${num(f.cpuUsRepollPhase)} µs (${(s.cpuUsRepollPhase / f.cpuUsRepollPhase).toFixed(2)}×)`;
}

/** What to do about a target that is missed or not measured yet (shown under "Next steps"). */
const NEXT = {
  full: 'Run `npm run bench -- --full` on a quiet machine: quick mode stops at N = 5,000.',
  complete: 'Run the complete bench (`npm run bench`): this run left that N or system out.',
  connections: 'Find what gave out at N = 10,000 (errors by kind, Redis connections) and fix it in the Redis log.',
  cpu: 'What is left over the floor is spread thin: per held poll hangtime keeps a Holder, the log’s waiter, a poll sink and the reply view (about 400 bytes beyond Node’s own request and response in a heap snapshot), allocates about 0.8 KB more per poll and round than Node’s own 8–9 KB, answers with one more header (`Server-Timing`), and its own JavaScript is 8–10% of a profile’s busy samples, no function above 1%; the rest is collector work on V8’s helper threads (see the whole-run target). Next: one object for the poll sink and the reply view (the reply’s close listener relays through two Triggers), then the per-answer objects. Profile with `BENCH_SERVER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` (bench/README.md).',
  wholeRun:
    'The figure moves from run to run more than the gap it measures: on this 2-core virtual machine the floor’s own whole-run CPU moved by up to 1.3× between the runs of one stage, so the targets take the median of the K runs’ ratios to the floor run beside each, and a full run quotes at least 5. Where the gap is (2026-12-02, N = 5,000, one run each, memory log against the floor): on the main thread Node’s own work and the collector’s pauses take as many profile samples for hangtime as for the floor, and hangtime’s own JavaScript adds 8–10%; per thread (`/proc/<pid>/task/*/stat` at exit), the main thread differs by about 130 ms over the run and V8’s helper threads (parallel scavenging, concurrent marking) by about 390 ms. With 25 rounds instead of 7 the ratio stays where it is, so the gap is per poll, not start-up or compilation: collector work on what hangtime allocates and keeps per poll, beside Node’s own 8–9 KB allocated per request. The Redis log scavenges and promotes as the memory log does once its empty-poll phase, which comes after the whole-run figure, is left out of the trace (`BENCH_SKIP_EMPTY=1`; an earlier count that included it had the Redis log promoting more). Next: fewer objects per held poll (one object for the poll sink and the reply view), then the per-answer objects (the answer’s headers and `PlainResponse`).',
  memory:
    'RSS per held poll follows the old space’s saw-tooth: V8 sizes the old space from what was live at the last major collection, so a collection that falls while many objects are reachable sets a high bound for the rounds after it (`BENCH_DEBUG=1` prints each held sample, `BENCH_SERVER_FLAGS=--trace-gc` each collection); the floor’s own figure moved between about 15 and 18.5 KiB from run to run. Until 2026-12-02 the walk that answers a fan-out 256 polls per turn of the event loop kept every answered poll reachable until its last slice, while the clients’ next polls arrived: about twice the polls’ objects at a fan-out’s end (at N = 5,000 a major collection there found 31.7 MB live where the floor’s found 17.2 MB). Released as each is answered, the memory log’s RSS per held poll at N = 5,000 went from 21.8–22.1 to 17.6–18.3 KiB, the floor’s 17.8–18.5 (interleaved A/B, 3 pairs). After a full collection (the *Live heap* table) a held poll keeps 0.1–0.2 KB more than the floor’s (the Holder, the poll sink, the log’s waiter and the reply view, less the floor’s closure and `once` wrapper). What is left is where the collections fall: at N = 5,000 (10 rounds, `--trace-gc`) the floor’s major collections came right after its one-pass fan-out, with no poll held (17.0–17.8 MB live), and hangtime’s while polls were held, its answers going out in slices (20.1 and 31.3 MB live), so V8 let hangtime’s old space grow larger between them although it grew by less per round (about 11.5 MB against 15–20 MB). Answering 1,024 polls per turn instead of 256 moved the memory log’s ratio from 1.05–1.09× to 1.00–1.04× (5 rounds, 3 pairs): within the noise, and not worth the longer stalls. Next: fewer bytes per held poll (one object for the poll sink and the reply view).',
  fanout:
    'On a shared 2-core machine fan-out time follows server CPU per delivery: work on the CPU target first, then re-measure on a quiet machine.',
  empty: 'Cut the Redis reads of a poll that finds nothing: serve the check from the process’s own knowledge of each channel’s head.',
  batch: 'Read each new batch once per process, shared by all its waiters, not once per waiter.',
  absent: 'Build the Redis log (issue 3) and run the bench again: `npm run bench` picks it up once dist/redis.js exists.',
};

export function evaluateTargets(results) {
  const rows = [];
  const bigNs = [5000, 10_000];

  // 1. 10,000 polls on ≤ 3 Redis connections, zero errors.
  {
    const s = okStage(results, 'redis', 10_000);
    const failed = stage(results, 'redis', 10_000);
    let text;
    let status;
    if (s) {
      const errors = errorTotal(s.errors);
      status = s.redis.connectionsPeak <= 3 && errors === 0 ? 'met' : 'missed';
      text = `${status}: ${num(s.redis.connectionsPeak, 0)} Redis connections at peak, ${num(errors, 0)} errors`;
    } else if (failed?.status === 'failed') {
      status = 'missed';
      text = `missed: ${failed.failure}`;
    } else {
      status = 'not measured';
      text = unavailable(results, 'redis', 10_000);
      const at5k = okStage(results, 'redis', 5000);
      if (at5k) text += `; at N = 5,000: ${num(at5k.redis.connectionsPeak, 0)} connections, ${num(errorTotal(at5k.errors), 0)} errors`;
    }
    const naive = stage(results, 'naive', 10_000);
    const naiveText = naive
      ? `; for comparison, naive 1:1 at 10,000: ${naive.status === 'ok' ? `${num(naive.redis?.connectionsPeak, 0)} connections, ${num(errorTotal(naive.errors), 0)} errors` : `${naive.status} (${naive.failure})`}`
      : '';
    rows.push({
      target: 'hangtime + Redis holds 10,000 polls with ≤ 3 Redis connections and zero errors',
      status,
      text: text + naiveText,
      limits: [],
    });
  }

  // 2. CPU and memory per held poll ≤ 1.25× the floor.
  for (const n of bigNs) {
    if (!results.fanout.some((f) => f.n === n)) {
      for (const what of ['server CPU per delivered event', 'memory per held poll']) {
        rows.push({
          target: `hangtime + Redis ${what} ≤ 1.25× the floor (N = ${num(n, 0)})`,
          status: 'not measured',
          text: unavailable(results, 'redis', n),
          limits: [],
        });
      }
      continue;
    }
    const s = okStage(results, 'redis', n);
    const f = okStage(results, 'floor', n);
    const cpu =
      s && f
        ? verdictRatio(s.server.cpuUsPerDelivery, f.server.cpuUsPerDelivery, 1.25)
        : { status: 'not measured', text: unavailable(results, s ? 'floor' : 'redis', n) };
    if (s && f) cpu.text += `: ${num(s.server.cpuUsPerDelivery)} µs vs ${num(f.server.cpuUsPerDelivery)} µs per delivered event`;
    const split = cpuSplit(results, 'redis', n);
    rows.push({
      target: `hangtime + Redis server CPU per delivered event ≤ 1.25× the floor (N = ${num(n, 0)})`,
      ...cpu,
      limits: cpu.status === 'missed' && split ? [`where it goes: ${split}`] : [],
    });
    const mem =
      s && f
        ? verdictRatio(s.server.perHeldPollKiB, f.server.perHeldPollKiB, 1.25)
        : { status: 'not measured', text: unavailable(results, s ? 'floor' : 'redis', n) };
    if (s && f) mem.text += `: ${num(s.server.perHeldPollKiB, 2)} KiB vs ${num(f.server.perHeldPollKiB, 2)} KiB per held poll`;
    rows.push({ target: `hangtime + Redis memory per held poll ≤ 1.25× the floor (N = ${num(n, 0)})`, ...mem, limits: [] });
  }

  // 3. Fan-out completion: Redis ≤ 1.2×, memory ≤ 1.1× the floor.
  for (const [id, bound] of [
    ['redis', 1.2],
    ['memory', 1.1],
  ]) {
    const name = id === 'redis' ? 'Redis' : 'memory';
    for (const n of bigNs) {
      if (!results.fanout.some((f) => f.n === n)) {
        rows.push({
          target: `hangtime + ${name} log fan-out completion ≤ ${bound}× the floor (N = ${num(n, 0)})`,
          status: 'not measured',
          text: unavailable(results, id, n),
          limits: [],
        });
        continue;
      }
      const s = okStage(results, id, n);
      const f = okStage(results, 'floor', n);
      // Repeated: as the issue 10 rows, the median of each run's ratio to the floor run of its
      // turn (the floor's own fan-out moved by up to 1.6× between the runs of one stage, 2026-12-02).
      const paired = s && f ? pairedRatios(s, f, 'fanoutMs') : undefined;
      const v =
        s && f
          ? verdictRatio(paired === undefined ? s.fanoutMs.median : paired.median, paired === undefined ? f.fanoutMs.median : 1, bound)
          : { status: 'not measured', text: unavailable(results, s ? 'floor' : id, n) };
      if (s && f && v.status !== 'not measured') {
        const stages = `${num(s.fanoutMs.median)} ms vs ${num(f.fanoutMs.median)} ms`;
        v.text +=
          paired === undefined
            ? `: ${stages}`
            : `: the median of ${paired.ratios.length} runs' ratios to the floor run beside each (${paired.ratios.map((r) => `${r.toFixed(2)}×`).join(', ')}); the stages' rows: ${stages} (${(s.fanoutMs.median / f.fanoutMs.median).toFixed(2)}×)`;
      }
      const split = v.status === 'missed' ? cpuSplit(results, id, n) : undefined;
      rows.push({
        target: `hangtime + ${name} log fan-out completion ≤ ${bound}× the floor (N = ${num(n, 0)})`,
        ...v,
        limits:
          v.status === 'missed' ? [...limits(results, n, ['floor', id]), ...(split ? [`server CPU per delivery: ${split}`] : [])] : [],
      });
    }
  }

  // 4. Redis commands: ≤ 2 per empty poll; per delivered batch independent of N.
  {
    const stages = results.fanout.filter((f) => f.system === 'redis' && f.status === 'ok' && f.redis);
    if (stages.length === 0) {
      rows.push({
        target: '≤ 2 Redis commands per empty (timed-out) poll',
        status: 'not measured',
        text: unavailable(results, 'redis', 5000),
        limits: [],
      });
      rows.push({
        target: 'Redis commands per delivered batch independent of N',
        status: 'not measured',
        text: unavailable(results, 'redis', 5000),
        limits: [],
      });
    } else {
      const empty = stages.map((s) => [s.n, s.redis.emptyPoll?.commandsPerPoll]);
      const worst = Math.max(...empty.map(([, c]) => c ?? Infinity));
      rows.push({
        target: '≤ 2 Redis commands per empty (timed-out) poll',
        status: worst <= 2 ? 'met' : 'missed',
        text: `${worst <= 2 ? 'met' : `missed by ${Math.round((worst / 2 - 1) * 100)}%`}: ${empty.map(([n, c]) => `${num(c, 2)} at N = ${num(n, 0)}`).join(', ')}`,
        limits: [],
      });
      const perBatch = stages.map((s) => [s.n, s.redis.commandsPerPublish]);
      const values = perBatch.map(([, c]) => c);
      const flat = Math.max(...values) <= Math.max(2, 1.5 * Math.min(...values));
      rows.push({
        target: 'Redis commands per delivered batch independent of N (one read per process per batch)',
        status: flat ? 'met' : 'missed',
        text: `${flat ? 'met' : 'missed'}: ${perBatch.map(([n, c]) => `${num(c, 1)} at N = ${num(n, 0)}`).join(', ')} (publish to last answer, the publish's own XADD included)`,
        limits: [],
      });
    }
  }

  // 5. Issue 10: over a whole fan-out run (connections, first polls and warm-up rounds
  // included), both logs ≤ 1.2× the floor's server CPU per delivery and ≤ 1.15× its memory
  // per held poll. With --repeat K, each stage is the median of K runs (run.mjs).
  for (const [id, name] of [
    ['memory', 'memory'],
    ['redis', 'Redis'],
  ]) {
    for (const n of bigNs) {
      const targets = [
        [`hangtime + ${name} log whole-run server CPU per delivery ≤ 1.2× the floor (N = ${num(n, 0)}, issue 10)`, 'cpu', 1.2],
        [`hangtime + ${name} log memory per held poll ≤ 1.15× the floor (N = ${num(n, 0)}, issue 10)`, 'memory', 1.15],
      ];
      const s = okStage(results, id, n);
      const f = okStage(results, 'floor', n);
      for (const [target, what, bound] of targets) {
        if (!(s && f)) {
          rows.push({ target, status: 'not measured', text: unavailable(results, s ? 'floor' : id, n), limits: [] });
          continue;
        }
        const [value, reference, unit, field] =
          what === 'cpu'
            ? [s.server.cpuUsPerDeliveryWholeRun, f.server.cpuUsPerDeliveryWholeRun, 'µs per delivery', 'cpuUsPerDeliveryWholeRun']
            : [s.server.perHeldPollKiB, f.server.perHeldPollKiB, 'KiB per held poll', 'perHeldPollKiB'];
        const digits = what === 'cpu' ? 1 : 2;
        // Repeated: each run against the floor run of its turn, and the median of those ratios.
        const paired = pairedRatios(s, f, field);
        const v = paired === undefined ? verdictRatio(value, reference, bound) : verdictRatio(paired.median, 1, bound);
        if (v.status !== 'not measured') {
          v.text +=
            paired === undefined
              ? `: ${num(value, digits)} vs ${num(reference, digits)} ${unit}`
              : `: the median of ${paired.ratios.length} runs' ratios to the floor run beside each (${paired.ratios.map((r) => `${r.toFixed(2)}×`).join(', ')}); the stages' medians: ${num(value, digits)} vs ${num(reference, digits)} ${unit} (${(value / reference).toFixed(2)}×)`;
        }
        const repeats = results.repeat > 1 && paired === undefined ? [`median of ${results.repeat} runs of the stage`] : [];
        rows.push({ target, ...v, limits: v.status === 'missed' ? [...repeats, ...limits(results, n, ['floor', id])] : repeats });
      }
    }
  }

  // 6. The load client: measured, and saturation said.
  {
    const saturated = results.fanout.filter((f) => f.status === 'ok' && f.client?.saturated);
    const busiest = results.fanout
      .filter((f) => f.status === 'ok')
      .sort((a, b) => (b.client?.busyMedian ?? 0) - (a.client?.busyMedian ?? 0))[0];
    rows.push({
      target: 'the load client is measured, and its saturation said',
      status: 'reported',
      text: saturated.length
        ? `saturated (≥ ${SATURATED} of a core while delivering) in ${saturated.length} of ${results.fanout.filter((f) => f.status === 'ok').length} fan-out stages: ${saturated.map((f) => `${f.system} N = ${num(f.n, 0)} (${num(f.client.busyMedian, 2)})`).join(', ')}`
        : `never saturated; busiest: ${busiest ? `${busiest.system} N = ${num(busiest.n, 0)} at ${num(busiest.client.busyMedian, 2)} of a core` : '–'}`,
      limits: [],
    });
  }
  const redisInfo = results.systems.find((x) => x.id === 'redis');
  for (const row of rows) {
    if (row.status === 'not measured') {
      if (/Redis/.test(row.target) && redisInfo && !redisInfo.available) row.next = NEXT.absent;
      else row.next = /10,000/.test(row.target) || /10,000/.test(row.text) ? NEXT.full : NEXT.complete;
    } else if (row.status === 'missed') {
      if (/10,000 polls/.test(row.target)) row.next = NEXT.connections;
      else if (/whole-run/.test(row.target)) row.next = NEXT.wholeRun;
      else if (/CPU/.test(row.target)) row.next = NEXT.cpu;
      else if (/memory per held poll/.test(row.target)) row.next = NEXT.memory;
      else if (/fan-out/.test(row.target)) row.next = NEXT.fanout;
      else if (/empty/.test(row.target)) row.next = NEXT.empty;
      else if (/batch/.test(row.target)) row.next = NEXT.batch;
    }
  }
  return rows;
}
