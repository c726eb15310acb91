/**
 * The hangtime server of a stress run, as a process of its own (started by `servers.ts`): a
 * restart is then a real one (SIGKILL, every connection cut, a memory log's history gone), and
 * the subscribers' `fetch` does not share an event loop with the server (Node's fetch and a
 * `node:http` server in one busy process hold requests back for seconds, which would measure
 * the test rather than hangtime).
 *
 * Configured by the JSON in HANGTIME_STRESS_CONFIG. Over IPC it says `{ type: 'listening' }`,
 * and runs backend publishes: `{ type: 'append', rid, channel, data }` is answered with
 * `{ type: 'appended', rid, position }` or `{ type: 'append-failed', rid, error }`.
 */
import { createHangtime, memoryLog, type EventLog } from '../../src/index.js';
import { redisLog } from '../../src/redis/index.js';
import { serve, type NodeServer } from '../../adapters/node/index.js';

export interface ServerProcessConfig {
  readonly log: 'memory' | 'redis';
  readonly port: number;
  readonly maxWaitMs: number;
  readonly maxEvents: number;
  readonly logTimeoutMs: number;
  readonly redisUrl?: string;
  readonly prefix?: string;
  readonly commandTimeoutMs?: number;
}

export type ToServer = { type: 'append'; rid: number; channel: string; data: unknown };
export type FromServer =
  | { type: 'listening'; port: number }
  | { type: 'appended'; rid: number; position: string }
  | { type: 'append-failed'; rid: number; error: string }
  | { type: 'error'; status: number; message: string };

const send = (message: FromServer): void => {
  if (process.connected) process.send!(message);
};

async function main(): Promise<void> {
  const config = JSON.parse(process.env.HANGTIME_STRESS_CONFIG ?? '') as ServerProcessConfig;
  const log: EventLog =
    config.log === 'memory'
      ? memoryLog({ maxEventsPerChannel: 1_000_000 })
      : redisLog({
          url: config.redisUrl!,
          prefix: config.prefix!,
          maxEventsPerChannel: 1_000_000,
          commandTimeoutMs: config.commandTimeoutMs ?? 1_000,
          connectionName: 'ht-stress-server',
          onError: () => {},
        });
  const hangtime = createHangtime({
    log,
    maxWaitMs: config.maxWaitMs,
    maxEvents: config.maxEvents,
    logTimeoutMs: config.logTimeoutMs,
    authorizePublish: () => true,
    // A 500, or a log failure (503), is worth seeing in the test's report.
    onError: (error) =>
      send({ type: 'error', status: (error as { status?: number })?.status ?? 500, message: String((error as Error)?.stack ?? error) }),
  });
  let server: NodeServer | undefined;
  // The port of the previous life may take a moment to be free again.
  for (let attempt = 0; server === undefined; attempt++) {
    try {
      server = await serve(hangtime, { port: config.port });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  process.on('message', (message: ToServer) => {
    if (message.type !== 'append') return;
    log.append(message.channel, message.data).then(
      (position) => send({ type: 'appended', rid: message.rid, position }),
      (error: unknown) => send({ type: 'append-failed', rid: message.rid, error: String(error) }),
    );
  });
  // The test process went away: so does this one.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'listening', port: Number(new URL(server.url).port) });
}

main().catch((error: unknown) => {
  process.stderr.write(`stress server failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
