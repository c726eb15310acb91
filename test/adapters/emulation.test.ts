import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { awsLambda, type AwsLambdaOptions } from '../../adapters/aws-lambda/index.js';
import { netlify, netlifyV1, type NetlifyV1Event } from '../../adapters/netlify/index.js';
import { vercel } from '../../adapters/vercel/index.js';
import { vercelNode } from '../../adapters/vercel/node.js';
import { createHangtime, memoryLog, type EventLog, type Hangtime } from '../../src/index.js';
import { LAMBDA_FIXTURES, lambdaEvent, type LambdaFixture } from './events.js';
import { fixture, lambdaContext, resultBody, slowLog, throughFrontDoor, type Delay, type Verdict } from './support.js';

/**
 * Every front door, run under a hard limit the way its platform enforces it: the invocation is
 * abandoned when the limit passes and the front door answers 502/503/504 itself. The limits are
 * the real ones scaled down to LIMIT_MS; the timers are real.
 */
const LIMIT_MS = 3_500;
const MARGIN_MS = 1_600;

type Poll = (query: string) => Promise<{ status: number; body: string }>;

interface Door {
  readonly name: string;
  /** What the platform answers when the limit passes first. */
  readonly atLimit: number;
  serve(hangtime: Hangtime): Poll;
}

const byName = (name: LambdaFixture['name']) => LAMBDA_FIXTURES.find((f) => f.name === name)!;
const pairs = (query: string) => [...new URLSearchParams(query)] as Array<[string, string]>;

/** A Lambda front door: the function's own timeout runs on the context clock, the front door's on the emulator's. */
function lambdaDoor(
  name: string,
  which: LambdaFixture['name'],
  atLimit: number,
  functionTimeoutMs: number,
  options: AwsLambdaOptions,
): Door {
  return {
    name,
    atLimit,
    serve(hangtime) {
      const handler = awsLambda(hangtime, { safetyMarginMs: MARGIN_MS, ...options });
      return async (query) => {
        const result = await handler(lambdaEvent(byName(which), { query: pairs(query) }), lambdaContext(functionTimeoutMs));
        return { status: result.statusCode, body: resultBody(result) };
      };
    },
  };
}

const DOORS: Door[] = [
  // The function could run 10 s; API Gateway gives up first (29 s REST, 30 s HTTP API, scaled down).
  lambdaDoor('API Gateway REST', 'rest-v1', 504, 10_000, { frontDoorTimeoutMs: LIMIT_MS }),
  lambdaDoor('API Gateway HTTP API', 'http-api-v2', 503, 10_000, { frontDoorTimeoutMs: LIMIT_MS }),
  // No front door limit: the function's own timeout is the limit.
  lambdaDoor('Lambda Function URL', 'function-url', 502, LIMIT_MS, {}),
  lambdaDoor('ALB (single-value)', 'alb-single', 502, 10_000, { frontDoorTimeoutMs: LIMIT_MS }),
  lambdaDoor('ALB (multi-value)', 'alb-multi', 502, 10_000, { frontDoorTimeoutMs: LIMIT_MS }),
  {
    name: 'Vercel (Web)',
    atLimit: 504,
    serve(hangtime) {
      const handler = vercel(hangtime, { maxDuration: LIMIT_MS / 1000, safetyMarginMs: MARGIN_MS });
      return async (query) => {
        // Vercel buffers the whole answer: the body must be read within the limit too.
        const response = await handler(new Request(`https://x.vercel.app/api/poll?${query}`));
        return { status: response.status, body: await response.text() };
      };
    },
  },
  {
    name: 'Vercel (Node req, res)',
    atLimit: 504,
    serve(hangtime) {
      const handler = vercelNode(hangtime, { maxDuration: LIMIT_MS / 1000, safetyMarginMs: MARGIN_MS });
      return async (query) => {
        const server = createServer((req, res) => void handler(req, res));
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
          const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/poll?${query}`);
          return { status: response.status, body: await response.text() };
        } finally {
          server.closeAllConnections();
          server.close();
        }
      };
    },
  },
  {
    name: 'Netlify v2',
    atLimit: 502,
    serve(hangtime) {
      const handler = netlify(hangtime, { timeLimitMs: LIMIT_MS, safetyMarginMs: MARGIN_MS });
      return async (query) => {
        const response = await handler(new Request(`https://x.netlify.app/api/poll?${query}`), {});
        return { status: response.status, body: await response.text() };
      };
    },
  },
  {
    name: 'Netlify v1 (clock stubbed to 0 by a compatibility wrapper)',
    atLimit: 502,
    serve(hangtime) {
      const handler = netlifyV1(hangtime, { timeLimitMs: LIMIT_MS, safetyMarginMs: MARGIN_MS });
      return async (query) => {
        const event = fixture<NetlifyV1Event>('netlify-v1', (e) => {
          e.rawQuery = query;
        });
        const result = await handler(event, { getRemainingTimeInMillis: () => 0 });
        return { status: result.statusCode, body: resultBody(result) };
      };
    },
  },
  {
    name: 'Netlify v1 (real clock, default 60 s limit)',
    atLimit: 502,
    serve(hangtime) {
      const handler = netlifyV1(hangtime, { safetyMarginMs: MARGIN_MS });
      return async (query) => {
        const event = fixture<NetlifyV1Event>('netlify-v1', (e) => {
          e.rawQuery = query;
        });
        const result = await handler(event, lambdaContext(LIMIT_MS));
        return { status: result.statusCode, body: resultBody(result) };
      };
    },
  },
];

