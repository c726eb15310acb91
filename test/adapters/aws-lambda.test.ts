import { describe, expect, it, vi } from 'vitest';
import type { APIGatewayProxyHandler, APIGatewayProxyHandlerV2, ALBHandler } from 'aws-lambda';
import { awsLambda, type LambdaHttpEvent, type LambdaHttpResult } from '../../adapters/aws-lambda/index.js';
import { createHangtime, memoryLog } from '../../src/index.js';
import { LAMBDA_FIXTURES, lambdaEvent, type LambdaFixture } from './events.js';
import { echoHandler, fixture, lambdaContext, resultBody, withEnvironment, type Echo, type PollBody } from './support.js';

const BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

/** What each saved request must arrive as, per front door. */
const EXPECTED: Record<LambdaFixture['name'], { origin: string; channels: string[]; custom: string }> = {
  'rest-v1': { origin: 'https://70ixmpl4fl.execute-api.us-east-2.amazonaws.com', channels: ['chat', 'news'], custom: 'one, two' },
  // API Gateway's format 2.0 joins repeated headers with a bare comma.
  'http-api-v2': { origin: 'https://r3pmxmplak.execute-api.us-east-2.amazonaws.com', channels: ['chat', 'news'], custom: 'one,two' },
  'function-url': {
    origin: 'https://a5xmpl3zhkd4qwlgdnr7ttu2rm0fwdsz.lambda-url.us-east-1.on.aws',
    channels: ['chat', 'news'],
    custom: 'one,two',
  },
  // Without multi-value headers, an ALB keeps the last value of each header and parameter.
  'alb-single': { origin: 'http://lambda-alb-123578498.us-east-2.elb.amazonaws.com', channels: ['news'], custom: 'two' },
  'alb-multi': { origin: 'https://lambda-alb-123578498.us-east-2.elb.amazonaws.com', channels: ['chat', 'news'], custom: 'one, two' },
};

async function echo(_which: LambdaFixture, event: LambdaHttpEvent): Promise<{ echo: Echo; result: LambdaHttpResult }> {
  const result = await awsLambda(echoHandler().handler)(event, lambdaContext(10_000));
  expect(result.statusCode).toBe(200);
  return { echo: JSON.parse(resultBody(result)) as Echo, result };
}

