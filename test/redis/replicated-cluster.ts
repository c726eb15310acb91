import { Redis } from 'ioredis';
import { sleep } from '../support/redis.js';
import { startProxy, type RedisProxy } from './proxy.js';
import { clusterNodeArgs, freePort, startRedisServer, type RedisServer } from './servers.js';

/**
 * A Redis Cluster with one replica per master, on free loopback ports, for failover tests:
 * built node by node (MEET, ADDSLOTSRANGE, REPLICATE) so that which node is whose replica is
 * known. A master can sit behind a TCP proxy (`proxied`): it announces the proxy's port, so
 * clients and its replica reach it through the proxy, while the cluster bus stays direct; the
 * proxy can then cut the replication link without the cluster noticing (see proxy.ts).
 */

export interface ClusterNode {
  readonly server: RedisServer;
  /** The port clients and replicas use (the proxy's, for a proxied master). */
  readonly port: number;
  readonly id: string;
  readonly proxy: RedisProxy | undefined;
  readonly busPort: number;
  /** A connection to the node itself (not through the proxy), for assertions. */
  readonly admin: Redis;
}

export interface ReplicatedCluster {
  readonly masters: readonly ClusterNode[];
  /** `replicas[i]` replicates `masters[i]`. */
  readonly replicas: readonly ClusterNode[];
  /** Startup nodes for an ioredis Cluster. */
  readonly startupNodes: ReadonlyArray<{ host: string; port: number }>;
  /** Whether `node` is a master now. */
  isMaster(node: ClusterNode): Promise<boolean>;
  /** Resolve once every live node says `cluster_state:ok` and agrees that `node` is a master. */
  waitForMaster(node: ClusterNode, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ReplicatedClusterOptions {
  readonly masters?: number;
  /** `cluster-node-timeout`: how long a node may be silent before a failover starts. */
  readonly nodeTimeoutMs?: number;
  /** Indexes of the masters to put behind a proxy. */
  readonly proxied?: readonly number[];
}

export async function startReplicatedCluster(options: ReplicatedClusterOptions = {}): Promise<ReplicatedCluster> {
  const count = options.masters ?? 3;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const nodes: ClusterNode[] = [];
  const start = async (proxied: boolean): Promise<ClusterNode> => {
    const port = await freePort();
    const busPort = await freePort();
    const proxy = proxied ? await startProxy(port) : undefined;
    const server = await startRedisServer({
      port,
      extraArgs: [
        ...clusterNodeArgs(port, busPort, nodeTimeoutMs),
        // A replica stalled for a while may still take over: the test decides what it lost.
        '--cluster-replica-validity-factor',
        '0',
        // Replicas sync at once (the default waits 5 s for more replicas to share a transfer).
        '--repl-diskless-sync-delay',
        '0',
        ...(proxy === undefined ? [] : ['--cluster-announce-port', String(proxy.port), '--cluster-announce-bus-port', String(busPort)]),
      ],
    });
    const admin = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    admin.on('error', () => {});
    const id = String(await admin.cluster('MYID'));
    const node: ClusterNode = { server, port: proxy?.port ?? port, id, proxy, busPort, admin };
    nodes.push(node);
    return node;
  };
  const stop = async () => {
    for (const node of nodes) node.admin.disconnect();
    await Promise.all(
      nodes.map(async (node) => {
        await node.proxy?.close();
        await node.server.stop();
      }),
    );
  };

  try {
    const masters: ClusterNode[] = [];
    const replicas: ClusterNode[] = [];
    for (let i = 0; i < count; i++) masters.push(await start(options.proxied?.includes(i) ?? false));
    for (let i = 0; i < count; i++) replicas.push(await start(false));
    const [first] = masters;
    for (const node of nodes.slice(1)) await first!.admin.cluster('MEET', '127.0.0.1', String(node.server.port), String(node.busPort));
    for (const [i, master] of masters.entries()) {
      const from = Math.floor((16384 * i) / count);
      const to = Math.floor((16384 * (i + 1)) / count) - 1;
      await master.admin.cluster('ADDSLOTSRANGE', String(from), String(to));
    }
    await until(
      async () => {
        for (const node of nodes)
          if (
            String(await node.admin.cluster('NODES'))
              .trim()
              .split('\n').length < nodes.length
          )
            return false;
        return true;
      },
      'every node to know every other',
      20_000,
    );
    for (const [i, replica] of replicas.entries()) await replica.admin.cluster('REPLICATE', masters[i]!.id);
    await until(
      async () => {
        for (const node of nodes) if (!String(await node.admin.cluster('INFO')).includes('cluster_state:ok')) return false;
        for (const master of masters) if (!/slave0:.*state=online/.test(await master.admin.info('replication'))) return false;
        return true;
      },
      'cluster_state:ok and every replica online',
      30_000,
    );

    const isMaster = async (node: ClusterNode) => /role:master/.test(await node.admin.info('replication'));
    return {
      masters,
      replicas,
      startupNodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
      isMaster,
      waitForMaster: (node, timeoutMs = 30_000) =>
        until(
          async () => {
            if (!(await isMaster(node))) return false;
            for (const other of nodes) {
              if (!other.server.alive()) continue;
              const info = String(await other.admin.cluster('INFO').catch(() => ''));
              if (!info.includes('cluster_state:ok')) return false;
              const view = String(await other.admin.cluster('NODES').catch(() => ''));
              if (!view.split('\n').some((line) => line.startsWith(node.id) && /[ ,]master[ ,]/.test(line))) return false;
            }
            return true;
          },
          `${node.id.slice(0, 8)} to be master everywhere`,
          timeoutMs,
        ),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!(await condition().catch(() => false))) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** A channel name whose slot belongs to `master`. */
export async function channelOn(master: ClusterNode, stem: string): Promise<string> {
  const ranges = String(await master.admin.cluster('NODES'))
    .split('\n')
    .find((line) => line.includes('myself'))!
    .split(' ')
    .slice(8)
    .map((range) => range.split('-').map(Number) as [number, number]);
  for (let n = 0; ; n++) {
    const name = `${stem}-${n}`;
    const slot = Number(await master.admin.cluster('KEYSLOT', name));
    if (ranges.some(([from, to]) => slot >= from && slot <= to)) return name;
  }
}
