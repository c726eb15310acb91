// Graceful shutdown, measured: a server process (hangtime/node `serve`) holds N polls; it gets
// SIGTERM and calls `serve().close()`. Reported: how long until the last held poll has its
// answer, whether every one was a 200 carrying its cursor (Server-Timing desc "shutdown"), and
// how long until the process exits on its own (no process.exit: nothing may keep it alive).
// For scale, the same polls first get one event (a fan-out, the bench's main scenario) on the
// same machine at the same moment: shutdown should cost about what a fan-out costs.
// A measurement, not a test: nothing here asserts a timing. Run after `npm run build`:
//
//   node bench/shutdown.mjs [N] [memory|redis]     (REDIS_URL, default redis://127.0.0.1:6379)
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const N = Number(process.argv[2] ?? 2_000);
const LOG = process.argv[3] ?? 'memory';
const dist = process.env.BENCH_DIST ?? 'dist';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

if (process.argv[2] === '--server') {
  // The server process: argv = --server <log> <prefix>.
  const [, , , log, prefix] = process.argv;
  const { createHangtime } = await import(pathToFileURL(join(dist, 'index.js')).href);
  const { serve } = await import(pathToFileURL(join(dist, 'node.js')).href);
  let eventLog;
  if (log === 'redis') {
    const { redisLog } = await import(pathToFileURL(join(dist, 'redis.js')).href);
    eventLog = redisLog({ url: REDIS_URL, prefix });
  }
  // Without a log option hangtime creates (and on close, closes) its own memory log.
  const hangtime = createHangtime({ ...(eventLog ? { log: eventLog } : {}), maxWaitMs: 120_000, maxWaiters: 100_000 });
  const server = await serve(hangtime, { port: 0 });
  const report = setInterval(() => process.send({ waiting: hangtime.stats().waiting }), 20);
  process.on('message', (message) => {
    if (message.publish) void hangtime.log.append('shutdown', { round: message.publish });
  });
  process.once('SIGTERM', async () => {
    clearInterval(report);
    const started = performance.now();
    const cpu = process.cpuUsage();
    await server.close();
    const { user, system } = process.cpuUsage(cpu);
    await eventLog?.close(); // the caller's log: the caller closes it
    process.send({ closedMs: performance.now() - started, cpuMs: (user + system) / 1000 });
    process.disconnect();
  });
  process.send({ url: server.url });
} else {
  const prefix = `hangtime-bench-shutdown-${Math.random().toString(36).slice(2, 10)}`;
  const child = fork(fileURLToPath(import.meta.url), ['--server', LOG, prefix], {
    stdio: 'inherit',
    execArgv: (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean),
  });
  const messages = [];
  let onMessage = () => {};
  child.on('message', (message) => {
    messages.push(message);
    onMessage(message);
  });
  const next = (test) =>
    new Promise((resolve) => {
      const found = messages.find(test);
      if (found) return resolve(found);
      onMessage = (message) => test(message) && resolve(message);
    });
  const { url } = await next((m) => m.url);
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const get = (path) =>
    new Promise((resolve, _reject) => {
      request(`${url}${path}`, { agent }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk) => (body += chunk));
        response.on('end', () =>
          resolve({ at: performance.now(), status: response.statusCode, timing: response.headers['server-timing'], body }),
        );
      })
        .on('error', (error) => resolve({ at: performance.now(), error: error.code ?? error.message }))
        .end();
    });
  const first = JSON.parse((await get('/poll?channels=shutdown&wait=0')).body).cursor;
  let held = [];
  // 200 at a time, so that the accept queue never overflows.
  for (let i = 0; i < N; i += 200) {
    for (let j = i; j < Math.min(N, i + 200); j++) held.push(get(`/poll?channels=shutdown&cursor=${first}`));
    await next((m) => m.waiting >= Math.min(N, i + 200));
  }
  // The reference: one event to all of them.
  const published = performance.now();
  child.send({ publish: 1 });
  const delivered = await Promise.all(held);
  const fanOutMs = Math.max(...delivered.map((a) => a.at)) - published;
  const cursor = JSON.parse(delivered[0].body).cursor;
  messages.length = 0;
  held = delivered.map(() => get(`/poll?channels=shutdown&cursor=${cursor}`));
  await next((m) => m.waiting >= N);
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve({ code, at: performance.now() })));
  const signalled = performance.now();
  child.kill('SIGTERM');
  const answers = await Promise.all(held);
  const { code, at: exitAt } = await exited;
  const { closedMs, cpuMs } = messages.find((m) => m.closedMs !== undefined) ?? {};
  const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const clean = answers.filter(
    (a) => a.status === 200 && JSON.parse(a.body).cursor === cursor && /desc="shutdown"/.test(a.timing ?? ''),
  ).length;
  const last = Math.max(...answers.map((a) => a.at));
  console.log(`shutdown, ${LOG} log, ${N} held polls (load average ${load}):`);
  console.log(
    `  answered cleanly (200, own cursor, desc "shutdown"): ${clean} of ${N}; others: ${JSON.stringify(answers.filter((a) => a.status !== 200).slice(0, 3))}`,
  );
  console.log(
    `  SIGTERM → last answer received: ${(last - signalled).toFixed(0)} ms (for scale: one event to the same polls, just before: ${fanOutMs.toFixed(0)} ms)`,
  );
  console.log(`  serve().close() resolved after: ${closedMs?.toFixed(0)} ms (in the server), using ${cpuMs?.toFixed(0)} ms of its CPU`);
  console.log(`  SIGTERM → process exited by itself: ${(exitAt - signalled).toFixed(0)} ms (exit code ${code})`);
  agent.destroy();
  if (LOG === 'redis') {
    const { Redis } = await import('ioredis');
    const admin = new Redis(REDIS_URL);
    let scan = '0';
    do {
      const [next, keys] = await admin.scan(scan, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      scan = next;
      if (keys.length > 0) await admin.del(...keys);
    } while (scan !== '0');
    admin.disconnect();
  }
}
