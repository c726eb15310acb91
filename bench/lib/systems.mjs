// The systems under test. Each one is started fresh in its own process(es) for every stage and
// stopped after; the bench only talks to it over loopback HTTP, plus /proc for CPU and memory.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, cpuMs, freePort, memKiB, nextMessage, ROOT, sleep, spawnGuarded, spawnNode, stopChild, which } from './proc.mjs';

/**
 * @typedef {object} Running
 * @property {string} base     `http://127.0.0.1:port`
 * @property {() => number[]} pids  processes whose CPU and memory are the system's
 * @property {() => Promise<number>} held  polls held right now, verified as close to the wait as the system allows
 * @property {string} heldBy   how `held` knows
 * @property {() => Promise<void>} stop
 */

const NCHAN_MODULE_DIRS = ['/usr/lib/nginx/modules', '/usr/share/nginx/modules', '/etc/nginx/modules', '/usr/local/nginx/modules'];

export const SYSTEMS = [
  {
    id: 'floor',
    live: true,
    label: 'floor (bare node:http)',
    protocol: 'hangtime',
    usesRedis: false,
    available: () => ({ ok: true }),
    start: (ctx) => startNodeServer('servers/floor.mjs', [], ctx, 'the server’s own count'),
  },
  {
    id: 'memory',
    live: true,
    label: 'hangtime + memory log',
    protocol: 'hangtime',
    usesRedis: false,
    available: (ctx) => distAvailable(ctx, ['index', 'node']),
    start: (ctx) => startNodeServer('servers/hangtime.mjs', ['--log', 'memory'], ctx, 'memoryLog().stats().waiters'),
  },
  {
    id: 'redis',
    live: true,
    label: 'hangtime + Redis log',
    protocol: 'hangtime',
    usesRedis: true,
    available(ctx) {
      if (!existsSync(join(ctx.dist, 'redis.js')) && !existsSync(join(ROOT, 'src/redis/index.ts'))) {
        return { ok: false, reason: 'src/redis/index.ts does not exist yet (the Redis log, issue 3): nothing to measure' };
      }
      return distAvailable(ctx, ['index', 'node', 'redis']);
    },
    start: (ctx) =>
      startNodeServer(
        'servers/hangtime.mjs',
        ['--log', 'redis', '--redis-url', ctx.redisUrl],
        ctx,
        'log.stats().waiters, else hangtime.stats().waiting',
      ),
  },
  {
    id: 'naive',
    label: 'naive 1:1 (XREAD BLOCK per poll)',
    protocol: 'hangtime',
    usesRedis: true,
    available: () => ({ ok: true }),
    async start(ctx) {
      const running = await startNodeServer('servers/naive.mjs', ['--redis-url', ctx.redisUrl], ctx, 'Redis INFO blocked_clients');
      // Held means blocked inside Redis, not merely sent.
      running.held = async () => (await ctx.redis.monitor.clients()).blocked;
      return running;
    },
  },
  {
    id: 'workerd',
    label: 'hangtime in workerd (Worker + Durable Object log)',
    protocol: 'hangtime',
    usesRedis: false,
    available: (ctx) => distAvailable(ctx, ['index', 'cloudflare']),
    async start(ctx) {
      const running = await startNodeServer('servers/workerd.mjs', [], ctx, 'the channel’s Durable Object: waiters it holds');
      // workerd is a child of the Node process that started it; both are counted.
      running.pids = () => [running.handle.pid, ...childPids(running.handle.pid)];
      // Requests go to workerd itself (no `/_bench/memory`), whose heap is not Node's.
      running.heap = undefined;
      running.collect = undefined;
      return running;
    },
  },
  {
    id: 'nchan',
    label: 'Nchan (nginx, memory store, 1 worker)',
    protocol: 'nchan',
    usesRedis: false,
    available: () => nchanInstallation(),
    start: (ctx) => startNchan(ctx),
  },
];

function distAvailable(ctx, entries) {
  const missing = entries.filter((entry) => !existsSync(join(ctx.dist, `${entry}.js`)));
  if (missing.length > 0) return { ok: false, reason: `${missing.map((e) => `dist/${e}.js`).join(', ')} missing: run \`npm run build\`` };
  return { ok: true };
}

