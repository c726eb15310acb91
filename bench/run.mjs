#!/usr/bin/env node
// `npm run bench` — hangtime against the floor, the naive 1:1 design and Nchan, in one run.
//
//   npm run bench                      quick: N = 100, 1,000, 5,000 (≤ 4 minutes on 2 cores)
//   npm run bench -- --full            adds N = 10,000, more rounds, longer throughput steps
//   npm run bench -- --systems floor,memory --n 100 --scenarios fanout    a partial run
//
// Options: --systems floor,memory,redis,naive,nchan,workerd  --n 100,1000  --rounds R  --clients C
//          --scenarios fanout,throughput  --no-build  --redis-url URL  --out FILE  --report
//          --verbose  --repeat K (each fan-out stage K times, K >= 1, the systems taking turns; the
//          stage reported is the run with the median whole-run server CPU, memory per held poll
//          the median of the K runs, and every run's figures are kept in `runs`)
//   npm run bench -- --scenarios delegated --n 1000,5000   clients held by Pushpin (GRIP), bench/grip.mjs
// A complete run writes bench/results/latest.json and regenerates docs/benchmarks.md and
// docs/benchmarks-fanout.svg from it; a partial run writes a dated JSON file only (add
// --report to render it anyway). See bench/README.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fanoutStage } from './lib/fanout.mjs';
import { BENCH_DIR, ROOT, WANTED_OPEN_FILES, hrMs, stopAll } from './lib/proc.mjs';
import { startRedis } from './lib/redis.mjs';
import { SYSTEMS, nchanInstallation } from './lib/systems.mjs';
import { liveStage } from './lib/live.mjs';
import { throughputStage } from './lib/throughput.mjs';
import { consoleSummary, writeReport } from './report.mjs';

const MODES = {
  quick: {
    ns: [100, 1000, 5000],
    rounds: 5,
    budgetS: 230,
    throughput: { channels: 10, subscribers: 100, startRate: 10, maxSteps: 6, warmupMs: 1200, warmMs: 400, windowMs: 1200 },
  },
  full: {
    ns: [100, 1000, 5000, 10_000],
    rounds: 10,
    budgetS: 1200,
    throughput: { channels: 20, subscribers: 100, startRate: 5, maxSteps: 9, warmupMs: 4000, warmMs: 1000, windowMs: 5000 },
  },
};

// `npm run bench -- lambda [options]`: the Lambda-scale emulation (bench/lambda.mjs → docs/cost.md).
if (process.argv[2] === 'lambda') {
  await import('./lambda.mjs');
  process.exit(process.exitCode ?? 0);
}

const argv = process.argv.slice(2);
const args = parseArgs(argv);
const mode = args.full ? 'full' : 'quick';
const config = MODES[mode];
const startedAt = new Date();
const startedMs = Date.now();
const log = (line) => process.stdout.write(`${line}\n`);
if (args.verbose) process.env.BENCH_VERBOSE = '1';

const results = {
  schema: 1,
  command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  mode,
  partial: Boolean(args.systems || args.n || args.scenarios),
  startedAt: startedAt.toISOString(),
  machine: machine(),
  notes: [],
  systems: [],
  fanout: [],
  live: [],
  throughput: { params: { ...config.throughput, p99BoundMs: 100 }, results: [] },
};

