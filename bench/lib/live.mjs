// Live heap per held poll: what a held poll keeps, apart from the garbage V8 lets the heap carry.
// RSS per held poll (the fan-out's figure) moves with where the samples fall in the old space's
// saw-tooth: promoted garbage piles up round after round until a major collection, whose timing
// V8 sets from the live size and the allocation rate, so two servers that keep the same can
// differ by a collection per round or two in the median sample. Here the server collects fully
// (`gc()`, the Node bench servers run with `--expose-gc`) with N polls held and again with none
// held on the same N open connections: the difference over N is what one held poll keeps alive.
import { ask, nextMessage, stopChild } from './proc.mjs';
import { clientErrors, publish, startClients, waitHeld } from './load.mjs';
import { round } from './stats.mjs';

/** Rounds before measuring: the held polls measured are re-polls (the steady state), not first polls. */
const ROUNDS_BEFORE = 2;

export async function liveStage(system, n, ctx) {
  const result = { system: system.id, n, status: 'ok', errors: {} };
  const heldTimeoutMs = 15_000 + n * 3;
  let running;
  let clients = [];
  try {
    running = await system.start(ctx);
    if (running.collect === undefined) throw new Error('no /_bench/gc: not a Node server');
    const channel = `live-${ctx.runId}-${n}`;
    const idle = await running.collect();
    clients = await startClients(ctx.clientsFor(n), {
      base: running.base,
      protocol: system.protocol,
      channels: Array(n).fill(channel),
      mode: 'fanout',
      timeoutMs: heldTimeoutMs,
    });
    await waitHeld(running, n, heldTimeoutMs);
    const deliver = async (s) => {
      const rounds = clients.map((c) => nextMessage(c, (m) => m?.type === 'round' && m.s === s, heldTimeoutMs, `round ${s}`));
      await publish(running.base, system.protocol, channel, { s, ts: ctx.now() });
      await Promise.all(rounds);
    };
    for (let s = 0; s < ROUNDS_BEFORE; s++) {
      await deliver(s);
      await Promise.all(clients.map((c) => ask(c, { type: 'repoll' })));
      await waitHeld(running, n, heldTimeoutMs);
    }
    const held = await running.collect();
    // Every poll answered, none held again: the same connections, idle.
    await deliver(ROUNDS_BEFORE);
    const connected = await running.collect();
    result.liveHeapPerHeldPollB = Math.round((held.heapUsed - connected.heapUsed) / n);
    result.liveHeapPerClientB = Math.round((held.heapUsed - idle.heapUsed) / n);
    result.liveHeapMiB = {
      idle: round(idle.heapUsed / 1048576, 1),
      connected: round(connected.heapUsed / 1048576, 1),
      held: round(held.heapUsed / 1048576, 1),
    };
  } catch (error) {
    result.status = 'failed';
    result.failure = error.message;
  } finally {
    Object.assign(result.errors, await clientErrors(clients));
    await Promise.all(clients.map((c) => stopChild(c)));
    if (running) await running.stop();
  }
  return result;
}
