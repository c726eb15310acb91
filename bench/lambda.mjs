// Lambda-scale emulation (issue 12): what hangtime costs on a platform that runs one request per
// instance. A front door (an HTTP server on loopback, standing for API Gateway's HTTP API)
// turns each request into a payload-format-2.0 event and dispatches it to a free "instance" or
// starts a new one, as Lambda does. Each instance is a worker thread (bench/lambda/instance.mjs)
// with its own module state and Redis connections, running the real `hangtime/aws-lambda`
// handler from dist/ one invocation at a time with a real `getRemainingTimeInMillis`, kept warm
// between invocations and reaped when idle. Clients are the real `hangtime/client`
// (`subscribe`), one publisher POSTs through the same front door, Redis is a private
// redis-server whose INFO gives connections and commands.
//
//   npm run bench -- lambda [--clients 100,500] [--rates 0,1/min,1/s] [--seconds 60]
//                           [--waiting auto,shared] [--per-channel 10] [--no-build]
//   (or node bench/lambda.mjs with the same options)
//
// Writes bench/results/lambda-latest.json and renders docs/cost.md (bench/cost-report.mjs).
import { createServer } from 'node:http';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';
import { startRedis, parseInfo } from './lib/redis.mjs';
import { option } from './lib/args.mjs';
import { BENCH_DIR, ROOT, sleep } from './lib/proc.mjs';

const list = (value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const CLIENTS = list(option('clients', '100')).map(Number);
const RATES = list(option('rates', '0,1/min,1/s'));
const SECONDS = Number(option('seconds', '60'));
const MODES = list(option('waiting', 'auto,shared'));
const PER_CHANNEL = Number(option('per-channel', '10'));
const MAX_WAIT_MS = Number(option('max-wait', '25000'));
/** HTTP API's integration timeout; the function's own timeout is set to the same. */
const FUNCTION_TIMEOUT_MS = 30_000;
/** Memory configured for the function (what Lambda bills), see `measureInstance`. */
const MEMORY_MB = Number(option('memory', '256'));
/** Instances idle this long are reaped (Lambda keeps them minutes; runs here are short). */
const IDLE_REAP_MS = 90_000;
const DIST = process.env.BENCH_DIST ?? join(ROOT, 'dist');

const perSecond = (rate) => (rate === '0' ? 0 : rate === '1/min' ? 1 / 60 : rate === '1/s' ? 1 : Number(rate));

if (!process.argv.includes('--no-build')) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
const { subscribe } = await import(pathToFileURL(join(DIST, 'client.js')).href);

/** The pool of instances, like Lambda's: a free warm one if any, else a new one (a cold start). */
class Pool {
  instances = new Set();
  invocations = { poll: 0, publish: 0 };
  billedMs = { poll: 0, publish: 0 };
  coldStarts = 0;
  durations = [];
  activeMs = 0;
  peakInstances = 0;
  errors = new Map();
  #next = 0;

  constructor(redisUrl, waiting) {
    this.redisUrl = redisUrl;
    this.waiting = waiting;
  }

  async #start() {
    const worker = new Worker(new URL('./lambda/instance.mjs', import.meta.url), {
      workerData: {
        dist: DIST,
        redisUrl: this.redisUrl,
        waiting: this.waiting,
        maxWaitMs: MAX_WAIT_MS,
        frontDoor: 'http-api',
        functionTimeoutMs: FUNCTION_TIMEOUT_MS,
      },
    });
    const instance = { worker, busy: true, idleSince: 0, pending: new Map() };
    await new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (message) => {
        if (message.type === 'ready') return resolve();
        if (message.type === 'error') return this.errors.set(message.message, (this.errors.get(message.message) ?? 0) + 1);
        if (message.type === 'result' || message.type === 'closed') {
          const settle = instance.pending.get(message.id ?? 'close');
          instance.pending.delete(message.id ?? 'close');
          settle?.(message);
        }
      });
    });
    this.coldStarts++;
    this.instances.add(instance);
    this.peakInstances = Math.max(this.peakInstances, this.instances.size);
    return instance;
  }

  async invoke(kind, event) {
    let instance = [...this.instances].find((candidate) => !candidate.busy);
    if (instance === undefined) instance = await this.#start();
    instance.busy = true;
    const id = String(++this.#next);
    const reply = await new Promise((resolve) => {
      instance.pending.set(id, resolve);
      instance.worker.postMessage({ type: 'invoke', id, event });
    });
    instance.busy = false;
    instance.idleSince = Date.now();
    this.invocations[kind]++;
    // Lambda bills each invocation's duration rounded up to the next millisecond.
    this.billedMs[kind] += Math.ceil(reply.durationMs);
    if (kind === 'poll') this.durations.push(reply.durationMs);
    this.activeMs += reply.activeMs ?? 0;
    return reply.result;
  }

  reap(now = Date.now()) {
    for (const instance of this.instances) {
      if (!instance.busy && now - instance.idleSince > IDLE_REAP_MS) this.#stop(instance);
    }
  }

  async #stop(instance) {
    this.instances.delete(instance);
    await new Promise((resolve) => {
      instance.pending.set('close', resolve);
      instance.worker.postMessage({ type: 'close' });
      setTimeout(resolve, 2_000);
    });
    await instance.worker.terminate();
  }

  async close() {
    await Promise.all([...this.instances].map((instance) => this.#stop(instance)));
  }
}

/** API Gateway HTTP API (payload format 2.0) event for a Node request. */
function toEvent(req, body) {
  const url = new URL(req.url, 'http://bench.local');
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(',') : value;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      domainName: 'bench.local',
      http: { method: req.method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: String(Math.random()),
      timeEpoch: Date.now(),
    },
    body: body === '' ? undefined : body,
    isBase64Encoded: false,
  };
}

