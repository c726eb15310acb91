import { describe, expect, it } from 'vitest';
import { awsLambda } from '../../adapters/aws-lambda/index.js';
import { netlify } from '../../adapters/netlify/index.js';
import { vercel } from '../../adapters/vercel/index.js';
import { createHangtime, type Hangtime } from '../../src/index.js';
import { LAMBDA_FIXTURES, lambdaEvent } from './events.js';
import { echoHandler, lambdaContext, withEnvironment } from './support.js';

/**
 * An adapter's `maxWaitMs` (or HANGTIME_MAX_WAIT_MS) caps holds like the client's `wait`: a hold
 * it ends is a `timeout` in Server-Timing, and `deadline` stays the platform's limit alone.
 */

const URL_BASE = 'https://hangtime-example.app/api/poll?channels=chat';
const functionUrl = LAMBDA_FIXTURES.find((which) => which.name === 'function-url')!;

/** Run one poll through an adapter with `maxWaitMs: 600` and a far platform limit: Server-Timing and elapsed ms. */
const ADAPTERS: Array<[string, (hangtime: Hangtime) => Promise<{ timing: string | null | undefined }>]> = [
  [
    'vercel()',
    async (hangtime) => {
      const response = await vercel(hangtime, { maxDuration: 300, maxWaitMs: 600 })(new Request(URL_BASE));
      return { timing: response.headers.get('server-timing') };
    },
  ],
  [
    'netlify()',
    async (hangtime) => {
      const response = await netlify(hangtime, { maxWaitMs: 600 })(new Request(URL_BASE));
      return { timing: response.headers.get('server-timing') };
    },
  ],
  [
    'awsLambda() behind a function URL',
    async (hangtime) => {
      const result = await awsLambda(hangtime, { maxWaitMs: 600 })(
        lambdaEvent(functionUrl, { query: [['channels', 'chat']] }),
        lambdaContext(300_000),
      );
      const headers = result.headers as Record<string, string | number | boolean> | undefined;
      return { timing: String(headers?.['server-timing'] ?? headers?.['Server-Timing']) };
    },
  ],
];

describe('an adapter maxWaitMs', () => {
  it.each(ADAPTERS)('%s: a hold it ends reports `timeout`, not `deadline`', async (_, run) => {
    const hangtime = createHangtime({ maxWaitMs: 60_000 });
    const started = Date.now();
    const { timing } = await run(hangtime);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(timing).toMatch(/desc="timeout"/);
  });

  it('is handed to a Web handler as `context.maxWaitMs`, the deadline left to the platform', async () => {
    const { handler, contexts } = echoHandler();
    const now = Date.now();
    await vercel(handler, { maxDuration: 300, maxWaitMs: 20_000 })(new Request(URL_BASE));
    await withEnvironment({ HANGTIME_MAX_WAIT_MS: '10000' }, () => vercel(handler, { maxDuration: 300 })(new Request(URL_BASE)));
    const [option, environment] = contexts.map((context) => context.maxWaitMs!);
    // Counted from the arrival: at most a few ms spent before the handler ran.
    expect(option).toBeGreaterThan(19_000);
    expect(option).toBeLessThanOrEqual(20_000);
    expect(environment).toBeGreaterThan(9_000);
    expect(environment).toBeLessThanOrEqual(10_000);
    for (const context of contexts) expect(context.deadline! - now).toBeGreaterThan(290_000);
  });
});
