import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createHangtime, memoryLog, type Hangtime, type HangtimeOptions, type MemoryLog } from '../../src/index.js';
import { serve, type NodeServer } from '../../adapters/node/index.js';
import type { Clock, HangtimeEvent } from '../../src/client/index.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Run `cleanup` after the current test, whatever its outcome. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

export interface TestServer {
  hangtime: Hangtime;
  log: MemoryLog;
  /** The poll endpoint, `http://127.0.0.1:port/poll`. */
  url: string;
  port: number;
  /** Stop the HTTP server (the log stays, unless `restart` is given a new one). */
  stop(): Promise<void>;
  /** Listen again on the same port, with the same log or a new one (a memory log's restart). */
  restart(options?: { freshLog?: boolean }): Promise<void>;
}

/** A hangtime endpoint on a real `node:http` server on a free loopback port, stopped after the test. */
export async function startServer(options: Omit<HangtimeOptions, 'log'> & { log?: MemoryLog } = {}): Promise<TestServer> {
  let log = options.log ?? memoryLog();
  let hangtime = createHangtime({ maxWaitMs: 2_000, ...options, log });
  let server: NodeServer | undefined = await serve(hangtime, { port: 0 });
  const port = Number(new URL(server.url).port);
  const test: TestServer = {
    get hangtime() {
      return hangtime;
    },
    get log() {
      return log;
    },
    url: `${server.url}/poll`,
    port,
    async stop() {
      await server?.close();
      server = undefined;
    },
    async restart({ freshLog = false } = {}) {
      await test.stop();
      if (freshLog) {
        await log.close();
        log = memoryLog();
      }
      // A restarted server is a new hangtime (serve().close() shut the old one down), over the
      // same log or a new one.
      hangtime = createHangtime({ maxWaitMs: 2_000, ...options, log });
      server = await serve(hangtime, { port });
    },
  };
  onCleanup(async () => {
    await test.stop();
    await log.close();
  });
  return test;
}

/** What the proxy does with one request: pass it on, or answer with a gateway error before
 * forwarding (the function never ran) or after (it ran, its answer is lost). */
export type Fault = 'forward' | { status: number; when: 'before' | 'after'; headers?: Record<string, string> };

export interface FaultProxy {
  url: string;
  /** Requests seen, in order. */
  readonly requests: string[];
  /** Decides each request's fate; replace at will. */
  decide: (request: IncomingMessage, index: number) => Fault;
}

/** A loopback reverse proxy in front of `target` that injects the answers a platform gives at its limits. */
export async function startProxy(target: string, decide: FaultProxy['decide'] = () => 'forward'): Promise<FaultProxy> {
  const upstream = new URL(target);
  const proxy: FaultProxy = { url: '', requests: [], decide };
  const gatewayError = (res: ServerResponse, fault: Exclude<Fault, 'forward'>) => {
    res.writeHead(fault.status, { 'content-type': 'text/html', ...fault.headers });
    res.end(`<html><body>${fault.status} from the test gateway</body></html>`);
  };
  const server: Server = createServer((req, res) => {
    const fault = proxy.decide(req, proxy.requests.push(req.url ?? '') - 1);
    if (fault !== 'forward' && fault.when === 'before') {
      req.resume();
      gatewayError(res, fault);
      return;
    }
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (fault !== 'forward') {
          answer.resume();
          answer.on('end', () => gatewayError(res, fault));
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // The client left (close, abort): end the upstream poll too, as a real gateway does.
    res.on('close', () => forwarded.destroy());
    forwarded.on('error', () => {
      if (!res.headersSent) gatewayError(res, { status: 502, when: 'before' });
      else res.destroy();
    });
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  proxy.url = `http://127.0.0.1:${port}${upstream.pathname}`;
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return proxy;
}

/** Publish `count` numbered events, spread over `spreadMs`, round-robin over `channels`. */
export async function publishSpread(
  log: { append(channel: string, data: unknown): Promise<string> },
  channels: readonly string[],
  count: number,
  spreadMs: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    await log.append(channels[i % channels.length]!, { n: i });
    await sleep(Math.random() * ((2 * spreadMs) / count));
  }
}

/** The events received per channel, as the `n` they carry. */
export function numbersByChannel(events: ReadonlyArray<HangtimeEvent<{ n: number }>>): Record<string, number[]> {
  const result: Record<string, number[]> = {};
  for (const event of events) (result[event.channel] ??= []).push(event.data.n);
  return result;
}

/** What `publishSpread` sent, per channel. */
export function expectedByChannel(channels: readonly string[], count: number, start = 0): Record<string, number[]> {
  const result: Record<string, number[]> = {};
  for (let i = start; i < start + count; i++) (result[channels[i % channels.length]!] ??= []).push(i);
  return result;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until `condition()` holds; fail after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** The client's clock, driven by the test. */
export interface FakeClock extends Required<Clock> {
  /** The timers scheduled and not yet fired or cleared, as ms from now. */
  pending(): number[];
  /** Move time forward by `ms`, firing the timers that fall due, in order. */
  advance(ms: number): void;
}

/**
 * A clock for the client's `clock` option. Written here rather than taken from vitest: its
 * fake timers replace the process's globals, and would also stop the real server's holds and
 * sockets in this process; this one steers the client alone. `now` is virtual time unless
 * given (`Date.now`: real time, for the rules that measure how long a real answer took).
 */
export function fakeClock(now?: () => number): FakeClock {
  let time = 1_700_000_000_000;
  let last = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: now ?? (() => time),
    setTimeout: (callback, ms) => (timers.set(++last, { at: time + ms, callback }), last),
    clearTimeout: (handle) => void timers.delete(handle as number),
    pending: () => [...timers.values()].map((timer) => timer.at - time),
    advance(ms) {
      const end = time + ms;
      for (;;) {
        const due = [...timers].filter(([, timer]) => timer.at <= end).sort(([a, x], [b, y]) => x.at - y.at || a - b)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        time = due[1].at;
        due[1].callback();
      }
      time = end;
    },
  };
}