async function startNodeServer(script, args, ctx, heldBy) {
  const handle = spawnNode(script, args, { name: script.replace(/^servers\/|\.mjs$/g, ''), env: { BENCH_DIST: ctx.dist } });
  const { port } = await nextMessage(handle, (m) => m?.type === 'ready', 20_000, 'server ready');
  const base = `http://127.0.0.1:${port}`;
  const stats = await (await fetch(`${base}/_bench/stats`)).json();
  return {
    base,
    heldBy,
    // How the server built its log (the Redis log's options are probed, see servers/hangtime.mjs).
    construction: stats.construction,
    pids: () => [handle.pid],
    async held() {
      const response = await fetch(`${base}/_bench/stats`);
      return (await response.json()).held;
    },
    /** The server's `process.memoryUsage()`. */
    heap: async () => (await fetch(`${base}/_bench/memory`)).json(),
    /** A full collection in the server, then its heap in use (bench/lib/live.mjs). */
    async collect() {
      const answer = await (await fetch(`${base}/_bench/gc`)).json();
      if (answer.error !== undefined) throw new Error(answer.error);
      return answer;
    },
    stop: () => stopChild(handle),
    handle,
  };
}

/** nginx and the Nchan module, or why not. */
export function nchanInstallation() {
  const nginx = which('nginx');
  if (nginx === undefined) return { ok: false, reason: 'nginx is not installed (apt-get install -y nginx libnginx-mod-nchan)' };
  const dir = NCHAN_MODULE_DIRS.find((d) => existsSync(join(d, 'ngx_nchan_module.so')));
  if (dir === undefined) return { ok: false, reason: 'the Nchan module is not installed (apt-get install -y libnginx-mod-nchan)' };
  // `nginx -v` prints its version on stderr.
  const probe = spawnSync(nginx, ['-v'], { encoding: 'utf8' });
  const version = `${probe.stdout ?? ''}${probe.stderr ?? ''}`.trim() || 'unknown';
  let nchan = 'unknown';
  try {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
    nchan = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'libnginx-mod-nchan'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    // Not a Debian package: version unknown.
  }
  return { ok: true, nginx, module: join(dir, 'ngx_nchan_module.so'), version: version.replace(/^nginx version:\s*/, ''), nchan };
}

function nchanConfig({ module, port, dir, openFiles }) {
  return `load_module ${module};
user root;
worker_processes 1;
worker_rlimit_nofile ${openFiles};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${openFiles - 100}; multi_accept on; }
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  nchan_max_reserved_memory 256M;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /sub {
      nchan_subscriber longpoll;
      nchan_channel_id $arg_chid;
      nchan_subscriber_first_message newest;
      nchan_subscriber_timeout 120s;
    }
    location = /pub {
      nchan_publisher;
      nchan_channel_id $arg_chid;
      nchan_message_buffer_length 1000;
      nchan_message_timeout 1h;
    }
    location = /nchan_status { nchan_stub_status; }
  }
}
`;
}

async function startNchan(ctx) {
  const install = nchanInstallation();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hangtime-bench-nchan-'));
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, 'nginx.conf'), nchanConfig({ module: install.module, port, dir, openFiles: ctx.openFiles }));
  const handle = spawnGuarded(install.nginx, ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf')], { name: 'nginx' });
  const { pid: master } = await nextMessage(handle, (m) => m?.type === 'started', 10_000, 'nginx start');
  const base = `http://127.0.0.1:${port}`;
  const status = async () => {
    const response = await fetch(`${base}/nchan_status`);
    if (!response.ok) throw new Error(`nchan_status answered ${response.status}`);
    return response.text();
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await status();
      break;
    } catch (error) {
      if (attempt > 100 || handle.child.exitCode !== null) {
        await stopChild(handle);
        throw new Error(`nginx did not start: ${error.message}\n    ${handle.tail.slice(-5).join('\n    ')}`);
      }
      await sleep(50);
    }
  }
  return {
    base,
    heldBy: 'nchan_stub_status subscribers',
    // The master and its worker: the worker does the work, the master's share is shown too.
    pids: () => [master, ...childPids(master)],
    held: async () => Number(/subscribers:\s*(\d+)/.exec(await status())?.[1] ?? 0),
    async stop() {
      await stopChild(handle);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU ms and resident KiB summed over a system's processes. */
export function measure(running) {
  let cpu = 0;
  let rss = 0;
  let hwm = 0;
  for (const pid of running.pids()) {
    try {
      cpu += cpuMs(pid);
      const mem = memKiB(pid);
      rss += mem.rss;
      hwm += mem.hwm;
    } catch {
      // A process that ended is reported by the stage as an error.
    }
  }
  return { cpuMs: cpu, rssKiB: rss, hwmKiB: hwm };
}
