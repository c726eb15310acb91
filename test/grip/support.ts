import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createHangtime, type Hangtime, type HangtimeOptions } from '../../src/index.js';
import type { HangtimeRequest, PlainResponse } from '../../src/http.js';
import { gripProxy, type GripProxyOptions } from '../../src/grip/index.js';
import { toNodeListener } from '../../adapters/node/index.js';
import { startPushpin, type Pushpin } from '../support/pushpin.js';

/**
 * One real Pushpin per test file, in front of one origin server whose hangtime each test sets
 * (`useHangtime`): Pushpin starts once (half a second), each test has its own log, options and
 * channel names (Pushpin remembers the last id published per channel for a minute).
 */

export interface OriginRequest {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly proxied: boolean;
  /** When it arrived (epoch ms). */
  readonly at: number;
  /** The answer's Grip-Hold header, once answered. */
  gripHold?: string;
  status?: number;
}

export interface GripSetup {
  pushpin: Pushpin;
  /** The origin, for direct requests: `http://127.0.0.1:<port>`. */
  originUrl: string;
  /** Every request the origin got (since the test began). */
  requests: OriginRequest[];
  /** The hangtime the origin serves now. */
  hangtime: Hangtime;
  /** Called with every answer before it goes out (to time appends around a hold). */
  beforeAnswer: ((answer: PlainResponse, request: HangtimeRequest) => Promise<void> | void) | undefined;
  /** The GRIP URL of the test Pushpin, with its key. */
  gripUrl: string;
}

const cleanups: Array<() => Promise<void> | void> = [];

/** Run `cleanup` after the current test, whatever its outcome. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/** Start Pushpin and the origin for this file (stopped after it, also when tests fail). */
export function gripSetup(settings: { messageRate?: number } = {}): GripSetup {
  const setup = { requests: [], beforeAnswer: undefined } as unknown as GripSetup;
  let server: Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const record: OriginRequest = { url: req.url!, headers: req.headers, proxied: req.headers['grip-sig'] !== undefined, at: Date.now() };
      setup.requests.push(record);
      const respond = async (request: HangtimeRequest, context: object): Promise<PlainResponse> => {
        const answer = await setup.hangtime.respond(request, context);
        record.gripHold = answer.headers['grip-hold'];
        record.status = answer.status;
        await setup.beforeAnswer?.(answer, request);
        return answer;
      };
      toNodeListener({ respond })(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    setup.originUrl = `http://127.0.0.1:${port}`;
    setup.pushpin = await startPushpin({ origin: `127.0.0.1:${port}`, messageRate: settings.messageRate });
    setup.gripUrl = `${setup.pushpin.publishUrl}/?verify-key=${setup.pushpin.sigKey}`;
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    setup.requests.length = 0;
    setup.beforeAnswer = undefined;
  });
  afterAll(async () => {
    await setup.pushpin?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });
  return setup;
}

/** A hangtime with `grip` pointing at the test Pushpin, served by the origin for this test. */
export function useHangtime(setup: GripSetup, options: HangtimeOptions = {}, grip: GripProxyOptions = {}): Hangtime {
  const hangtime = createHangtime({ grip: gripProxy({ url: setup.gripUrl, ...grip }), ...options });
  setup.hangtime = hangtime;
  onCleanup(async () => {
    await hangtime.close();
    await hangtime.log.close();
  });
  return hangtime;
}

/** A channel name no other test (of any run) uses: Pushpin keeps ids per channel name. */
export const uniqueChannel = (name: string): string => `${name}-${Math.random().toString(36).slice(2, 10)}`;

export interface Answer {
  status: number;
  headers: Headers;
  body: { events: Array<{ channel: string; position: string; data: unknown }>; cursor: string; more: boolean; error?: { code: string } };
  ms: number;
}

/** GET `base/poll?query`, with the time it took. */
export async function get(base: string, query: string, init: RequestInit = {}): Promise<Answer> {
  const started = Date.now();
  const response = await fetch(`${base}/poll?${query}`, init);
  const body = (await response.json()) as Answer['body'];
  return { status: response.status, headers: response.headers, body, ms: Date.now() - started };
}

/** Wait until `condition` holds (checked every 10 ms), or fail after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
