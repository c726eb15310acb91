// The event loop's longest stall while a fan-out is answered: how long any other request or
// timer of the server waits while N held polls get their answer. A server that answers all N in
// one pass keeps everything else waiting for the whole pass; hangtime answers 256 per turn of
// the event loop (src/hold-timers.ts, eachInTurns).
//
//   node bench/stall.mjs [--n 10000] [--systems floor,memory,redis] [--rounds 4]
//
// Builds nothing: run `npm run build` first (BENCH_DIST measures another build). Prints, per
// system, the longest stall of each fan-out (publish → every answer received), measured in the
// server with `monitorEventLoopDelay` (5 ms resolution) from just before the publish.
import { join } from 'node:path';
import { option } from './lib/args.mjs';
import { ask, hrMs, nextMessage, ROOT, sleep, stopAll, stopChild } from './lib/proc.mjs';
import { publish, startClients, waitHeld } from './lib/load.mjs';
import { startRedis } from './lib/redis.mjs';
import { median } from './lib/stats.mjs';
import { SYSTEMS } from './lib/systems.mjs';

const n = Number(option('n', '10000'));
const rounds = Number(option('rounds', '4'));
const wanted = option('systems', 'floor,memory').split(',');
const WARMUP = 2;

const redis = wanted.includes('redis') ? await startRedis({}) : undefined;
const ctx = {
  redis,
  redisUrl: redis?.url,
  dist: process.env.BENCH_DIST ?? join(ROOT, 'dist'),
  runId: Math.random().toString(36).slice(2, 8),
  clientsFor: (size) => (size >= 1000 ? 2 : 1),
  now: hrMs,
};
try {
  for (const id of wanted) {
    const system = SYSTEMS.find((s) => s.id === id && s.live);
    if (system === undefined) throw new Error(`--systems: one of floor, memory, redis, got ${id}`);
    const running = await system.start(ctx);
    const timeoutMs = 15_000 + n * 3;
    const channel = `stall-${ctx.runId}`;
    const clients = await startClients(ctx.clientsFor(n), {
      base: running.base,
      protocol: system.protocol,
      channels: Array(n).fill(channel),
      mode: 'fanout',
      timeoutMs,
    });
    const stalls = [];
    try {
      await waitHeld(running, n, timeoutMs);
      for (let s = 0; s < WARMUP + rounds; s++) {
        const answered = clients.map((c) => nextMessage(c, (m) => m?.type === 'round' && m.s === s, timeoutMs, `round ${s}`));
        await fetch(`${running.base}/_bench/stall/start`);
        // The monitor's first tick only starts its clock: a stall before it would go unseen.
        await sleep(25);
        await publish(running.base, system.protocol, channel, { s, ts: hrMs() });
        await Promise.all(answered);
        const { maxMs } = await (await fetch(`${running.base}/_bench/stall`)).json();
        if (s >= WARMUP) stalls.push(maxMs);
        await Promise.all(clients.map((c) => ask(c, { type: 'repoll' })));
        await waitHeld(running, n, timeoutMs);
      }
    } finally {
      await Promise.all(clients.map((c) => stopChild(c)));
      await running.stop();
    }
    console.log(
      `${system.label}, N = ${n}: longest stall per fan-out ${stalls.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} (median ${median(stalls).toFixed(0)} ms)`,
    );
  }
} finally {
  await redis?.stop();
  await stopAll();
}
