// The bench's Redis: a private redis-server on a free loopback port, so that connection counts
// and command counts belong to the system under test alone (other suites share :6379). Falls
// back to REDIS_URL (or --redis-url) when redis-server is not installed, and says the figures
// are then shared with whoever else uses that Redis.
import { Redis } from 'ioredis';
import { freePort, nextMessage, sleep, spawnGuarded, stopChild, which } from './proc.mjs';

export async function startRedis({ url } = {}) {
  const binary = url ? undefined : which('redis-server');
  if (binary === undefined) {
    const shared = url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const monitor = await RedisMonitor.connect(shared);
    return { url: shared, private: false, monitor, stop: () => monitor.close() };
  }
  const port = await freePort();
  // maxclients stays at Redis' default (10,000): the naive design is meant to meet it.
  const handle = spawnGuarded(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '10000'],
    {
      name: 'redis-server',
    },
  );
  await nextMessage(handle, (m) => m?.type === 'started', 10_000, 'redis-server start');
  const privateUrl = `redis://127.0.0.1:${port}`;
  let monitor;
  for (let attempt = 0; ; attempt++) {
    try {
      monitor = await RedisMonitor.connect(privateUrl);
      break;
    } catch (error) {
      if (attempt > 50) throw error;
      await sleep(100);
    }
  }
  return {
    url: privateUrl,
    private: true,
    pid: handle.pid,
    monitor,
    async stop() {
      await monitor.close();
      await stopChild(handle);
    },
  };
}

/** Parse `INFO` text into { field: value }. */
export function parseInfo(text) {
  const fields = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

/**
 * One connection that reads INFO. It counts its own commands so that command deltas
 * subtract exactly what the measurement itself sent.
 */
export class RedisMonitor {
  static async connect(url) {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null });
    // Failures surface as rejected commands; the event would only be logged by ioredis.
    redis.on('error', () => {});
    await redis.connect();
    const monitor = new RedisMonitor(redis);
    monitor.version = (await monitor.info('server')).redis_version;
    return monitor;
  }

  constructor(redis) {
    this.redis = redis;
    this.own = new Map();
  }

  async command(name, ...args) {
    this.own.set(name, (this.own.get(name) ?? 0) + 1);
    return this.redis.call(name, ...args);
  }

  async info(section) {
    return parseInfo(await this.command('info', section));
  }

  async clients() {
    const info = await this.info('clients');
    return { connected: Number(info.connected_clients), blocked: Number(info.blocked_clients) };
  }

  async usedMemory() {
    return Number((await this.info('memory')).used_memory);
  }

  /** Calls per command so far, and the monitor's own commands sent before this one. */
  async commandStats() {
    const own = new Map(this.own);
    const info = await this.info('commandstats');
    const calls = new Map();
    for (const [key, value] of Object.entries(info)) {
      if (!key.startsWith('cmdstat_')) continue;
      calls.set(key.slice('cmdstat_'.length), Number(/calls=(\d+)/.exec(value)?.[1] ?? 0));
    }
    return { calls, own };
  }

  flush() {
    return this.command('flushall');
  }

  close() {
    this.redis.disconnect();
  }
}

/** Commands others sent between two snapshots, by name (the monitor's own removed). */
export function commandDelta(before, after) {
  const delta = {};
  let total = 0;
  for (const [name, calls] of after.calls) {
    const own = (after.own.get(name) ?? 0) - (before.own.get(name) ?? 0);
    const count = calls - (before.calls.get(name) ?? 0) - own;
    if (count > 0) {
      delta[name] = count;
      total += count;
    }
  }
  return { total, byCommand: delta };
}