describe.each(LAMBDA_FIXTURES)('awsLambda with a saved $name event', (which) => {
  it('hands a Web handler the request as the client sent it', async () => {
    const { echo: seen } = await echo(which, lambdaEvent(which));
    const url = new URL(seen.url);
    const headers = new Headers(seen.headers);
    expect(seen.method).toBe('GET');
    expect(url.origin).toBe(EXPECTED[which.name].origin);
    expect(url.pathname).toBe('/poll');
    expect(url.searchParams.getAll('channels')).toEqual(EXPECTED[which.name].channels);
    expect(url.searchParams.get('q')).toBe('a b&c');
    expect(headers.get('x-custom')).toBe(EXPECTED[which.name].custom);
    expect(headers.get('cookie')).toMatch(/^session=abc123[;,] theme=dark$/);
    expect(headers.get('accept')).toBe('application/json');
    expect(seen.body).toBe('');
  });

  it('decodes a base64 request body byte for byte', async () => {
    const event = lambdaEvent(which, { method: 'POST', body: BYTES, headers: { 'Content-Type': 'application/octet-stream' } });
    const { echo: seen } = await echo(which, event);
    expect(seen.method).toBe('POST');
    expect([...Buffer.from(seen.body, 'base64')]).toEqual([...BYTES]);
  });

  it('answers a poll on the fast path: repeated channel keys, cookies seen by authorize, events in order', async () => {
    const hangtime = createHangtime({
      authorize: (request) => request.headers.get('cookie')?.includes('session=abc123') === true,
    });
    await hangtime.log.append('chat', { text: 'hi' });
    await hangtime.log.append('news', { title: 'extra' });
    const channels: Array<[string, string]> =
      which.format === 'alb'
        ? [['channels', 'chat,news']]
        : [
            ['channels', 'chat'],
            ['channels', 'news'],
          ];
    const event = lambdaEvent(which, { query: [...channels, ['from', 'oldest'], ['wait', '0']] });
    const result = await awsLambda(hangtime)(event, lambdaContext(10_000));
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(false);
    const body = JSON.parse(resultBody(result)) as PollBody;
    expect(body.events.map((e) => [e.channel, e.data])).toEqual([
      ['chat', { text: 'hi' }],
      ['news', { title: 'extra' }],
    ]);
    const headers = result.multiValueHeaders === undefined ? result.headers! : flatten(result.multiValueHeaders);
    expect(headers['content-type']).toBe('application/json; charset=utf-8');
    expect(headers['cache-control']).toBe('no-store');
  });

  it('publishes a base64-encoded JSON body on the fast path', async () => {
    const hangtime = createHangtime({ authorizePublish: () => true });
    const body = new TextEncoder().encode(JSON.stringify({ channel: 'chat', data: { text: 'héllo ✓' } }));
    const event = lambdaEvent(which, { method: 'POST', body, headers: { 'Content-Type': 'application/json' }, query: [] });
    const result = await awsLambda(hangtime)(event, lambdaContext(10_000));
    expect(result.statusCode).toBe(201);
    const read = await hangtime.log.read('chat', await hangtime.log.start('chat', 'oldest'), { limit: 10, maxBytes: 10_000 });
    expect(read.kind === 'events' && read.events.map((e) => JSON.parse(e.json))).toEqual([{ text: 'héllo ✓' }]);
  });

  it('shapes the answer for its front door: status, headers, every Set-Cookie', async () => {
    const onError = vi.fn();
    const handler = awsLambda(
      () => {
        const response = new Response('created', { status: 201, headers: { 'x-one': '1', 'content-type': 'text/plain' } });
        response.headers.append('set-cookie', 'a=1; Path=/; HttpOnly');
        response.headers.append('set-cookie', 'b=2; Path=/');
        return response;
      },
      { onError },
    );
    const result = await handler(lambdaEvent(which), lambdaContext(10_000));
    expect(result).toMatchObject({ statusCode: 201, body: 'created', isBase64Encoded: false });
    const cookies = ['a=1; Path=/; HttpOnly', 'b=2; Path=/'];
    switch (which.format) {
      case 'v2':
        expect(result.cookies).toEqual(cookies);
        expect(result.headers).toMatchObject({ 'x-one': '1' });
        expect(result.headers).not.toHaveProperty('set-cookie');
        break;
      case 'v1':
        expect(result.multiValueHeaders).toEqual({ 'set-cookie': cookies });
        expect(result.headers).toMatchObject({ 'x-one': '1' });
        break;
      case 'alb-multi':
        expect(result.statusDescription).toBe('201 Created');
        expect(result.multiValueHeaders).toMatchObject({ 'x-one': ['1'], 'set-cookie': cookies });
        expect(result.headers).toBeUndefined();
        break;
      case 'alb':
        // One header value per name: the second cookie cannot travel, and that is reported.
        expect(result.statusDescription).toBe('201 Created');
        expect(result.headers).toMatchObject({ 'x-one': '1', 'set-cookie': cookies[0] });
        expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringMatching(/multi_value_headers/) }));
        break;
    }
    if (which.format !== 'alb') expect(onError).not.toHaveBeenCalled();
  });

  it('sends binary answers base64-encoded and text as text', async () => {
    const binary = await awsLambda(() => new Response(BYTES, { headers: { 'content-type': 'image/png' } }))(
      lambdaEvent(which),
      lambdaContext(10_000),
    );
    expect(binary.isBase64Encoded).toBe(true);
    expect([...Buffer.from(binary.body, 'base64')]).toEqual([...BYTES]);
    // Declared as text but not UTF-8: sent as bytes, not mangled.
    const latin1 = await awsLambda(() => new Response(Uint8Array.of(0xe9, 0x74, 0xe9), { headers: { 'content-type': 'text/plain' } }))(
      lambdaEvent(which),
      lambdaContext(10_000),
    );
    expect(latin1.isBase64Encoded).toBe(true);
    expect([...Buffer.from(latin1.body, 'base64')]).toEqual([0xe9, 0x74, 0xe9]);
    const json = await awsLambda(() => Response.json({ ok: 'ü' }))(lambdaEvent(which), lambdaContext(10_000));
    expect(json).toMatchObject({ isBase64Encoded: false, body: '{"ok":"ü"}' });
  });
});

