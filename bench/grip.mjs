// The delegated scenario: N clients held by Pushpin (GRIP) with hangtime as origin, side by side
// with the same N held in the function (no proxy). Run through `npm run bench -- --scenarios
// delegated` (or directly: node bench/grip.mjs [--n 1000,5000] [--logs memory,redis]
// [--rounds 5] [--idle 10]). Needs `npm run build` (the origin imports dist/), Pushpin
// (apt-get install -y pushpin) and, for the Redis log, redis-server on the PATH.
//
// For each N, log and mode it reports, per delivered event: origin requests and origin CPU;
// fan-out completion (publish → last client has it); while the clients wait idle: origin
// requests, origin CPU and the Redis connections of the origin. See docs/grip.md.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs, freePort, nextMessage, sleep, spawnNode, stopAll, stopChild } from './lib/proc.mjs';
import { startRedis } from './lib/redis.mjs';
import { option } from './lib/args.mjs';

const ns = option('n', '1000,5000').split(',').map(Number);
const logs = option('logs', 'memory,redis').split(',');
const rounds = Number(option('rounds', '5'));
const idleS = Number(option('idle', '10'));
const modes = option('modes', 'delegated,function').split(',');
const WAIT_S = 55;

/** Pushpin with its own config (as test/support/pushpin.ts, see there why), in front of `origin`. */
async function startPushpin(origin) {
  const dir = mkdtempSync(join(tmpdir(), 'hangtime-bench-pushpin-'));
  const [httpPort, publishPort, pushIn, pushSub, command] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const sigKey = `bench-${Math.random().toString(36).slice(2)}`;
  const set = (text, section, key, value) => {
    const lines = text.split('\n');
    let current = '';
    let end = -1;
    for (let i = 0; i < lines.length; i++) {
      const header = /^\[(.+)\]\s*$/.exec(lines[i]);
      if (header) {
        current = header[1];
        if (current === section) end = i + 1;
        continue;
      }
      if (current !== section) continue;
      end = i + 1;
      if (lines[i].startsWith(`${key}=`)) {
        lines[i] = `${key}=${value}`;
        return lines.join('\n');
      }
    }
    lines.splice(end, 0, `${key}=${value}`);
    return lines.join('\n');
  };
  let zurl = readFileSync('/etc/zurl.conf', 'utf8');
  for (const [key, name] of [
    ['in_spec', 'in'],
    ['in_stream_spec', 'in-stream'],
    ['out_spec', 'out'],
    ['in_req_spec', 'req'],
  ])
    zurl = set(zurl, 'General', key, `ipc://${dir}/zurl-${name}`);
  zurl = set(zurl, 'General', 'deny', '');
  // Requests zurl (Pushpin's HTTP client to the origin) has open at once: Debian's 2,000 answers
  // the rest 502 "Error while proxying to origin" when thousands of clients re-poll together.
  zurl = set(zurl, 'General', 'max_open_requests', process.env.BENCH_ZURL_MAX_OPEN_REQUESTS ?? 2000);
  writeFileSync(join(dir, 'zurl.conf'), zurl);
  writeFileSync(
    join(dir, 'internal.conf'),
    readFileSync('/usr/lib/pushpin/internal.conf', 'utf8').replaceAll('ipc:///var/run/zurl/zurl-', `ipc://${dir}/zurl-`),
  );
  let conf = readFileSync('/etc/pushpin/pushpin.conf', 'utf8');
  const settings = [
    ['global', 'include', join(dir, 'internal.conf')],
    ['global', 'rundir', join(dir, 'run')],
    ['runner', 'logdir', join(dir, 'log')],
    ['runner', 'http_port', httpPort],
    // Pushpin logs a line per request at the default level 2: that is CPU the bench would measure.
    ['runner', 'log_level', 1],
    ['proxy', 'routesfile', join(dir, 'routes')],
    ['proxy', 'sig_key', sigKey],
    ['handler', 'push_in_spec', `tcp://127.0.0.1:${pushIn}`],
    ['handler', 'push_in_sub_specs', `tcp://127.0.0.1:${pushSub}`],
    ['handler', 'push_in_http_port', publishPort],
    ['handler', 'command_spec', `tcp://127.0.0.1:${command}`],
    // Deliveries per second: the default 2,500 would spread a fan-out to 5,000 over 2 s.
    ['handler', 'message_rate', process.env.BENCH_PUSHPIN_MESSAGE_RATE ?? 100_000],
    ['handler', 'message_hwm', 200_000],
  ];
  for (const [section, key, value] of settings) conf = set(conf, section, key, String(value));
  writeFileSync(join(dir, 'pushpin.conf'), conf);
  writeFileSync(join(dir, 'routes'), `* ${origin}\n`);
  const children = [
    spawn('zurl', [`--config=${join(dir, 'zurl.conf')}`], { detached: true, stdio: 'ignore' }),
    spawn(
      'bash',
      [
        '-c',
        `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec pushpin --config ${join(dir, 'pushpin.conf')} --port 127.0.0.1:${httpPort}`,
      ],
      { detached: true, stdio: 'ignore' },
    ),
  ];
  const publishUrl = `http://127.0.0.1:${publishPort}`;
  for (let i = 0; ; i++) {
    try {
      const response = await fetch(`${publishUrl}/publish/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"items":[]}',
      });
      if (response.ok) break;
    } catch {
      // Not yet.
    }
    if (i > 300) throw new Error('Pushpin did not start');
    await sleep(100);
  }
  await sleep(500);
  return {
    port: httpPort,
    gripUrl: `${publishUrl}/?verify-key=${sigKey}`,
    /** CPU of Pushpin's processes (runner, condure, proxy, handler) and zurl. */
    cpuMs: () => pushpinPids(children).reduce((sum, pid) => sum + safeCpu(pid), 0),
    async stop() {
      for (const child of children) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Gone.
        }
      }
      await sleep(500);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function safeCpu(pid) {
  try {
    return cpuMs(pid);
  } catch {
    return 0;
  }
}

/** The processes of Pushpin's process groups. */
function pushpinPids(children) {
  const groups = new Set(children.map((child) => child.pid));
  const pids = [];
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
      if (groups.has(Number(fields[2]))) pids.push(Number(entry));
    } catch {
      // Ended meanwhile.
    }
  }
  return pids;
}

function readdirSafe(path) {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** The origin: bench/servers/hangtime.mjs (dist/), with or without `--grip`. */
async function startOrigin(log, redisUrl, gripUrl) {
  const args = ['--log', log, ...(redisUrl ? ['--redis-url', redisUrl] : []), ...(gripUrl ? ['--grip', gripUrl] : [])];
  const handle = spawnNode('servers/hangtime.mjs', args, { name: `origin-${log}` });
  const { port } = await nextMessage(handle, (m) => m?.type === 'ready', 20_000, 'origin start');
  const stats = async () => (await fetch(`http://127.0.0.1:${port}/_bench/stats`)).json();
  return { handle, port, pid: handle.child?.pid ?? handle.pid, stats };
}

/** N clients, each a loop of GET polls over keep-alive HTTP, counting events per sequence number. */
function startClients(port, n, channel, cursor) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, noDelay: true });
  const received = new Map(); // seq → count of clients that received it
  const duplicates = { count: 0, errors: 0, kinds: {} };
  const failed = (kind) => {
    duplicates.errors++;
    duplicates.kinds[kind] = (duplicates.kinds[kind] ?? 0) + 1;
  };
  const lastAt = new Map();
  let stopped = false;
  const clients = Array.from({ length: n }, () => ({ cursor, seen: new Set() }));
  const pollOnce = (client) => {
    if (stopped) return;
    const req = http.get(
      { host: '127.0.0.1', port, agent, path: `/poll?channels=${channel}&cursor=${client.cursor}&wait=${WAIT_S}` },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) {
            failed(`${res.statusCode} ${body.slice(0, 60)}`);
            return setTimeout(() => pollOnce(client), 250);
          }
          const answer = JSON.parse(body);
          for (const event of answer.events) {
            const seq = event.data.seq;
            if (client.seen.has(seq)) duplicates.count++;
            client.seen.add(seq);
            received.set(seq, (received.get(seq) ?? 0) + 1);
            lastAt.set(seq, performance.now());
          }
          client.cursor = answer.cursor;
          pollOnce(client);
        });
      },
    );
    req.on('error', (error) => {
      failed(error.code ?? error.message);
      setTimeout(() => pollOnce(client), 250);
    });
  };
  // Opened in batches: a burst of thousands of connections overflows accept queues.
  (async () => {
    for (let i = 0; i < clients.length; i += 200) {
      clients.slice(i, i + 200).forEach(pollOnce);
      await sleep(50);
    }
  })();
  return {
    received,
    lastAt,
    duplicates,
    stop() {
      stopped = true;
      agent.destroy();
    },
  };
}