interface Scenario {
  readonly name: string;
  readonly delays: { read?: Delay; start?: Delay; waitFor?: Delay };
  /** Whether the poll carries a cursor (no `start` call) or starts `from=now` (one `start` per channel). */
  readonly withCursor: boolean;
  /** Append an event this long after the poll starts. */
  readonly appendAfterMs?: number;
  readonly expect: { status: number; events?: number; minElapsedMs?: number };
}

const SCENARIOS: Scenario[] = [
  {
    name: 'a healthy log, nothing new: the poll holds, then answers empty',
    delays: {},
    withCursor: true,
    expect: { status: 200, events: 0, minElapsedMs: 1_000 },
  },
  { name: 'an event during the hold', delays: {}, withCursor: true, appendAfterMs: 300, expect: { status: 200, events: 1 } },
  {
    name: 'a slow log (every call 400 ms late)',
    delays: { read: 400, start: 400, waitFor: 400 },
    withCursor: false,
    expect: { status: 200 },
  },
  // The hold reads once the log says an event follows the cursor: the event comes at 300 ms.
  { name: 'a log whose reads hang', delays: { read: 'hang' }, withCursor: true, appendAfterMs: 300, expect: { status: 503 } },
  { name: 'a log whose start hangs', delays: { start: 'hang' }, withCursor: false, expect: { status: 503 } },
  {
    name: 'a log whose waitFor hangs and ignores aborts',
    delays: { waitFor: 'hang' },
    withCursor: true,
    expect: { status: 200, events: 0 },
  },
];

async function cursorFor(log: EventLog, channel: string): Promise<string> {
  return (await createHangtime({ log }).wait({ channels: [channel], waitMs: 0 })).cursor;
}

async function runScenario(door: Door, scenario: Scenario): Promise<Verdict> {
  const inner = memoryLog();
  await inner.append('chat', 'before');
  const hangtime = createHangtime({ log: slowLog(inner, scenario.delays), maxWaitMs: 60_000 });
  const query = scenario.withCursor ? `channels=chat&cursor=${await cursorFor(inner, 'chat')}` : 'channels=chat';
  if (scenario.appendAfterMs !== undefined) setTimeout(() => void inner.append('chat', 'during'), scenario.appendAfterMs);
  return throughFrontDoor(() => door.serve(hangtime)(query), LIMIT_MS, door.atLimit);
}

describe.concurrent('every front door under its hard limit (502/503/504 when it passes)', () => {
  // One test per scenario; the front doors run side by side inside it (real timers, mostly idle).
  it.each(SCENARIOS)('answers before the limit with $name', async (scenario) => {
    const verdicts = await Promise.all(DOORS.map(async (door) => ({ door, verdict: await runScenario(door, scenario) })));
    for (const { door, verdict } of verdicts) {
      const where = `${door.name}, after ${verdict.elapsedMs} ms`;
      expect(verdict.cutOff, `${where}: cut off by the front door (${door.atLimit})`).toBe(false);
      expect(verdict.elapsedMs, where).toBeLessThan(LIMIT_MS);
      expect(verdict.status, where).toBe(scenario.expect.status);
      const body = JSON.parse(verdict.body) as { events?: unknown[]; error?: { code: string } };
      if (scenario.expect.status === 503) expect(body.error?.code, where).toBe('log_unavailable');
      if (scenario.expect.events !== undefined) expect(body.events, where).toHaveLength(scenario.expect.events);
      if (scenario.expect.minElapsedMs !== undefined) expect(verdict.elapsedMs, where).toBeGreaterThanOrEqual(scenario.expect.minElapsedMs);
    }
  });
});

describe('the emulated front door is a real limit', () => {
  it('cuts off a Lambda adapter told a longer front door timeout than the real one (504)', async () => {
    const misconfigured = lambdaDoor('REST, misconfigured', 'rest-v1', 504, 10_000, { frontDoorTimeoutMs: 10_000 });
    const verdict = await runScenario(misconfigured, SCENARIOS[0]!);
    expect(verdict).toMatchObject({ cutOff: true, status: 504 });
  });
});
