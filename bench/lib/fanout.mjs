// Fan-out scenario: N polls held on one channel (verified), one event published, every
// subscriber's publish → complete-response latency, fan-out completion (the last one), then
// everyone re-polls with the new cursor; R measured rounds after warm-up rounds.
//
// Phases are kept apart so that each cost is measured alone: the delivery (publish → last
// answer received) and the re-poll (re-poll sent → all held again). "Per delivered event"
// figures are the sum of both over N: a long-poll delivery costs an answer and the next poll.
import { ask, nextMessage, stopChild } from './proc.mjs';
import { clientErrors, publish, startClients, waitHeld } from './load.mjs';
import { measure } from './systems.mjs';
import { commandDelta } from './redis.mjs';
import { addCounts, max, median, min, percentile, round, sum } from './stats.mjs';

/** A client process busier than this during a delivery is the bottleneck, not the server. */
export const SATURATED = 0.85;

/** Deliveries before measuring: JIT compilation (server and client alike) needs a few thousand
 * calls of each path, so small N get more warm-up rounds; at least two, as the first rounds
 * also pay for growing socket buffers and heaps. */
const WARMUP_DELIVERIES = 5000;

export async function fanoutStage(system, n, ctx) {
  const warmup = Math.max(2, Math.ceil(WARMUP_DELIVERIES / n));
  const last = warmup + ctx.rounds - 1;
  const clientCount = ctx.clientsFor(n);
  const result = { system: system.id, n, clients: clientCount, rounds: ctx.rounds, warmupRounds: warmup, status: 'ok', errors: {} };
  const monitor = system.usesRedis ? ctx.redis.monitor : undefined;
  const heldTimeoutMs = 15_000 + n * 3;
  let running;
  let clients = [];
  const heldSamples = [];
  try {
    if (monitor && ctx.redis.private) await monitor.flush();
    // Unique per stage: a shared Redis (--redis-url) is never flushed, so names must not meet.
    const channel = `fanout-${ctx.runId}-${n}`;
    const redisBase = monitor ? { ...(await monitor.clients()), memory: await monitor.usedMemory() } : undefined;
    running = await system.start(ctx);
    result.heldBy = running.heldBy;
    if (running.construction) result.construction = running.construction;
    const idle = measure(running);
    const idleHeap = await running.heap?.();
    clients = await startClients(clientCount, {
      base: running.base,
      protocol: system.protocol,
      channels: Array(n).fill(channel),
      mode: 'fanout',
      timeoutMs: heldTimeoutMs,
    });

    const sampleHeld = async () => {
      const sample = { rssKiB: measure(running).rssKiB, heap: await running.heap?.() };
      if (monitor) Object.assign(sample, await monitor.clients(), { memory: await monitor.usedMemory() });
      heldSamples.push(sample);
      if (process.env.BENCH_DEBUG)
        ctx.log(
          `    held sample ${heldSamples.length}: RSS ${(sample.rssKiB / 1024).toFixed(1)} MiB` +
            (sample.heap
              ? `, heap ${(sample.heap.heapUsed / 1048576).toFixed(1)} of ${(sample.heap.heapTotal / 1048576).toFixed(1)} MiB`
              : ''),
        );
    };
    const snapshot = async () => ({ ...measure(running), commands: monitor ? await monitor.commandStats() : undefined });

    await waitHeld(running, n, heldTimeoutMs);
    await sampleHeld();

    const latencies = [];
    const fanouts = [];
    const busy = [];
    const phases = {
      deliveryCpuMs: 0,
      repollCpuMs: 0,
      deliveryCommands: {},
      repollCommands: {},
      deliveryTotal: 0,
      repollTotal: 0,
      counted: 0,
    };
    for (let r = 0; r <= last; r++) {
      const measured = r >= warmup;
      const clientCpu = await Promise.all(clients.map((c) => ask(c, { type: 'cpu' })));
      const before = await snapshot();
      const pending = clients.map((c) => roundFrom(c, r, heldTimeoutMs));
      const ts = ctx.now();
      await publish(running.base, system.protocol, channel, { s: r, ts });
      const reports = await Promise.all(pending);
      const delivered = await snapshot();
      const all = reports.flatMap((report) => report.latencies);
      if (process.env.BENCH_DEBUG)
        ctx.log(`    round ${r}: fan-out ${max(all).toFixed(1)} ms, server CPU ${(delivered.cpuMs - before.cpuMs).toFixed(1)} ms`);
      const complete = reports.every((report) => report.complete);
      if (measured) {
        latencies.push(...all);
        if (complete) fanouts.push(max(all));
        else result.errors.incomplete_round = (result.errors.incomplete_round ?? 0) + 1;
        busy.push(Math.max(...reports.map((report, i) => (report.cpuMs - clientCpu[i].cpuMs) / Math.max(0.001, report.at - ts))));
      }
      if (r === last) {
        if (measured) accumulate(phases, 'delivery', before, delivered);
        break;
      }
      await Promise.all(clients.map((c) => ask(c, { type: 'repoll' })));
      await waitHeld(running, n, heldTimeoutMs);
      const repolled = await snapshot();
      await sampleHeld();
      if (measured) {
        accumulate(phases, 'delivery', before, delivered);
        accumulate(phases, 'repoll', delivered, repolled);
        phases.counted++;
      }
    }

    // The whole run, as an outside observer measures it: from the server started and idle to the
    // last delivery, connection set-up, each client's first poll and the warm-up rounds included.
    const end = measure(running);
    const allDeliveries = n * (last + 1);
    result.wholeRun = { cpuMs: round(end.cpuMs - idle.cpuMs, 1), deliveries: allDeliveries };
    result.latencyMs = {
      p50: round(percentile(latencies, 50), 2),
      p90: round(percentile(latencies, 90), 2),
      p99: round(percentile(latencies, 99), 2),
      max: round(max(latencies), 2),
    };
    result.fanoutMs = {
      median: round(median(fanouts), 2),
      min: round(min(fanouts), 2),
      max: round(max(fanouts), 2),
      rounds: fanouts.map((f) => round(f, 2)),
    };
    const deliveries = n * ctx.rounds;
    const cycles = n * phases.counted;
    const heldRss = median(heldSamples.map((s) => s.rssKiB));
    result.server = {
      processes: running.pids().length,
      rssIdleKiB: idle.rssKiB,
      rssHeldKiB: heldRss,
      rssPeakKiB: measure(running).hwmKiB,
      perHeldPollKiB: round((heldRss - idle.rssKiB) / n, 2),
      // The V8 heap alone (Node servers), to tell what the program keeps per poll from what the
      // heap's sizing and the allocator add to RSS: used (live and not yet collected) and total.
      ...(idleHeap && heldSamples[0]?.heap
        ? {
            heapUsedPerHeldPollKiB: round((median(heldSamples.map((s) => s.heap.heapUsed)) - idleHeap.heapUsed) / 1024 / n, 2),
            heapTotalPerHeldPollKiB: round((median(heldSamples.map((s) => s.heap.heapTotal)) - idleHeap.heapTotal) / 1024 / n, 2),
            // Which spaces grew, in MiB, from idle to held (median over rounds).
            heapSpacesGrowthMiB: Object.fromEntries(
              Object.keys(idleHeap.spaces ?? {}).map((space) => [
                space,
                round((median(heldSamples.map((s) => s.heap.spaces[space])) - idleHeap.spaces[space]) / 1048576, 1),
              ]),
            ),
          }
        : {}),
      // Delivery phases over every measured round; re-poll phases over the rounds followed by one.
      cpuUsPerDelivery: round((phases.deliveryCpuMs * 1000) / deliveries + (cycles ? (phases.repollCpuMs * 1000) / cycles : 0), 1),
      cpuUsDeliveryPhase: round((phases.deliveryCpuMs * 1000) / deliveries, 1),
      cpuUsRepollPhase: cycles ? round((phases.repollCpuMs * 1000) / cycles, 1) : undefined,
      cpuUsPerDeliveryWholeRun: round((result.wholeRun.cpuMs * 1000) / allDeliveries, 1),
    };
    result.client = { processes: clientCount, busyMedian: round(median(busy), 2), busyMax: round(Math.max(...busy), 2) };
    result.client.saturated = result.client.busyMedian >= SATURATED;
    if (monitor) {
      result.redis = {
        connectionsPeak: Math.max(...heldSamples.map((s) => s.connected)) - redisBase.connected,
        memPerHeldPollKiB: round((median(heldSamples.map((s) => s.memory)) - redisBase.memory) / 1024 / n, 2),
        commandsPerPublish: round(phases.deliveryTotal / ctx.rounds, 1),
        commandsPerDelivery: round(phases.deliveryTotal / deliveries + (cycles ? phases.repollTotal / cycles : 0), 3),
        commandsPerRepoll: cycles ? round(phases.repollTotal / cycles, 3) : undefined,
        deliveryCommandsPerPublish: perRound(phases.deliveryCommands, ctx.rounds),
        repollCommandsPerPoll: perRound(phases.repollCommands, cycles),
      };
      if (!process.env.BENCH_SKIP_EMPTY) result.redis.emptyPoll = await emptyPolls(clients, monitor, n, heldTimeoutMs);
    }
  } catch (error) {
    result.status = 'failed';
    result.failure = error.message;
    if (error.kind) result.errors[error.kind] = (result.errors[error.kind] ?? 0) + 1;
    if (error.held !== undefined) result.heldAtMost = error.held;
    if (running?.handle) result.serverLog = running.handle.tail.slice(-5);
  } finally {
    addCounts(result.errors, await clientErrors(clients));
    if (running && result.server === undefined) {
      try {
        result.server = { rssPeakKiB: measure(running).hwmKiB };
      } catch {
        // The system is gone; its failure says why.
      }
    }
    await Promise.all(clients.map((c) => stopChild(c)));
    if (running) await running.stop();
  }
  return result;
}