try {
  await main();
} catch (error) {
  log(`bench failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}

async function main() {
  log(`hangtime bench (${mode}) on ${results.machine.cores} cores, Node ${process.versions.node}`);
  results.build = build();
  const openFiles = openFileLimit();
  results.openFiles = openFiles;
  if (openFiles < WANTED_OPEN_FILES) {
    results.notes.push(
      `Open-file limit: asked ${WANTED_OPEN_FILES} with \`ulimit -n\`, the hard limit caps it at ${openFiles} for every process of the bench.`,
    );
  }
  const ns = args.n ? args.n.split(',').map(Number) : config.ns;
  const rounds = args.rounds ? Number(args.rounds) : config.rounds;
  const repeat = args.repeat ? Number(args.repeat) : 1;
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new Error(`--repeat takes a whole number >= 1, got ${args.repeat}`);
  results.repeat = repeat;
  const scenarios = (args.scenarios ?? 'fanout,live,throughput').split(',');
  const clientsFor = (n) => (args.clients ? Number(args.clients) : n >= 1000 ? 2 : 1);

  let redis;
  let noRedis;
  try {
    redis = await startRedis({ url: args['redis-url'] });
  } catch (error) {
    // Without Redis the systems that need it are left out, and the run says why.
    const where = args['redis-url'] ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    noRedis = args['redis-url']
      ? `no Redis answering at ${where} (${error.message})`
      : `no Redis: no redis-server on the PATH (apt-get install -y redis-server) and none answering at ${where} (${error.message})`;
  }
  results.machine.redis = redis?.monitor.version;
  results.redis = redis ? { private: redis.private, url: redis.url } : { unavailable: noRedis };
  if (redis && !redis.private) {
    const why = args['redis-url'] ? '--redis-url' : 'no redis-server binary on the PATH';
    results.notes.push(
      `Redis: ${why}, so the bench used ${redis.url}, shared: connection and command counts include its other clients, and it is never flushed.`,
    );
  }
  const nchan = nchanInstallation();
  if (nchan.ok) Object.assign(results.machine, { nginx: nchan.version, nchan: nchan.nchan });

  const ctx = {
    redis,
    redisUrl: redis?.url,
    // BENCH_DIST: measure another build of the package (for example a branch's).
    dist: process.env.BENCH_DIST ?? join(ROOT, 'dist'),
    openFiles,
    runId: Math.random().toString(36).slice(2, 8),
    rounds,
    clientsFor,
    now: hrMs,
    log,
    throughput: config.throughput,
    // Each fan-out stage runs `repeat` times: the budget grows with it.
    outOfTime: () => Date.now() - startedMs > config.budgetS * repeat * 1000,
  };
  const wanted = args.systems ? args.systems.split(',') : SYSTEMS.map((s) => s.id);
  for (const id of wanted)
    if (!SYSTEMS.some((s) => s.id === id)) throw new Error(`Unknown system \`${id}\`: expected ${SYSTEMS.map((s) => s.id).join(', ')}`);
  capNotes(ns, openFiles, clientsFor, wanted);
  const systems = [];
  for (const system of SYSTEMS) {
    if (!wanted.includes(system.id)) continue;
    const availability = system.usesRedis && noRedis ? { ok: false, reason: noRedis } : system.available(ctx);
    results.systems.push({
      id: system.id,
      label: system.label,
      protocol: system.protocol,
      usesRedis: system.usesRedis,
      available: availability.ok,
      reason: availability.reason,
    });
    if (availability.ok) systems.push(system);
    else log(`  ${system.label}: not run — ${availability.reason}`);
  }

  if (scenarios.includes('fanout')) {
    for (const n of ns) {
      // With --repeat K the systems take turns (floor, memory, Redis, floor, …) rather than one
      // system running K times in a row: a machine that drifts over the minutes of a stage (heat,
      // a neighbour's load) then weighs on every system alike, not on whichever ran last.
      const runs = new Map(systems.map((system) => [system.id, { list: [], seconds: 0 }]));
      for (let i = 0; i < repeat; i++) {
        for (const system of systems) {
          if (ctx.outOfTime()) continue;
          const t0 = Date.now();
          const run = await fanoutStage(system, n, ctx);
          const entry = runs.get(system.id);
          entry.list.push(run);
          entry.seconds += (Date.now() - t0) / 1000;
          if (repeat > 1) log(`    run ${i + 1} of ${repeat}: ${stageLine(run)}`);
        }
      }
      for (const system of systems) {
        const { list, seconds } = runs.get(system.id);
        if (list.length === 0) {
          results.fanout.push({ system: system.id, n, status: 'skipped', failure: `time budget of ${config.budgetS * repeat} s used up` });
          continue;
        }
        const stage = medianRun(list);
        stage.durationS = Math.round(seconds * 10) / 10;
        results.fanout.push(stage);
        log(stageLine(stage));
      }
    }
  }
  if (scenarios.includes('live')) {
    // What a held poll keeps alive, after a full collection (bench/lib/live.mjs), at the fan-out
    // sizes of 1,000 and up, for the Node servers that measure it.
    for (const n of ns.filter((size) => size >= 1000)) {
      for (const system of systems.filter((s) => s.live)) {
        if (ctx.outOfTime()) continue;
        const stage = await liveStage(system, n, ctx);
        results.live.push(stage);
        log(
          stage.status === 'ok'
            ? `  live heap ${system.id} N = ${n}: ${stage.liveHeapPerHeldPollB} B per held poll, ${stage.liveHeapPerClientB} B per client with its connection`
            : `  live heap ${system.id} N = ${n}: failed — ${stage.failure}`,
        );
      }
    }
  }
  if (scenarios.includes('throughput')) {
    for (const system of systems) {
      if (ctx.outOfTime()) {
        results.throughput.results.push({
          system: system.id,
          status: 'skipped',
          failure: `time budget of ${config.budgetS * repeat} s used up`,
        });
        continue;
      }
      log(`  throughput ${system.id}`);
      results.throughput.results.push(await throughputStage(system, ctx));
    }
  }
  await redis?.stop();
  if (scenarios.includes('delegated')) {
    // Pushpin in front of hangtime, next to holding in the function: its own script and table
    // (bench/grip.mjs, recorded in docs/grip.md).
    execFileSync(process.execPath, [join(BENCH_DIR, 'grip.mjs'), '--n', ns.join(','), '--rounds', String(Math.min(rounds, 3))], {
      stdio: 'inherit',
    });
  }

  results.machine.loadAverageEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
  results.durationS = Math.round((Date.now() - startedMs) / 1000);
  const dir = join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const out = args.out ?? join(dir, results.partial ? `${stamp}-partial.json` : 'latest.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  if (!results.partial && !args.out) writeFileSync(join(dir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  log('');
  log(consoleSummary(results));
  log(`\nraw results: ${relative(process.cwd(), out)} (${results.durationS} s)`);
  if (!results.partial || args.report) {
    const written = writeReport(results, relative(ROOT, out));
    log(`report: ${written.map((file) => relative(process.cwd(), file)).join(', ')}`);
  }
}

