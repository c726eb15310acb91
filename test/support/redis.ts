import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type Cluster } from 'ioredis';
import { describe } from 'vitest';

/**
 * Redis for tests: `REDIS_URL` (default `redis://127.0.0.1:6379`), a random key prefix per
 * test, and deletion of that prefix's keys afterwards. When no Redis answers, Redis suites
 * are skipped with one line saying why, except under `CI=true`, where that is a failure.
 */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function probe(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Whether Redis answered at `REDIS_URL` when this module loaded. */
export const redisAvailable = await probe(REDIS_URL);

if (!redisAvailable && process.env.CI === 'true') {
  throw new Error(`No Redis answers at ${REDIS_URL}, and CI=true: Redis suites must run in CI (start redis-server or set REDIS_URL)`);
}

/** `describe` for suites that need the Redis at `REDIS_URL`; skipped (with one line) without it. */
export function describeRedis(name: string, body: () => void): void {
  if (redisAvailable) {
    describe(name, body);
    return;
  }
  if (firstToSkip()) {
    process.stderr.write(`Skipping the Redis suites: no Redis answers at ${REDIS_URL} (start redis-server, or set REDIS_URL)\n`);
  }
  describe.skip(name, body);
}

/**
 * Whether this is the first suite file of the run to skip: test files run in separate worker
 * processes of one vitest process (their parent), so the first to create the marker says why.
 */
function firstToSkip(): boolean {
  try {
    closeSync(openSync(join(tmpdir(), `hangtime-redis-skipped-${process.ppid}`), 'wx'));
    return true;
  } catch {
    return false;
  }
}

/** A fresh key prefix: tests never see each other's keys, even when suites run in parallel. */
export function testPrefix(): string {
  return `hangtime-test-${Math.random().toString(36).slice(2, 10)}`;
}

/** A plain client for assertions and cleanup; the caller disconnects it. */
export function adminClient(url = REDIS_URL): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return client;
}

/** Delete every key under `prefix` (on every master of a Cluster). */
export async function deletePrefix(client: Redis | Cluster, prefix: string): Promise<void> {
  const nodes = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  await Promise.all(
    nodes.map(async (node) => {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        // One DEL per key: on a Cluster, keys of different channels live in different slots.
        await Promise.all(keys.map((key) => node.del(key)));
      } while (cursor !== '0');
    }),
  );
}

/** Resolve after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll a condition every 5 ms; reject after `timeoutMs` with `what` in the message. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * Commands a Redis server ran since its last `CONFIG RESETSTAT`, by name, from `INFO
 * commandstats` (subcommands as `client|unblock`). Commands a script runs (XADD, XRANGE, …)
 * count under their own names too, besides its EVALSHA; the caller's own INFO and CONFIG count
 * like any other command.
 */
export async function commandCalls(admin: Pick<Redis, 'info'>): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
  return calls;
}