async function waitFor(condition, timeoutMs, what) {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Connections to the bench's private Redis, less the monitor's own. */
const redisClients = async (redis) => Number((await redis.monitor.info('clients')).connected_clients) - 1;

/** Run one measurement: N clients, idle phase, fan-out rounds. */
/** Pushpins started and not stopped yet: stopped when the bench ends, also after a failure. */
const pushpins = new Set();

async function measure({ n, log, delegated, redis }) {
  let pushpin;
  let origin = await startOrigin(log, log === 'redis' ? redis?.url : undefined);
  if (delegated) {
    // Pushpin needs the origin's port, the origin the GRIP URL: start the origin again with it.
    pushpin = await startPushpin(`127.0.0.1:${origin.port}`);
    pushpins.add(pushpin);
    await stopChild(origin.handle);
    origin = await startOriginOnPort(log, redis?.url, pushpin.gripUrl, origin.port);
  }
  const port = delegated ? pushpin.port : origin.port;
  const channel = `bench-${Math.random().toString(36).slice(2, 8)}`;
  const publish = (seq) =>
    fetch(`http://127.0.0.1:${origin.port}/poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel, data: { seq } }),
    });
  // A first event, so that every later one has the event before it (GRIP prev-id).
  await publish(0);
  const start = await (await fetch(`http://127.0.0.1:${origin.port}/poll?channels=${channel}&wait=0`)).json();
  const redisBefore = redis ? await redisClients(redis) : undefined;
  const clients = startClients(port, n, channel, start.cursor);
  const polls = async () => (await origin.stats()).requests.polls;
  await waitFor(async () => (await polls()) >= n + 1, 60_000, 'every client polled once');
  await sleep(2_000); // Pushpin's first look at the channel (a request per held client) passes.

  const result = { n, log, mode: delegated ? 'delegated (Pushpin)' : 'in the function', errorsWhileConnecting: clients.duplicates.errors };
  // Idle: nobody publishes.
  const idle0 = { polls: await polls(), cpu: cpuMs(origin.pid), redis: redis ? await redisClients(redis) : undefined };
  await sleep(idleS * 1000);
  const idle1 = { polls: await polls(), cpu: cpuMs(origin.pid), redis: redis ? await redisClients(redis) : undefined };
  const stats = await origin.stats();
  Object.assign(result, {
    idleS,
    idleOriginRequests: idle1.polls - idle0.polls,
    idleOriginCpuMs: Math.round(idle1.cpu - idle0.cpu),
    heldInFunction: stats.waiting,
    redisConnectionsBeforeClients: redisBefore,
    redisConnectionsWhileWaiting: idle1.redis,
  });

  try {
    await fanout({ n, origin, pushpin, clients, publish, polls, result });
  } catch (error) {
    // What the origin reported (failed publishes) says where it broke.
    error.message += `; origin said: ${origin.handle.tail
      .filter((line) => !line.startsWith('    at '))
      .slice(-4)
      .join(' | ')
      .slice(0, 600)}`;
    throw error;
  } finally {
    clients.stop();
    await stopChild(origin.handle);
    await pushpin?.stop();
    pushpins.delete(pushpin);
  }
  return result;
}

/** Fan-out rounds: publish, wait until every client has it and polled again. */
async function fanout({ n, origin, pushpin, clients, publish, polls, result }) {
  const completions = [];
  let requests = 0;
  let cpu = 0;
  let pushpinCpu = 0;
  for (let seq = 1; seq <= rounds; seq++) {
    const before = { polls: await polls(), cpu: cpuMs(origin.pid), pushpin: pushpin?.cpuMs() ?? 0 };
    const t0 = performance.now();
    await publish(seq);
    await waitFor(() => (clients.received.get(seq) ?? 0) >= n, 60_000, `event ${seq} to every client`);
    completions.push(clients.lastAt.get(seq) - t0);
    // Every client polled again (and is held again) before the next event.
    await waitFor(async () => (await polls()) - before.polls >= n, 60_000, `re-polls after event ${seq}`);
    await sleep(500);
    requests += (await polls()) - before.polls;
    cpu += cpuMs(origin.pid) - before.cpu;
    pushpinCpu += (pushpin?.cpuMs() ?? 0) - before.pushpin;
  }
  Object.assign(result, {
    rounds,
    fanoutMsMedian: Math.round(completions.sort((a, b) => a - b)[Math.floor(completions.length / 2)]),
    fanoutMsMax: Math.round(Math.max(...completions)),
    // The publish itself is one request more per round (not a poll: not counted here).
    originRequestsPerDelivery: Math.round((requests / (rounds * n)) * 100) / 100,
    originCpuMsPerDelivery: Math.round((cpu / (rounds * n)) * 1000) / 1000,
    proxyCpuMsPerDelivery: pushpin ? Math.round((pushpinCpu / (rounds * n)) * 1000) / 1000 : undefined,
    duplicates: clients.duplicates.count,
    errors: clients.duplicates.errors,
    errorKinds: { ...clients.duplicates.kinds },
  });
}

async function startOriginOnPort(log, redisUrl, gripUrl, port) {
  const args = ['--log', log, ...(log === 'redis' ? ['--redis-url', redisUrl] : []), '--grip', gripUrl, '--port', String(port)];
  const handle = spawnNode('servers/hangtime.mjs', args, { name: `origin-${log}` });
  await nextMessage(handle, (m) => m?.type === 'ready', 20_000, 'origin start');
  const stats = async () => (await fetch(`http://127.0.0.1:${port}/_bench/stats`)).json();
  return { handle, port, pid: handle.child?.pid ?? handle.pid, stats };
}

const results = [];
let redis;
try {
  if (logs.includes('redis')) redis = await startRedis();
  for (const n of ns) {
    for (const log of logs) {
      for (const delegated of [true, false].filter((d) => modes.includes(d ? 'delegated' : 'function'))) {
        try {
          const result = await measure({ n, log, delegated, redis: log === 'redis' ? redis : undefined });
          results.push(result);
          console.log(JSON.stringify(result));
        } catch (error) {
          const failure = { n, log, mode: delegated ? 'delegated (Pushpin)' : 'in the function', failure: String(error?.message ?? error) };
          results.push(failure);
          console.log(JSON.stringify(failure));
        }
      }
    }
  }
} finally {
  for (const pushpin of pushpins) await pushpin.stop();
  await redis?.stop();
  await stopAll();
}
console.table(results);