async function frontDoor(pool) {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const result = await pool.invoke(req.method === 'POST' ? 'publish' : 'poll', toEvent(req, body));
      const headers = { ...(result.headers ?? {}) };
      if (result.cookies?.length) headers['set-cookie'] = result.cookies;
      res.writeHead(result.statusCode ?? 200, headers);
      res.end(result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? ''));
    });
  });
  server.keepAliveTimeout = 120_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/poll` };
}

/** Redis INFO on its own connection: its own commands are subtracted. */
async function redisTotals(monitor) {
  const stats = parseInfo(await monitor.redis.info('commandstats'));
  const clients = parseInfo(await monitor.redis.info('clients'));
  const calls = {};
  for (const [key, value] of Object.entries(stats)) {
    const name = key.replace(/^cmdstat_/, '');
    const count = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
    if (!/^(info|config|client\|list)/.test(name)) calls[name] = count;
  }
  return { calls, connected: Number(clients.connected_clients) - 1 };
}

/** Connections by name (CLIENT LIST), the monitor's own left out. */
async function connectionNames(monitor) {
  const names = {};
  for (const line of String(await monitor.redis.client('LIST')).split('\n')) {
    // The monitor is the connection running this CLIENT LIST.
    if (line === '' || /\bcmd=client\|list\b/.test(line)) continue;
    const name = /\bname=(\S*)/.exec(line)?.[1] || '(none)';
    names[name] = (names[name] ?? 0) + 1;
  }
  return names;
}

/** Commands the log sends as a Redis client (scripts, XREAD, pub/sub, WAIT, CLIENT UNBLOCK):
 * what a per-command plan bills. Commands run inside scripts are not among them. */
const TOP_LEVEL = /^(evalsha|eval|xread|subscribe|unsubscribe|wait|client\|unblock)$/;
/** Once per connection: the handshake (HELLO or PING, CLIENT SETNAME), the blocking wait's CLIENT ID, INFO for histories. */
const PER_CONNECTION = /^(hello|ping|select|client\|setname|client\|id|info)$/;

async function scenario(redis, waiting, clients, rate) {
  await redis.monitor.redis.config('RESETSTAT');
  const pool = new Pool(redis.url, waiting);
  const door = await frontDoor(pool);
  const channels = Array.from(
    { length: Math.max(1, Math.ceil(clients / PER_CHANNEL)) },
    (_, i) => `c${i}-${waiting}-${rate.replace('/', '')}-${clients}`,
  );
  const latencies = [];
  let delivered = 0;
  let gaps = 0;
  let peakConnections = 0;
  let peakHeld = 0;
  /** The connections at the peak, by name (the log's commands, pub/sub, CLIENT UNBLOCK controls). */
  let peakNames = {};
  /** What the clients saw go wrong, by `code` and status (each is retried after a backoff):
   * while the clients arrived (every instance a cold start), then in the measured window. */
  const clientErrors = { arrival: {}, measured: {} };
  let errorPhase = clientErrors.arrival;

  const subscriptions = [];
  for (let i = 0; i < clients; i++) {
    subscriptions.push(
      subscribe(door.url, {
        channels: [channels[i % channels.length]],
        onEvents: (events) => {
          const now = Date.now();
          for (const event of events) {
            delivered++;
            if (typeof event.data?.t === 'number') latencies.push(now - event.data.t);
          }
        },
        onGap: () => gaps++,
        onError: (error) => {
          const key = `${error.code ?? 'unknown'}${error.status ? ` ${error.status}` : ''}`;
          errorPhase[key] = (errorPhase[key] ?? 0) + 1;
        },
      }),
    );
    // Clients arrive over a few seconds, not in one burst (every poll would be a cold start).
    if (i % 10 === 9) await sleep(200);
  }
  // Measured once every client has a poll held (the arrivals' cold starts are not billing).
  const warmUntil = Date.now() + 60_000;
  while ([...pool.instances].filter((instance) => instance.busy).length < clients && Date.now() < warmUntil) await sleep(250);
  await sleep(1_000);
  // Measured from here: instances started for the arrivals count as peak, not as billing.
  const before = await redisTotals(redis.monitor);
  const start = {
    invocations: { ...pool.invocations },
    billedMs: { ...pool.billedMs },
    coldStarts: pool.coldStarts,
    activeMs: pool.activeMs,
  };
  pool.errors.clear();
  errorPhase = clientErrors.measured;
  const startedAt = Date.now();
  const perChannel = perSecond(rate);
  let published = 0;
  const publisher = (async () => {
    if (perChannel === 0) return;
    const interval = 1_000 / (perChannel * channels.length);
    let n = 0;
    while (Date.now() - startedAt < SECONDS * 1_000) {
      const channel = channels[n++ % channels.length];
      await fetch(door.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel, data: { t: Date.now() } }),
      });
      published++;
      const next = startedAt + n * interval;
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  while (Date.now() - startedAt < SECONDS * 1_000) {
    const { connected } = await redisTotals(redis.monitor);
    if (connected > peakConnections) peakNames = await connectionNames(redis.monitor);
    peakConnections = Math.max(peakConnections, connected);
    peakHeld = Math.max(peakHeld, [...pool.instances].filter((instance) => instance.busy).length);
    pool.reap();
    await sleep(500);
  }
  await publisher;
  const elapsedS = (Date.now() - startedAt) / 1_000;
  const after = await redisTotals(redis.monitor);
  const calls = {};
  for (const [name, count] of Object.entries(after.calls)) {
    const delta = count - (before.calls[name] ?? 0);
    if (delta > 0) calls[name] = delta;
  }
  const topLevel = Object.entries(calls)
    .filter(([name]) => TOP_LEVEL.test(name))
    .reduce((sum, [, n]) => sum + n, 0);
  const perConnection = Object.entries(calls)
    .filter(([name]) => PER_CONNECTION.test(name))
    .reduce((sum, [, n]) => sum + n, 0);
  const errors = Object.fromEntries(pool.errors);
  const invocations = {
    poll: pool.invocations.poll - start.invocations.poll,
    publish: pool.invocations.publish - start.invocations.publish,
  };
  const billedMs = { poll: pool.billedMs.poll - start.billedMs.poll, publish: pool.billedMs.publish - start.billedMs.publish };
  for (const subscription of subscriptions) subscription.close();
  await sleep(200);
  await pool.close();
  door.server.closeAllConnections?.();
  door.server.close();
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length === 0 ? null : latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]);
  const clientHours = (clients * elapsedS) / 3_600;
  const result = {
    waiting,
    clients,
    rate,
    channels: channels.length,
    seconds: Math.round(elapsedS),
    published,
    delivered,
    gaps,
    peakInstances: pool.peakInstances,
    peakHeld,
    coldStarts: pool.coldStarts,
    peakRedisConnections: peakConnections,
    redisConnectionsPerClient: peakConnections / clients,
    redisConnectionsPerInstance: peakConnections / pool.peakInstances,
    peakConnectionNames: peakNames,
    invocations,
    billedMs,
    commands: { topLevel, perConnection, byName: calls },
    perClientHour: {
      pollInvocations: invocations.poll / clientHours,
      publishInvocations: invocations.publish / clientHours,
      billedSeconds: (billedMs.poll + billedMs.publish) / 1_000 / clientHours,
      gbSeconds: (((billedMs.poll + billedMs.publish) / 1_000) * (MEMORY_MB / 1_024)) / clientHours,
      redisCommands: (topLevel + perConnection) / clientHours,
      activeCpuSeconds: (pool.activeMs - start.activeMs) / 1_000 / clientHours,
    },
    commandsPerPoll: invocations.poll === 0 ? null : topLevel / invocations.poll,
    commandsPerDelivered: delivered === 0 ? null : topLevel / delivered,
    latencyMs: { p50: pct(50), p95: pct(95), max: latencies.at(-1) ?? null },
    errors,
    clientErrors,
    loadAverage: loadavg(),
    invocationMs: { p50: pool.durations.length ? pool.durations.sort((a, b) => a - b)[Math.floor(pool.durations.length / 2)] : null },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result;
}

/** One instance's memory: RSS of this process before and after starting warm instances. */
async function measureInstance(redis) {
  const pool = new Pool(redis.url, 'auto');
  globalThis.gc?.();
  await sleep(200);
  const before = process.memoryUsage().rss;
  const door = await frontDoor(pool);
  const n = 10;
  // Ten concurrent first polls: ten instances, each after one warm invocation.
  await Promise.all(Array.from({ length: n }, () => fetch(`${door.url}?channels=memory&wait=0`).then((r) => r.text())));
  await sleep(500);
  const after = process.memoryUsage().rss;
  // A short poll (wait=0) on a warm instance: what polling every 5 s costs per request.
  const shortPolls = [];
  let cursor;
  for (let i = 0; i < 30; i++) {
    const billedBefore = pool.billedMs.poll;
    const commandsBefore = await redisTotals(redis.monitor);
    const body = await (await fetch(`${door.url}?channels=memory&wait=0${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json();
    cursor = body.cursor;
    const commandsAfter = await redisTotals(redis.monitor);
    const commands = Object.entries(commandsAfter.calls)
      .filter(([name]) => TOP_LEVEL.test(name))
      .reduce((sum, [name, n]) => sum + n - (commandsBefore.calls[name] ?? 0), 0);
    shortPolls.push({ billedMs: pool.billedMs.poll - billedBefore, commands });
  }
  await pool.close();
  door.server.close();
  const warm = shortPolls.slice(10);
  const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  return {
    instances: pool.coldStarts,
    rssPerInstanceMB: (after - before) / pool.coldStarts / 1_048_576,
    shortPoll: { billedMs: mean(warm.map((poll) => poll.billedMs)), commands: mean(warm.map((poll) => poll.commands)) },
  };
}