/**
 * Of repeated runs of one stage, the one with the median whole-run server CPU per delivery (the
 * lower middle of an even count), with its memory per held poll replaced by the median of the
 * runs' own, and every run's headline figures beside it: on a loaded machine one run can be far
 * off, and a median of at least 3 is what the docs quote.
 */
function medianRun(runs) {
  if (runs.length === 1) return runs[0];
  const ok = runs.filter((run) => run.status === 'ok');
  if (ok.length === 0) return runs[0];
  const sorted = [...ok].sort((a, b) => a.server.cpuUsPerDeliveryWholeRun - b.server.cpuUsPerDeliveryWholeRun);
  const chosen = sorted[Math.floor((sorted.length - 1) / 2)];
  // Memory is measured apart from CPU (RSS with N held): its own median, not the CPU median run's.
  const kib = ok.map((run) => run.server.perHeldPollKiB).sort((a, b) => a - b);
  return {
    ...chosen,
    server: { ...chosen.server, perHeldPollKiB: kib[Math.floor((kib.length - 1) / 2)], perHeldPollKiBOfRun: chosen.server.perHeldPollKiB },
    runs: runs.map((run) =>
      run.status === 'ok'
        ? {
            cpuUsPerDeliveryWholeRun: run.server.cpuUsPerDeliveryWholeRun,
            cpuUsPerDelivery: run.server.cpuUsPerDelivery,
            perHeldPollKiB: run.server.perHeldPollKiB,
            fanoutMs: run.fanoutMs.median,
          }
        : { status: run.status, failure: run.failure },
    ),
  };
}

function parseArgs(list) {
  if (list.includes('--help') || list.includes('-h')) {
    // The header of this file is the usage.
    const text = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
    process.stdout.write(
      `${text
        .slice(
          1,
          text.findIndex((line) => line.startsWith('import')),
        )
        .map((l) => l.replace(/^\/\/ ?/, ''))
        .join('\n')}\n`,
    );
    process.exit(0);
  }
  const flags = new Set(['full', 'quick', 'no-build', 'report', 'verbose']);
  const values = new Set(['systems', 'n', 'rounds', 'clients', 'scenarios', 'redis-url', 'out', 'repeat']);
  const parsed = {};
  for (let i = 0; i < list.length; i++) {
    const name = list[i].replace(/^--/, '');
    if (flags.has(name)) parsed[name] = true;
    else if (values.has(name) && list[i + 1] !== undefined) parsed[name] = list[++i];
    else {
      process.stderr.write(`Unknown option ${list[i]}; see the header of bench/run.mjs\n`);
      process.exit(2);
    }
  }
  return parsed;
}

