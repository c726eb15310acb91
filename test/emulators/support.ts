import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe } from 'vitest';
import { subscribe, type HangtimeClientError, type HangtimeEvent } from '../../src/client/index.js';
import { expectedByChannel, numbersByChannel, publishSpread, until } from '../client/support.js';
import { REDIS_URL, redisAvailable } from '../support/redis.js';

/**
 * Offline emulators for the end-to-end suites: serverless-offline (API Gateway REST and HTTP
 * API, ALB) and netlify-cli (Functions v1 and v2). They weigh several hundred MB, so they live in
 * their own folder (`test/emulators/tools`, installed by `.ci/run` or `install.sh` there), not in
 * the package's devDependencies.
 */
export const TOOLS = join(import.meta.dirname, 'tools', 'node_modules');
const INSTALL = 'bash test/emulators/tools/install.sh';

/** The CLI entry of a tool in the tools folder (run with this Node, not through a shell). */
export const SERVERLESS = join(TOOLS, 'serverless', 'bin', 'serverless.js');
export const NETLIFY = join(TOOLS, 'netlify-cli', 'bin', 'run.js');

const toolsInstalled = existsSync(SERVERLESS) && existsSync(NETLIFY) && existsSync(join(TOOLS, 'serverless-offline', 'package.json'));

/**
 * `describe` for the emulator suites: skipped with one line when the tools (or Redis) are
 * missing, except under `CI=true`, where missing tools are a failure (and missing Redis too:
 * `test/support/redis.ts` throws then).
 */
export function describeEmulator(name: string, body: () => void): void {
  if (toolsInstalled && redisAvailable) {
    describe(name, body);
    return;
  }
  if (!toolsInstalled && process.env.CI === 'true') {
    throw new Error(`The emulators are not installed in test/emulators/tools, and CI=true: run ${INSTALL} (.ci/run does)`);
  }
  if (firstToSkip()) {
    const why = toolsInstalled ? `no Redis answers at ${REDIS_URL}` : `the emulators are not installed (run ${INSTALL})`;
    process.stderr.write(`Skipping the emulator suites: ${why}\n`);
  }
  describe.skip(name, body);
}

/** Whether this is the first emulator suite of the run to skip (test files run in worker processes of one vitest process). */
function firstToSkip(): boolean {
  try {
    closeSync(openSync(join(tmpdir(), `hangtime-emulators-skipped-${process.ppid}`), 'wx'));
    return true;
  } catch {
    return false;
  }
}

/** A temporary folder for an emulator's project (create it in `beforeAll`), removed by `remove()`. */
export function projectFolder(name: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `hangtime-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Bundle function sources into `outdir` as ES modules, the way users deploy them (SAM and the
 * Serverless Framework bundle with esbuild; Netlify's bundler is esbuild). Built from the sources
 * in the test's setup, so that the suite tests the code as it is now without a prior
 * `npm run build`; the built package's entry points are tested by test/package.
 */
export async function bundle(entryPoints: Record<string, string>, outdir: string, format: 'esm' | 'cjs' = 'esm'): Promise<void> {
  await build({
    entryPoints,
    outdir,
    bundle: true,
    format,
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': format === 'esm' ? '.mjs' : '.cjs' },
    // ioredis is CommonJS and requires Node built-ins, which an ES module bundle cannot do alone.
    banner: format === 'esm' ? { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } : {},
    logLevel: 'warning',
  });
}

export interface Emulator {
  /** Everything it printed so far (for failure messages). */
  output(): string;
  /** Stop it and every process it started; resolves once they are gone. */
  stop(): Promise<void>;
}

/**
 * Start an emulator's CLI in its own process group, and wait until its output matches `ready`.
 * `stop()` ends the whole group (the emulators start worker processes and threads); an exit
 * hook does the same if the test process dies first.
 */
export async function startEmulator(
  cli: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; ready: RegExp; timeoutMs: number },
): Promise<Emulator> {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  const emulator: Emulator = {
    output: () => output,
    async stop() {
      process.off('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        killGroup('SIGTERM');
        const timer = setTimeout(() => killGroup('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      // Workers it started may outlive it for a moment: end them too.
      killGroup('SIGKILL');
    },
  };
  try {
    const started = Date.now();
    while (!options.ready.test(output)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${cli} exited before it was ready:\n${output}`);
      if (Date.now() - started > options.timeoutMs) throw new Error(`${cli} was not ready within ${options.timeoutMs} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  return emulator;
}

/** Add the emulator's last output to a failure's message: the cause is often there. */
export async function withOutput<T>(emulator: Emulator | undefined, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- emulator output (last 3000 characters) ---\n${emulator?.output().slice(-3_000) ?? ''}`, {
      cause: error,
    });
  }
}