describe('awsLambda deadlines: the sooner of the function clock and the front door', () => {
  async function deadlineFor(
    name: LambdaFixture['name'],
    remainingMs: number | undefined,
    options = {},
    change: (event: Record<string, unknown>) => void = () => {},
  ) {
    const { handler, contexts } = echoHandler();
    const event = fixture<LambdaHttpEvent>(name, change);
    const now = Date.now();
    await awsLambda(handler, options)(event, remainingMs === undefined ? undefined : lambdaContext(remainingMs));
    return { context: contexts[0]!, now };
  }

  it.each([
    ['rest-v1', 29_000],
    ['http-api-v2', 30_000],
    ['alb-single', 60_000],
  ] as const)('%s: the front door limit (%i ms) when the function has longer', async (name, limitMs) => {
    const { context, now } = await deadlineFor(name, 300_000);
    expect(context.deadline! - now).toBeGreaterThan(limitMs - 1_000);
    expect(context.deadline! - now).toBeLessThanOrEqual(limitMs + 50);
  });

  it('function URL: the function clock alone', async () => {
    const { context, now } = await deadlineFor('function-url', 300_000);
    expect(context.deadline! - now).toBeGreaterThan(299_000);
    expect(context.deadline! - now).toBeLessThanOrEqual(300_050);
    expect((await deadlineFor('function-url', undefined)).context.deadline).toBeUndefined();
  });

  it.each(LAMBDA_FIXTURES)('$name: the function clock when it is sooner', async ({ name }) => {
    const { context, now } = await deadlineFor(name, 5_000);
    expect(context.deadline! - now).toBeGreaterThan(4_000);
    expect(context.deadline! - now).toBeLessThanOrEqual(5_050);
  });

  it('counts the front door limit from when API Gateway received the request (a cold start spends it)', async () => {
    const received = Date.now() - 10_000;
    const { context } = await deadlineFor('rest-v1', 300_000, {}, (event) => {
      (event.requestContext as Record<string, number>).requestTimeEpoch = received;
    });
    expect(context.deadline).toBe(received + 29_000);
    const v2 = await deadlineFor('http-api-v2', 300_000, {}, (event) => {
      (event.requestContext as Record<string, number>).timeEpoch = received;
    });
    expect(v2.context.deadline).toBe(received + 30_000);
  });

  it('frontDoorTimeoutMs raises a REST API limit, and is clamped to 30 s for HTTP APIs', async () => {
    const rest = await deadlineFor('rest-v1', 300_000, { frontDoorTimeoutMs: 120_000 });
    expect(rest.context.deadline! - rest.now).toBeGreaterThan(119_000);
    const http = await deadlineFor('http-api-v2', 300_000, { frontDoorTimeoutMs: 120_000 });
    expect(http.context.deadline! - http.now).toBeLessThanOrEqual(30_050);
    const url = await deadlineFor('function-url', 300_000, { frontDoorTimeoutMs: 60_000 });
    expect(url.context.deadline! - url.now).toBeLessThanOrEqual(60_050);
    expect(() => awsLambda(echoHandler().handler, { frontDoor: 'http-api', frontDoorTimeoutMs: 45_000 })).toThrow(
      'Expected `frontDoorTimeoutMs` to be at most 30000 on api-gateway-http, got 45000',
    );
  });

  it('maxWaitMs (option, else HANGTIME_MAX_WAIT_MS) caps holds as context.maxWaitMs; the deadline stays the platform limit', async () => {
    const option = await deadlineFor('rest-v1', 300_000, { maxWaitMs: 10_000 });
    expect(option.context.maxWaitMs).toBeGreaterThan(9_000);
    expect(option.context.maxWaitMs).toBeLessThanOrEqual(10_000);
    expect(option.context.deadline! - option.now).toBeGreaterThan(28_000);
    await withEnvironment({ HANGTIME_MAX_WAIT_MS: '5000', HANGTIME_SAFETY_MARGIN_MS: '500' }, async () => {
      const env = await deadlineFor('rest-v1', 300_000);
      expect(env.context.safetyMarginMs).toBe(500);
      expect(env.context.maxWaitMs).toBeLessThanOrEqual(5_000);
      const both = await deadlineFor('rest-v1', 300_000, { maxWaitMs: 8_000 });
      expect(both.context.maxWaitMs).toBeGreaterThan(7_000);
    });
  });

  it('HANGTIME_TIME_LIMIT_MS sets the front door limit; a malformed value fails at startup', async () => {
    await withEnvironment({ HANGTIME_TIME_LIMIT_MS: '12000' }, async () => {
      const { context, now } = await deadlineFor('alb-multi', 300_000);
      expect(context.deadline! - now).toBeLessThanOrEqual(12_050);
      expect(context.deadline! - now).toBeGreaterThan(11_000);
    });
    await withEnvironment({ HANGTIME_MAX_WAIT_MS: '10s' }, () => {
      expect(() => awsLambda(echoHandler().handler)).toThrow(
        'Expected the environment variable HANGTIME_MAX_WAIT_MS to be a number, got "10s"',
      );
    });
  });

  it('tells the core the front door payload cap, halved for JSON escaping', async () => {
    expect((await deadlineFor('alb-single', 10_000)).context).toMatchObject({ maxResponseBytes: 495_904, safetyMarginMs: 1_000 });
    expect((await deadlineFor('http-api-v2', 10_000)).context).toMatchObject({ maxResponseBytes: 2_995_904 });
  });
});

