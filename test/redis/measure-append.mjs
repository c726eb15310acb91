// Measures what `durability: 'replicated'` costs an append, to choose its default
// (docs/redis.md, "Durability"): the append latency of the built log (dist/redis.js, run
// `npm run build` first) against a master with one replica on loopback, with
// durability 'leader' (the script alone) and 'replicated' (script + WAIT 1, one round trip),
// one append at a time and 16 at a time. It starts its own two redis-servers and stops them.
//
//   npm run build && node test/redis/measure-append.mjs [appends=3000]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const appends = Number(process.argv[2] ?? 3000);
const built = new URL('../../dist/redis.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('dist/redis.js is missing: run `npm run build` first\n');
  process.exit(1);
}
const { redisLog } = await import(built.href);

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
const dirs = [];
const children = [];
// Never leave the servers behind, however this script ends.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

async function redisServer(args) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hangtime-measure-'));
  dirs.push(dir);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args],
    { stdio: 'ignore' },
  );
  children.push(child);
  const client = new Redis({ port, retryStrategy: (n) => (n > 100 ? null : 20) });
  client.on('error', () => {});
  await client.ping();
  return { port, client };
}

const master = await redisServer(['--repl-diskless-sync-delay', '0']);
const replica = await redisServer(['--replicaof', '127.0.0.1', String(master.port)]);
while (!/slave0:.*state=online/.test(await master.client.info('replication'))) await new Promise((r) => setTimeout(r, 50));

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const fmt = (ms) => `${ms.toFixed(2)} ms`;

async function measure(durability, concurrency) {
  const log = redisLog({ url: `redis://127.0.0.1:${master.port}`, prefix: `measure-${durability}-${concurrency}`, durability });
  for (let i = 0; i < 200; i++) await log.append('warm', i); // connect, load the script, learn the replica
  const latencies = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < appends) {
        const i = next++;
        const t = process.hrtime.bigint();
        await log.append(`channel-${i % 10}`, { i, text: 'a message of a typical size, some sixty bytes' });
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await log.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), perSecond: appends / seconds };
}

const rows = [];
for (const concurrency of [1, 16]) {
  for (const durability of ['leader', 'replicated']) {
    const { p50, p99, perSecond } = await measure(durability, concurrency);
    rows.push(`| ${concurrency} | ${durability} | ${fmt(p50)} | ${fmt(p99)} | ${Math.round(perSecond).toLocaleString('en')} |`);
  }
}
console.log(`${appends} appends per row, master + 1 replica on loopback\n`);
console.log('| appends in flight | durability | p50 | p99 | appends/s |\n|---|---|---|---|---|');
console.log(rows.join('\n'));
master.client.disconnect();
replica.client.disconnect();
process.exit(0);