function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    loadAverageStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** The open-file limit the bench's children get (they raise it the same way). */
function openFileLimit() {
  const text = execFileSync('bash', ['-c', `ulimit -n ${WANTED_OPEN_FILES} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ulimit -n`], {
    encoding: 'utf8',
  });
  return text.trim() === 'unlimited' ? Infinity : Number(text.trim());
}

/** Say in advance where a limit of the machine, not a system, decides the outcome. */
function capNotes(ns, openFiles, clientsFor, systems) {
  const naive = systems.includes('naive');
  for (const n of ns) {
    if (naive && 2 * n + 64 > openFiles) {
      results.notes.push(
        `N = ${n}: the naive server needs about ${2 * n + 64} file descriptors (a socket per poll and a Redis connection per poll), over the limit of ${openFiles}: it fails by EMFILE as well as by Redis' maxclients.`,
      );
    }
    if (n + 64 > openFiles)
      results.notes.push(`N = ${n}: every server needs about ${n + 64} file descriptors, over the limit of ${openFiles}.`);
    if (Math.ceil(n / clientsFor(n)) + 64 > openFiles)
      results.notes.push(
        `N = ${n}: each load client needs about ${Math.ceil(n / clientsFor(n)) + 64} file descriptors; use more --clients.`,
      );
    if (naive && n + 1 > 10_000)
      results.notes.push(`N = ${n}: the naive design needs ${n + 1} Redis connections; Redis' default maxclients is 10,000.`);
  }
}

/** Build dist/ (servers import the built package), or check it is fresh with --no-build. */
function build() {
  const entries = ['index', 'node', 'redis'].filter((entry) => existsSync(join(ROOT, 'dist', `${entry}.js`)) || entry !== 'redis');
  if (!args['no-build']) {
    log('  npm run build');
    try {
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
      return { built: true };
    } catch (error) {
      // The bundles are written before the declarations: a type error elsewhere in the tree
      // fails the build but leaves runnable bundles. Use them only if they are fresh.
      const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim().split('\n').slice(-6).join('\n');
      const stale = staleEntries(entries);
      if (stale.length > 0 || !existsSync(join(ROOT, 'dist', 'index.js')))
        throw new Error(`npm run build failed and dist/ is not usable:\n${output}`);
      results.notes.push(
        '`npm run build` exited with an error (declarations), but the bundles in dist/ were written by this run and are used.',
      );
      return { built: true, warning: output };
    }
  }
  const stale = staleEntries(entries);
  if (stale.length > 0)
    results.notes.push(`--no-build: ${stale.join(', ')} older than the sources; the results may not describe the current code.`);
  return { built: false, stale };
}

function staleEntries(entries) {
  const newest = (dir) => {
    let latest = 0;
    if (!existsSync(dir)) return latest;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }
    return latest;
  };
  const sources = Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'adapters', 'node')));
  return entries.map((e) => `dist/${e}.js`).filter((file) => !existsSync(join(ROOT, file)) || statSync(join(ROOT, file)).mtimeMs < sources);
}

function stageLine(stage) {
  const head = `  fan-out N=${stage.n} ${stage.system}`;
  if (stage.status !== 'ok') return `${head}: ${stage.status} — ${stage.failure}${errorText(stage.errors)}`;
  const s = stage.server;
  const redis = stage.redis
    ? `, Redis ${stage.redis.connectionsPeak} conns, ${stage.redis.commandsPerPublish} cmds/publish, ${stage.redis.emptyPoll?.commandsPerPoll} cmds/empty poll`
    : '';
  return `${head}: p50 ${stage.latencyMs.p50} p99 ${stage.latencyMs.p99} fan-out ${stage.fanoutMs.median} ms, CPU ${s.cpuUsPerDelivery} µs/delivery (whole run ${s.cpuUsPerDeliveryWholeRun}${stage.runs ? `, runs ${stage.runs.map((run) => run.cpuUsPerDeliveryWholeRun ?? run.status).join(' / ')}` : ''}), ${s.perHeldPollKiB} KiB/held poll${s.heapUsedPerHeldPollKiB === undefined ? '' : ` (heap used ${s.heapUsedPerHeldPollKiB}, total ${s.heapTotalPerHeldPollKiB})`}${redis}, client busy ${stage.client.busyMedian}${errorText(stage.errors)}${stage.durationS === undefined ? '' : ` (${stage.durationS} s)`}`;
}

function errorText(errors) {
  return Object.keys(errors ?? {}).length ? `, errors ${JSON.stringify(errors)}` : '';
}
