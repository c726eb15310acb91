// The core alone, in process, no HTTP: CPU per poll (registering N polls at the head of a
// channel, then delivering one append to all of them) and heap kept per held poll, for the
// memory log. What the fan-out bench measures through sockets, without the sockets: the part
// of a poll's cost that is hangtime's own. Run after `npm run build`:
//
//   node --expose-gc bench/core.mjs [N] [rounds]
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const dist = process.env.BENCH_DIST ?? 'dist';
const { createHangtime, memoryLog } = await import(pathToFileURL(join(dist, 'index.js')).href);
if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc: the heap figure needs a collection before each reading.');
  process.exit(1);
}
const N = Number(process.argv[2] ?? 5_000);
const ROUNDS = Number(process.argv[3] ?? 30);
const WARMUP = 5;

/** A client signal that never fires (the polls end by the append). */
class Quiet {
  aborted = false;
  addEventListener() {}
  removeEventListener() {}
}
const request = (url) => ({ method: 'GET', url, headers: { get: () => null }, signal: new Quiet() });

const log = memoryLog();
const hangtime = createHangtime({ log, maxWaitMs: 120_000, maxWaiters: N * 2 });
let { cursor } = JSON.parse((await hangtime.respond(request('/poll?channels=c&wait=0'))).body);
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
let registerUs = 0;
let deliverUs = 0;
let heldBytes = 0;
for (let round = 0; round < ROUNDS; round++) {
  const requests = Array.from({ length: N }, () => request(`/poll?channels=c&cursor=${cursor}`));
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = cpu();
  const answers = requests.map((r) => hangtime.respond(r));
  await new Promise((resolve) => setImmediate(resolve));
  const t1 = cpu();
  gc();
  const heapHeld = process.memoryUsage().heapUsed;
  if (log.stats().waiters !== N) throw new Error(`expected ${N} held polls, got ${log.stats().waiters}`);
  const t2 = cpu();
  await log.append('c', { round });
  const bodies = await Promise.all(answers);
  const t3 = cpu();
  ({ cursor } = JSON.parse(bodies[0].body));
  if (round >= WARMUP) {
    registerUs += t1 - t0;
    deliverUs += t3 - t2;
    // The answers' promises are the harness's; each poll's own share is what respond() keeps.
    heldBytes += heapHeld - heapBefore;
  }
}
const polls = (ROUNDS - WARMUP) * N;
console.log(`core, memory log, N = ${N}, ${ROUNDS - WARMUP} measured rounds:`);
console.log(`  CPU per poll: ${(registerUs / polls).toFixed(2)} µs to hold, ${(deliverUs / polls).toFixed(2)} µs to deliver`);
console.log(`  heap kept per held poll: ${Math.round(heldBytes / polls)} bytes (respond()'s promise included)`);