const redis = await startRedis({ url: option('redis-url') });
try {
  const memory = await measureInstance(redis);
  process.stdout.write(`one instance: ${memory.rssPerInstanceMB.toFixed(1)} MB RSS (worker thread, warm)\n`);
  const runs = [];
  for (const clients of CLIENTS)
    for (const waiting of MODES) for (const rate of RATES) runs.push(await scenario(redis, waiting, clients, rate));
  const out = {
    command: `npm run bench -- lambda ${process.argv
      .slice(2)
      .filter((arg) => arg !== 'lambda')
      .join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    settings: {
      seconds: SECONDS,
      perChannel: PER_CHANNEL,
      maxWaitMs: MAX_WAIT_MS,
      functionTimeoutMs: FUNCTION_TIMEOUT_MS,
      memoryMB: MEMORY_MB,
      frontDoor: 'http-api',
    },
    memory,
    runs,
  };
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  writeFileSync(join(BENCH_DIR, 'results', 'lambda-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write('wrote bench/results/lambda-latest.json\n');
  if (!process.argv.includes('--no-report')) await import('./cost-report.mjs');
} finally {
  await redis.stop();
  // Keep-alive sockets of the clients' fetch and the front door's last connections would keep
  // the process up for minutes after the report.
  process.exit(process.exitCode ?? 0);
}