describe('awsLambda refuses what it cannot serve, clearly', () => {
  it('rejects events that are not HTTP events', async () => {
    const sqs = { Records: [{ messageId: '059f36b4-87a3-44ab-83d2-661975830a7d', body: 'hi', eventSource: 'aws:sqs' }] };
    await expect(awsLambda(echoHandler().handler)(sqs as unknown as LambdaHttpEvent)).rejects.toThrow(
      'awsLambda() handles HTTP events from API Gateway (REST or HTTP API), Function URLs and ALB; got { Records }',
    );
  });

  it('rejects events from another front door than the declared one', async () => {
    const handler = awsLambda(echoHandler().handler, { frontDoor: 'alb' });
    await expect(handler(fixture('http-api-v2'))).rejects.toThrow('set up for frontDoor "alb" but received an event from "http-api"');
    // Shapes that agree are the declared front door's: an HTTP API may send payload format 1.0.
    const { handler: echo, contexts } = echoHandler();
    await awsLambda(echo, { frontDoor: 'http-api' })(fixture('rest-v1'), lambdaContext(300_000));
    expect(contexts[0]!.deadline! - Date.now()).toBeGreaterThan(29_000);
  });

  it('validates options and the target at startup', () => {
    expect(() => awsLambda(echoHandler().handler, { timeout: 5 } as never)).toThrow(/^Unknown option `timeout` for awsLambda\(\)/);
    expect(() => awsLambda(echoHandler().handler, { frontDoor: 'cloudfront' as never })).toThrow(
      'Expected `frontDoor` to be one of rest, http-api, function-url, alb, got "cloudfront"',
    );
    expect(() => awsLambda(echoHandler().handler, { maxResponseBytes: -1 })).toThrow(
      'Expected `maxResponseBytes` to be a positive integer, got -1',
    );
    expect(() => awsLambda(null as never)).toThrow('Expected a hangtime instance (createHangtime()) or a Web handler');
  });

  it('fails at startup when the log accepts events an ALB answer could not carry', () => {
    const hangtime = createHangtime({ log: memoryLog({ maxEventBytes: 600_000 }), maxResponseBytes: 2_000_000 });
    expect(() => awsLambda(hangtime)).toThrow(/maxEventBytes \(600000\).*on alb the body travels JSON-escaped/);
    expect(() => awsLambda(hangtime, { frontDoor: 'http-api' })).not.toThrow();
  });

  it('answers a Web handler that throws with a clean 500, reported to onError', async () => {
    const onError = vi.fn();
    const result = await awsLambda(
      () => {
        throw new Error('boom');
      },
      { onError },
    )(fixture('http-api-v2'), lambdaContext(10_000));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ error: { code: 'internal', message: 'Internal error' } });
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'boom' }));
  });

  it('replaces a Web handler answer too large for the front door by a clean 500, not a platform 502', async () => {
    const onError = vi.fn();
    const big = '"'.repeat(400_000); // 400 kB of text, 800 kB once JSON-escaped
    const handler = awsLambda(() => new Response(big, { headers: { 'content-type': 'text/plain' } }), { onError });
    const alb = await handler(fixture('alb-multi'), lambdaContext(10_000));
    expect(alb.statusCode).toBe(200); // 800 kB fits 1 MB
    const bigger = awsLambda(() => new Response(big + big, { headers: { 'content-type': 'text/plain' } }), { onError });
    const tooLarge = await bigger(fixture('alb-multi'), lambdaContext(10_000));
    expect(tooLarge.statusCode).toBe(500);
    expect(onError).toHaveBeenCalledWith(expect.any(RangeError));
    expect((await bigger(fixture('http-api-v2'), lambdaContext(10_000))).statusCode).toBe(200);
  });
});

it('fits the handler types of @types/aws-lambda', () => {
  const handler = awsLambda(echoHandler().handler);
  const rest: APIGatewayProxyHandler = handler;
  const v2: APIGatewayProxyHandlerV2 = handler;
  const alb: ALBHandler = handler;
  expect([rest, v2, alb].every((h) => typeof h === 'function')).toBe(true);
});

function flatten(multi: Record<string, string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(multi).map(([k, v]) => [k, v.join(', ')]));
}
