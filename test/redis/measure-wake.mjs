// Measures the two ways one process can learn of appends to many streams over ONE connection,
// to choose the Redis log's wake-up mechanism (docs/redis.md, "Why pub/sub"):
//
//   xread  — a shared `XREAD BLOCK 0 STREAMS k1..kC id1..idC` loop, re-issued after every wake;
//   pubsub — `SUBSCRIBE` once per channel; each append is a script doing XADD + PUBLISH.
//
// For C watched channels it appends to random channels one at a time and reports the wake
// latency (append sent → wake seen by the watching connection) and Redis CPU per append.
// It starts its own redis-server on a free port and stops it.
//
//   node test/redis/measure-wake.mjs [appends=2000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const appends = Number(process.argv[2] ?? 2000);

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'hangtime-measure-'));
const redisServer = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
  { stdio: 'ignore' },
);
// Never leave the server behind, however this script ends.
process.on('exit', () => {
  redisServer.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));
const url = `redis://127.0.0.1:${port}`;
const admin = new Redis(url, { retryStrategy: (n) => (n > 50 ? null : 20) });
admin.on('error', () => {});
await admin.ping();

const APPEND = `local id = redis.call('XADD', KEYS[1], '*', 'd', ARGV[1]); redis.call('PUBLISH', ARGV[2], id); return id`;

async function cpuSeconds() {
  const info = await admin.info('cpu');
  const value = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)[1]);
  return value('used_cpu_sys') + value('used_cpu_user');
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function measure(mechanism, channels) {
  await admin.flushall();
  const keys = Array.from({ length: channels }, (_, i) => `m:{c${i}}:events`);
  const lastIds = [];
  for (const key of keys) lastIds.push(await admin.xadd(key, '*', 'd', '0'));
  const publisher = new Redis(url);
  // RESP2: under RESP3 (ioredis 6's default) XREAD answers a map, flattened by ioredis.
  const watcher = new Redis(url, { protocol: 2 });
  let wake;
  let stop = false;
  if (mechanism === 'pubsub') {
    await watcher.subscribe(...keys.map((key) => `${key}:wake`));
    watcher.on('message', () => wake?.());
  } else {
    // Explicit last ids, never '$': an append processed between two XREADs would be missed.
    const ids = [...lastIds];
    void (async () => {
      while (!stop) {
        const reply = await watcher.xread('BLOCK', 0, 'STREAMS', ...keys, ...ids).catch(() => null);
        if (reply === null) continue;
        for (const [key, entries] of reply) ids[keys.indexOf(key)] = entries[entries.length - 1][0];
        wake?.();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const latencies = [];
  const cpuBefore = await cpuSeconds();
  for (let i = 0; i < appends; i++) {
    const key = keys[Math.floor(Math.random() * channels)];
    const seen = new Promise((resolve) => (wake = resolve));
    const started = process.hrtime.bigint();
    if (mechanism === 'pubsub') void publisher.eval(APPEND, 1, key, String(i), `${key}:wake`);
    else void publisher.xadd(key, '*', 'd', String(i));
    await seen;
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const cpu = (await cpuSeconds()) - cpuBefore;
  stop = true;
  watcher.disconnect();
  publisher.disconnect();
  latencies.sort((a, b) => a - b);
  return {
    mechanism,
    channels,
    p50Ms: percentile(latencies, 50).toFixed(3),
    p99Ms: percentile(latencies, 99).toFixed(3),
    redisCpuUsPerAppend: ((cpu / appends) * 1e6).toFixed(1),
  };
}

try {
  const rows = [];
  for (const channels of [1, 100, 1000, 5000]) {
    for (const mechanism of ['xread', 'pubsub']) rows.push(await measure(mechanism, channels));
  }
  console.table(rows);
} finally {
  admin.disconnect();
}
