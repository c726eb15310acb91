import { readFileSync } from 'node:fs';
import type { EventLog, HandlerContext } from '../../src/index.js';

type Json = Record<string, unknown>;

/**
 * A saved event payload, with the front door's receive time set to now (the saved ones are
 * from years ago, and the adapter counts the front door's timeout from that instant).
 */
export function fixture<T = Json>(name: string, override: (event: Json) => void = () => {}): T {
  const event = JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Json;
  const context = event.requestContext as Json | undefined;
  if (context && 'requestTimeEpoch' in context) context.requestTimeEpoch = Date.now();
  if (context && 'timeEpoch' in context) context.timeEpoch = Date.now();
  override(event);
  return event as T;
}

/** A saved Web request (Vercel, Netlify v2) as a real `Request`. */
export function webRequest(platform: 'vercel' | 'netlify', init: RequestInit & { url?: string } = {}): Request {
  const saved = JSON.parse(readFileSync(new URL('./fixtures/web-requests.json', import.meta.url), 'utf8')) as Record<
    string,
    { url: string; method: string; headers: Array<[string, string]> }
  >;
  const { url, method, headers } = saved[platform]!;
  return new Request(init.url ?? url, { method, headers, ...init });
}

/** A Lambda context whose clock runs down from `remainingMs`, like the runtime's. */
export function lambdaContext(remainingMs: number): { getRemainingTimeInMillis(): number; awsRequestId: string } {
  const end = Date.now() + remainingMs;
  return { awsRequestId: 'test', getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) };
}

export interface Echo {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: string;
}

/** A Web handler that answers with what it received, and keeps the context it was given. */
export function echoHandler(): { handler: (request: Request, context?: HandlerContext) => Promise<Response>; contexts: HandlerContext[] } {
  const contexts: HandlerContext[] = [];
  return {
    contexts,
    handler: async (request, context) => {
      contexts.push(context ?? {});
      const echo: Echo = {
        method: request.method,
        url: request.url,
        headers: [...request.headers],
        body: Buffer.from(await request.arrayBuffer()).toString('base64'),
      };
      return Response.json(echo);
    },
  };
}

export type Delay = number | 'hang' | undefined;

/**
 * A test-only log that answers late, or never: `read`, `start` and `waitFor` are delayed by the
 * given milliseconds, or hang forever (`waitFor` then also ignores its abort signal, like a
 * blocking Redis read re-sent after a reconnect).
 */
export function slowLog(inner: EventLog, delays: { read?: Delay; start?: Delay; waitFor?: Delay }): EventLog {
  const later = async <T>(delay: Delay, work: () => Promise<T>): Promise<T> => {
    if (delay === 'hang') return new Promise<T>(() => {});
    if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
    return work();
  };
  return {
    get maxEventBytes() {
      return inner.maxEventBytes;
    },
    append: (channel, data) => inner.append(channel, data),
    read: (channel, after, options) => later(delays.read, () => inner.read(channel, after, options)),
    start: (channel, from) => later(delays.start, () => inner.start(channel, from)),
    waitFor: (targets, signal) => later(delays.waitFor, () => inner.waitFor(targets, signal)),
    isPosition: (position) => inner.isPosition(position),
    close: () => inner.close(),
  };
}

export interface Verdict {
  /** What the client got: the function's status, or the front door's own when it gave up. */
  readonly status: number;
  /** True when the front door answered because the function had not. */
  readonly cutOff: boolean;
  readonly elapsedMs: number;
  readonly body: string;
}

/**
 * A front door with a hard limit, enforced the way the platform does: when the function has not
 * answered by `limitMs`, the invocation is abandoned and the front door answers `status` itself
 * (504 for REST APIs and Vercel, 503 for HTTP APIs, 502 for ALB, Function URLs and Netlify).
 * Real timers; the abandoned invocation runs on, unobserved, as on the platform.
 */
export async function throughFrontDoor(
  invocation: () => Promise<{ status: number; body: string }>,
  limitMs: number,
  status: number,
): Promise<Verdict> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<'cut'>((resolve) => {
    timer = setTimeout(() => resolve('cut'), limitMs);
  });
  const outcome = await Promise.race([invocation(), cut]);
  clearTimeout(timer);
  const elapsedMs = Date.now() - started;
  if (outcome === 'cut') return { status, cutOff: true, elapsedMs, body: '' };
  return { status: outcome.status, cutOff: false, elapsedMs, body: outcome.body };
}

/** Decode a Lambda result's body. */
export function resultBody(result: { body: string; isBase64Encoded: boolean }): string {
  return result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
}

export interface PollBody {
  events: Array<{ channel: string; position: string; data: unknown }>;
  cursor: string;
  more: boolean;
}

/** Set environment variables for the duration of `work`, then restore them. */
export async function withEnvironment<T>(values: Record<string, string>, work: () => T | Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  Object.assign(process.env, values);
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