/** Every client's report of round `s`; one that is late is asked for what it has. */
async function roundFrom(client, s, timeoutMs) {
  const matches = (m) => m?.type === 'round' && m.s === s;
  try {
    return await nextMessage(client, matches, timeoutMs, `round ${s}`);
  } catch {
    try {
      const late = nextMessage(client, matches, 5000, `round ${s} (flushed)`);
      client.child.send({ type: 'flush', s });
      return await late;
    } catch {
      return { latencies: [], complete: false, cpuMs: 0, at: 0 };
    }
  }
}

function accumulate(phases, phase, from, to) {
  phases[`${phase}CpuMs`] += to.cpuMs - from.cpuMs;
  if (from.commands === undefined) return;
  const delta = commandDelta(from.commands, to.commands);
  phases[`${phase}Total`] += delta.total;
  addCounts(phases[`${phase}Commands`], delta.byCommand);
}

const perRound = (counts, divisor) =>
  divisor ? Object.fromEntries(Object.entries(counts).map(([name, count]) => [name, round(count / divisor, 3)])) : {};

/**
 * Every subscriber polls once more with its cursor and `wait=1`: nothing is published, so
 * each answer is a timeout. Redis commands of the whole phase over the polls, background
 * reads of the log included (their cost is real, shared by the polls of the process).
 */
async function emptyPolls(clients, monitor, n, timeoutMs) {
  const before = await monitor.commandStats();
  const replies = await Promise.all(clients.map((c) => ask(c, { type: 'empty', waitS: 1 }, timeoutMs)));
  const after = await monitor.commandStats();
  const delta = commandDelta(before, after);
  const empty = sum(replies.map((r) => r.empty));
  return {
    polls: n,
    timedOut: empty,
    commandsPerPoll: round(delta.total / n, 3),
    byCommand: perRound(delta.byCommand, n),
  };
}
