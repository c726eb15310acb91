import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { FromServer, ServerProcessConfig, ToServer } from './server-process.js';

/**
 * The hangtime server of a stress run as a child process (see server-process.ts for why),
 * restarted the hard way: SIGKILL, then a new process on the same port. Plain `node` cannot
 * import TypeScript, so the entry is bundled with esbuild first, as `npm start` does.
 */
export interface ServerProcess {
  /** The endpoint, `http://127.0.0.1:port/poll`. */
  readonly url: string;
  /** Lives so far (1 before any restart). */
  readonly lives: number;
  /** Failures the server reported through `onError`, with the status they answered. */
  readonly errors: ReadonlyArray<{ status: number; message: string }>;
  /** Backend publishing: `log.append` inside the server process. Rejects when the process
   * died before answering (the event may or may not have been appended). */
  append(channel: string, data: unknown): Promise<string>;
  /** Kill the process (SIGKILL) and start a new one on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let bundled: Promise<string> | undefined;

/** Bundle server-process.ts once per test process. */
function bundle(): Promise<string> {
  bundled ??= (async () => {
    // Under node_modules so that the bundle's bare imports (ioredis) resolve.
    const outdir = join(root, 'node_modules', '.cache', 'hangtime-stress');
    const outfile = join(outdir, `server-${process.pid}.mjs`);
    const { outputFiles } = await build({
      entryPoints: [join(root, 'test', 'stress', 'server-process.ts')],
      write: false,
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'warning',
    });
    mkdirSync(outdir, { recursive: true });
    writeFileSync(`${outfile}.tmp`, outputFiles[0]!.contents);
    renameSync(`${outfile}.tmp`, outfile);
    process.once('exit', () => rmSync(outfile, { force: true }));
    return outfile;
  })();
  return bundled;
}

export async function startServerProcess(config: Omit<ServerProcessConfig, 'port'>): Promise<ServerProcess> {
  const file = await bundle();
  let port = 0;
  let lives = 0;
  let child: ChildProcess | undefined;
  let closed = false;
  const errors: Array<{ status: number; message: string }> = [];
  const pending = new Map<number, { resolve: (position: string) => void; reject: (error: Error) => void }>();
  let nextRid = 0;

  const launch = async (): Promise<void> => {
    const started = fork(file, [], {
      env: { ...process.env, HANGTIME_STRESS_CONFIG: JSON.stringify({ ...config, port }) },
      execArgv: [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    started.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
    started.on('message', (message: FromServer) => {
      if (message.type === 'appended' || message.type === 'append-failed') {
        const waiter = pending.get(message.rid);
        pending.delete(message.rid);
        if (message.type === 'appended') waiter?.resolve(message.position);
        else waiter?.reject(new Error(message.error));
      } else if (message.type === 'error') errors.push({ status: message.status, message: message.message });
    });
    started.on('exit', () => {
      // Whatever was sent to this process and not answered: unknown, never acknowledged.
      for (const [rid, waiter] of pending) {
        pending.delete(rid);
        waiter.reject(new Error('The server process died before answering'));
      }
    });
    port = await new Promise<number>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`The stress server exited (${code}) before listening: ${stderr}`));
      started.once('exit', onExit);
      started.on('message', (message: FromServer) => {
        if (message.type !== 'listening') return;
        started.off('exit', onExit);
        resolve(message.port);
      });
    });
    child = started;
    lives++;
  };

  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  await launch();
  return {
    url: `http://127.0.0.1:${port}/poll`,
    get lives() {
      return lives;
    },
    errors,
    append(channel, data) {
      const running = child;
      if (running === undefined || !running.connected) return Promise.reject(new Error('The server process is not running'));
      return new Promise((resolve, reject) => {
        const rid = nextRid++;
        pending.set(rid, { resolve, reject });
        running.send({ type: 'append', rid, channel, data } satisfies ToServer, (error) => {
          if (error === null || !pending.has(rid)) return;
          pending.delete(rid);
          reject(error);
        });
      });
    },
    async restart() {
      if (closed) throw new Error('The server process is closed');
      await kill();
      await launch();
    },
    async close() {
      closed = true;
      await kill();
    },
  };
}