/** Wait until `url` answers anything but 404 (the emulator has loaded the function). */
export async function waitForFunction(url: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      if (response.status !== 404) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${url} did not come up within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** One poll the client made through the emulator, as the client saw it. */
export interface Poll {
  readonly startedAt: number;
  readonly elapsedMs: number;
  readonly status: number;
  /** A 200 with a hangtime body (some emulators answer a timeout with a 200 of their own). */
  readonly fromHangtime: boolean;
  /** Events it brought. */
  readonly events: number;
}

export interface Delivery {
  /** The events received, as their numbers per channel, and what was published. */
  readonly events: Record<string, number[]>;
  readonly expected: Record<string, number[]>;
  readonly errors: readonly string[];
  readonly polls: readonly Poll[];
  /** How long the first poll that started once every event had arrived (nothing left to bring) was held. */
  readonly idleHoldMs: number;
}

type N = { n: number };

/**
 * Run `hangtime/client` through `url` while a concurrent publisher POSTs `count` events through
 * the same endpoint, round-robin over `channels` (each test its own: the tests share one log),
 * then keep polling until a hold that had nothing to bring has ended. Returns what the client
 * saw, for the test to judge with its own `expect` (the tests run concurrently).
 */
export async function deliverThrough(
  url: string,
  options: { channels: readonly string[]; count: number; spreadMs: number; limitMs: number; what: string },
): Promise<Delivery> {
  const { channels, count, spreadMs, limitMs, what } = options;
  const polls: Poll[] = [];
  const events: Array<HangtimeEvent<N>> = [];
  const errors: HangtimeClientError[] = [];
  let allArrivedAt = Infinity;
  const idleHold = () => polls.find((poll) => poll.startedAt > allArrivedAt && poll.fromHangtime && poll.events === 0);
  const timedFetch = async (input: string, init: RequestInit): Promise<Response> => {
    const startedAt = Date.now();
    const response = await fetch(input, init);
    const body = await response.text();
    const answer = response.status === 200 ? pollAnswer(body) : undefined;
    polls.push({
      startedAt,
      elapsedMs: Date.now() - startedAt,
      status: response.status,
      fromHangtime: answer !== undefined,
      events: answer?.events.length ?? 0,
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  const subscription = subscribe<N>(url, {
    channels,
    from: 'oldest',
    backoffMs: 100,
    maxBackoffMs: 1_000,
    fetch: timedFetch,
    onEvents: (batch) => {
      events.push(...batch);
      if (events.length >= count) allArrivedAt = Math.min(allArrivedAt, Date.now());
    },
    onError: (error) => errors.push(error),
  });
  try {
    await publishSpread({ append: (channel, data) => publish(url, channel, data) }, channels, count, spreadMs);
    await until(() => events.length >= count, 60_000, `${what}: all ${count} events`);
    // A hold that starts with nothing to bring ends at the function's deadline, empty.
    await until(() => idleHold() !== undefined, limitMs + 30_000, `${what}: an idle hold`);
  } finally {
    subscription.close();
  }
  return {
    events: numbersByChannel(events),
    expected: expectedByChannel(channels, count),
    errors: errors.map((error) => `${error.code} ${error.status ?? ''}: ${error.message}`),
    polls,
    idleHoldMs: idleHold()!.elapsedMs,
  };
}

function pollAnswer(body: string): { cursor: string; events: unknown[] } | undefined {
  try {
    const answer = JSON.parse(body) as { cursor?: unknown; events?: unknown };
    return typeof answer.cursor === 'string' && Array.isArray(answer.events) ? { cursor: answer.cursor, events: answer.events } : undefined;
  } catch {
    return undefined;
  }
}

/** Publish one event through the emulator, as a client with publish rights would. */
export async function publish(url: string, channel: string, data: unknown): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel, data }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`Publishing through ${url} answered ${response.status}: ${text}`);
  return (JSON.parse(text) as { position: string }).position;
}
