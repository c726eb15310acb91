import { describe, expect, it, vi } from 'vitest';
import { netlify, netlifyV1, type NetlifyV1Event } from '../../adapters/netlify/index.js';
import { createHangtime } from '../../src/index.js';
import { echoHandler, fixture, lambdaContext, resultBody, webRequest, withEnvironment, type Echo, type PollBody } from './support.js';

const BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

describe('netlify(): Functions v2', () => {
  it('answers a saved Netlify request: repeated channel keys, the cookie seen by authorize', async () => {
    const hangtime = createHangtime({ authorize: (request) => request.headers.get('cookie')?.startsWith('session=abc123') === true });
    await hangtime.log.append('chat', 1);
    await hangtime.log.append('news', 2);
    const url = 'https://hangtime-example.netlify.app/api/poll?channels=chat&channels=news&from=oldest&wait=0';
    const response = await netlify(hangtime)(webRequest('netlify', { url }), { requestId: '01J0XMPL7Q9ZK3V5T2B8N4C6D1' });
    expect(response.status).toBe(200);
    expect(((await response.json()) as PollBody).events.map((e) => e.data)).toEqual([1, 2]);
  });

  it('sets the deadline from the configured limit: 60 s by default, timeLimitMs, HANGTIME_TIME_LIMIT_MS', async () => {
    const { handler, contexts } = echoHandler();
    const started = Date.now();
    const echo = (await (await netlify(handler)(webRequest('netlify'))).json()) as Echo;
    expect(new URL(echo.url).searchParams.getAll('channels')).toEqual(['chat', 'news']);
    await netlify(handler, { timeLimitMs: 26_000 })(webRequest('netlify'));
    await withEnvironment({ HANGTIME_TIME_LIMIT_MS: '10000' }, () => netlify(handler)(webRequest('netlify')));
    const [byDefault, byOption, byEnvironment] = contexts.map((context) => context.deadline! - started);
    expect(byDefault).toBeGreaterThanOrEqual(60_000);
    expect(byDefault).toBeLessThan(61_000);
    expect(byOption).toBeLessThan(27_000);
    expect(byEnvironment).toBeLessThan(11_000);
    // Netlify runs functions on Lambda: the body is budgeted as if JSON-escaped.
    expect(contexts[0]).toMatchObject({ maxResponseBytes: 2_995_904, safetyMarginMs: 2_000 });
  });

  it('passes binary bodies through byte for byte', async () => {
    const response = await netlify(async (request) => new Response(await request.arrayBuffer()))(
      webRequest('netlify', { method: 'POST', body: BYTES }),
    );
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([...BYTES]);
  });

  it('validates options at startup', () => {
    expect(() => netlify(echoHandler().handler, { timeLimitMs: -5 })).toThrow('Expected `timeLimitMs` to be a positive number, got -5');
    expect(() => netlify(echoHandler().handler, { maxDuration: 5 } as never)).toThrow(/^Unknown option `maxDuration` for netlify\(\)/);
  });
});

describe('netlifyV1(): Functions v1 (Lambda-compatible)', () => {
  it('hands a Web handler the saved event as the client sent it', async () => {
    const { handler } = echoHandler();
    const result = await netlifyV1(handler)(fixture('netlify-v1'), lambdaContext(10_000));
    const echo = JSON.parse(resultBody(result)) as Echo;
    const url = new URL(echo.url);
    expect(url.origin).toBe('https://hangtime-example.netlify.app');
    expect(url.pathname).toBe('/.netlify/functions/poll');
    expect(url.searchParams.getAll('channels')).toEqual(['chat', 'news']);
    expect(url.searchParams.get('q')).toBe('a b&c');
    const headers = new Headers(echo.headers);
    expect(headers.get('x-custom')).toBe('one, two');
    expect(headers.get('cookie')).toBe('session=abc123; theme=dark');
  });

  it('answers polls and base64-encoded publishes on the fast path', async () => {
    const hangtime = createHangtime({ authorizePublish: () => true });
    const publish = fixture<NetlifyV1Event>('netlify-v1', (event) => {
      Object.assign(event, {
        httpMethod: 'POST',
        rawQuery: '',
        body: Buffer.from(JSON.stringify({ channel: 'news', data: 'é' })).toString('base64'),
        isBase64Encoded: true,
      });
      (event.headers as Record<string, string>)['content-type'] = 'application/json';
      (event.multiValueHeaders as Record<string, string[]>)['content-type'] = ['application/json'];
    });
    expect((await netlifyV1(hangtime)(publish, lambdaContext(10_000))).statusCode).toBe(201);
    const poll = fixture<NetlifyV1Event>('netlify-v1', (event) => {
      event.rawQuery = 'channels=chat&channels=news&from=oldest&wait=0';
    });
    const result = await netlifyV1(hangtime)(poll, lambdaContext(10_000));
    expect(result.statusCode).toBe(200);
    expect((JSON.parse(result.body) as PollBody).events.map((e) => [e.channel, e.data])).toEqual([['news', 'é']]);
  });

  it('shapes the answer Lambda-style, every Set-Cookie kept', async () => {
    const result = await netlifyV1(() => {
      const response = new Response(BYTES, { status: 202, headers: { 'content-type': 'application/octet-stream' } });
      response.headers.append('set-cookie', 'a=1');
      response.headers.append('set-cookie', 'b=2');
      return response;
    })(fixture('netlify-v1'), lambdaContext(10_000));
    expect(result).toMatchObject({ statusCode: 202, isBase64Encoded: true, multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] } });
    expect([...Buffer.from(result.body, 'base64')]).toEqual([...BYTES]);
  });

  it.each([
    ['a real clock sooner than the limit', lambdaContext(5_000), 5_000],
    ['a real clock later than the limit', lambdaContext(900_000), 60_000],
    // @netlify/aws-lambda-compat's withLambda stubs getRemainingTimeInMillis: () => 0.
    ['a clock stubbed to 0', { getRemainingTimeInMillis: () => 0 }, 60_000],
    [
      'a clock that throws',
      {
        getRemainingTimeInMillis: () => {
          throw new Error('not supported');
        },
      },
      60_000,
    ],
    ['no context', undefined, 60_000],
  ])('with %s, holds end by the right deadline', async (_, context, expectedMs) => {
    const { handler, contexts } = echoHandler();
    const started = Date.now();
    await netlifyV1(handler)(fixture('netlify-v1'), context);
    expect(contexts[0]!.deadline! - started).toBeGreaterThan(expectedMs - 1_000);
    expect(contexts[0]!.deadline! - started).toBeLessThanOrEqual(expectedMs + 50);
  });

  it('rejects events that are not v1 HTTP events', async () => {
    await expect(netlifyV1(echoHandler().handler)({ foo: 1 } as never)).rejects.toThrow(
      'netlifyV1() handles Netlify Functions v1 HTTP events ({ httpMethod, path, headers, … }); got { foo }',
    );
  });

  it('reports a Web handler that throws and answers 500', async () => {
    const onError = vi.fn();
    const result = await netlifyV1(
      () => {
        throw new TypeError('bad');
      },
      { onError },
    )(fixture('netlify-v1'));
    expect(result.statusCode).toBe(500);
    expect(onError).toHaveBeenCalledTimes(1);
  });
});
