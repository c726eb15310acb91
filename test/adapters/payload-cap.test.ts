import { describe, expect, it } from 'vitest';
import { awsLambda } from '../../adapters/aws-lambda/index.js';
import { vercel } from '../../adapters/vercel/index.js';
import { createHangtime, type Hangtime } from '../../src/index.js';
import { LAMBDA_FIXTURES, lambdaEvent } from './events.js';
import { lambdaContext, resultBody, type PollBody } from './support.js';

const ALB = LAMBDA_FIXTURES.find((f) => f.format === 'alb-multi')!;

/**
 * Events of ~200 kB of JSON made of `"` and `\`, the worst case for a body that travels
 * JSON-escaped inside a Lambda result: each of their bytes becomes two.
 */
const bigEvent = (i: number) => ({ i, text: '"\\'.repeat(50_000) });

interface Platform {
  readonly name: string;
  /** The platform cap on what it carries: the Lambda result JSON for ALB, the body for Vercel. */
  readonly capBytes: number;
  readonly backlog: number;
  /** One poll; returns the parsed body and the size the platform would measure. */
  poll(hangtime: Hangtime, query: Array<[string, string]>): Promise<{ body: PollBody; platformBytes: number }>;
}

const PLATFORMS: Platform[] = [
  {
    name: 'AWS Lambda behind an ALB (1 MB result JSON)',
    capBytes: 1_000_000,
    backlog: 20,
    async poll(hangtime, query) {
      const result = await awsLambda(hangtime)(lambdaEvent(ALB, { query }), lambdaContext(10_000));
      expect(result.statusCode).toBe(200);
      // What the runtime sends to the ALB is the result serialised as JSON.
      return { body: JSON.parse(resultBody(result)) as PollBody, platformBytes: Buffer.byteLength(JSON.stringify(result)) };
    },
  },
  {
    name: 'Vercel (4.5 MB body)',
    capBytes: 4_500_000,
    backlog: 60,
    async poll(hangtime, query) {
      const url = `https://x.vercel.app/api/poll?${new URLSearchParams(query)}`;
      const response = await vercel(hangtime, { maxDuration: 60 })(new Request(url));
      expect(response.status).toBe(200);
      const text = await response.text();
      return { body: JSON.parse(text) as PollBody, platformBytes: Buffer.byteLength(text) };
    },
  },
];

describe.each(PLATFORMS)('a large backlog on $name', (platform) => {
  it('is split across polls: no answer over the cap, every event delivered exactly once, in order', async () => {
    // The server's own cap is far above the platform's, so only the adapter can keep answers in bounds.
    const hangtime = createHangtime({ maxResponseBytes: 50_000_000, maxEvents: 1_000 });
    for (let i = 0; i < platform.backlog; i++) await hangtime.log.append('big', bigEvent(i));

    const delivered: number[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (let polls = 0; polls < platform.backlog; polls++) {
      const query: Array<[string, string]> = [
        ['channels', 'big'],
        ['wait', '0'],
        cursor === undefined ? ['from', 'oldest'] : ['cursor', cursor],
      ];
      const { body, platformBytes } = await platform.poll(hangtime, query);
      sizes.push(platformBytes);
      delivered.push(...body.events.map((event) => (event.data as { i: number }).i));
      cursor = body.cursor;
      if (!body.more) break;
    }

    expect(delivered).toEqual(Array.from({ length: platform.backlog }, (_, i) => i));
    expect(sizes.length).toBeGreaterThan(2);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(platform.capBytes);
    // Cut to fit, not to crumbs: every full answer uses at least a third of the cap.
    for (const size of sizes.slice(0, -1)) expect(size).toBeGreaterThan(platform.capBytes / 3);
  });
});

describe('an event larger than any answer could carry', () => {
  it('is refused at append time, and a publish of one is a 413, never a platform error', async () => {
    const hangtime = createHangtime({ authorizePublish: () => true });
    await expect(hangtime.log.append('big', 'x'.repeat(300_000))).rejects.toThrow(RangeError);
    const body = new TextEncoder().encode(JSON.stringify({ channel: 'big', data: 'x'.repeat(300_000) }));
    const result = await awsLambda(hangtime)(
      lambdaEvent(ALB, { method: 'POST', body, headers: { 'content-type': 'application/json' }, query: [] }),
      lambdaContext(10_000),
    );
    expect(result.statusCode).toBe(413);
    expect(JSON.parse(resultBody(result))).toMatchObject({ error: { code: 'payload_too_large' } });
  });
});
