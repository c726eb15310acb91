import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { sleep } from '../support/redis.js';

/**
 * Private `redis-server` processes on free loopback ports, for tests that restart, pause or
 * count the commands of a Redis (the shared one at REDIS_URL serves other suites meanwhile),
 * and for the Cluster suite. Each lives in a temporary directory and is killed by `stop()`.
 */

/** Whether `redis-server` and `redis-cli` can be run here. */
export const redisBinaries = spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;

/**
 * `describe` for suites that start their own redis-server: skipped with one line when the
 * binaries are missing, except under `CI=true`, where that is a failure.
 */
export function describeWithServers(name: string, body: () => void): void {
  if (redisBinaries) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') throw new Error(`redis-server and redis-cli are needed for "${name}" in CI`);
  process.stderr.write(`Skipping "${name}": redis-server/redis-cli are not installed\n`);
  describe.skip(name, body);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Kill the process (the data of an `appendonly` server stays in its directory). */
  kill(): Promise<void>;
  /** Whether the process runs. */
  alive(): boolean;
  /** Start it again on the same port and directory. */
  restart(): Promise<void>;
  /** Kill it and remove its directory. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  readonly port?: number;
  /** Keep the data across restarts (`appendonly yes`, fsync always). */
  readonly persistent?: boolean;
  readonly extraArgs?: readonly string[];
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'hangtime-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.persistent ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
    ...(options.extraArgs ?? []),
  ];
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const started = spawn('redis-server', args, { stdio: 'ignore' });
    child = started;
    await waitForPing(port, started);
  };
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    alive: () => child !== undefined && child.exitCode === null,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPing(port: number, child: ChildProcess): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // Not listening yet.
    } finally {
      client.disconnect();
    }
    if (Date.now() - started > 10_000) throw new Error(`redis-server on port ${port} did not answer within 10 s`);
    await sleep(20);
  }
}

export interface RedisClusterProcesses {
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  stop(): Promise<void>;
}

/** The arguments of a cluster node on `port`. The cluster bus gets its own free port
 * (`busPort`: the default, port + 10000, may be taken). */
export function clusterNodeArgs(port: number, busPort: number, nodeTimeoutMs: number): string[] {
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-port',
    String(busPort),
    '--cluster-config-file',
    `nodes-${port}.conf`,
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
  ];
}

/** Three masters, no replicas, on free loopback ports; `stop()` kills them all. */
export async function startCluster(masters = 3): Promise<RedisClusterProcesses> {
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      servers.push(await startRedisServer({ port, extraArgs: clusterNodeArgs(port, await freePort(), 5_000) }));
    }
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...servers.map((server) => `127.0.0.1:${server.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await waitForClusterOk(servers[0]!.port);
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    throw error;
  }
  return {
    nodes: servers.map((server) => ({ host: '127.0.0.1', port: server.port })),
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}

async function waitForClusterOk(port: number): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    const started = Date.now();
    while (!String(await client.cluster('INFO')).includes('cluster_state:ok')) {
      if (Date.now() - started > 20_000) throw new Error('The Redis Cluster did not reach cluster_state:ok within 20 s');
      await sleep(50);
    }
  } finally {
    client.disconnect();
  }
}
