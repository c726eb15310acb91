import { describe, expect, it, vi } from 'vitest';
import { awsLambda, type LambdaHttpEvent } from '../../adapters/aws-lambda/index.js';
import { netlifyV1, type NetlifyV1Event } from '../../adapters/netlify/index.js';
import { createHangtime } from '../../src/index.js';
import { echoHandler, fixture, lambdaContext, resultBody, type Echo } from './support.js';

/**
 * Well-formed events that real front doors, AWS's own samples and the offline emulators send, and
 * that a translation must take as they come: hosts that cannot be part of a URL, a cookie in two
 * places, a header in one map only. Each fixture is saved from where it was met.
 */
interface Case {
  readonly fixture: string;
  readonly why: string;
  /** The Web handler's `request.url`. */
  readonly url: string;
  /** Headers as the Web handler must see them (`null`: absent). */
  readonly headers: Record<string, string | null>;
}

const LAMBDA_CASES: Case[] = [
  {
    fixture: 'function-url-aws-sample',
    why: "AWS's sample Function URL event, whose domain is the placeholder <url-id>",
    url: 'https://localhost/my/path?parameter1=value1&parameter1=value2&parameter2=value',
    headers: { cookie: 'cookie1; cookie2', header2: 'value1,value2' },
  },
  {
    fixture: 'alb-bad-host',
    why: 'an ALB request whose Host header is no host',
    url: 'http://localhost/poll?channels=news&wait=0&q=a%20b%26c',
    headers: { host: 'bad host', 'x-custom': 'two' },
  },
  {
    fixture: 'function-url-curl-cookie',
    why: 'a Function URL called by curl: cookies[] and a Cookie header',
    url: 'https://a5xmpl3zhkd4qwlgdnr7ttu2rm0fwdsz.lambda-url.us-east-1.on.aws/poll?channels=chat&wait=0',
    headers: { cookie: 'test=hi' },
  },
  {
    // No X-Forwarded-Proto from the emulator: HTTPS, as API Gateway serves.
    fixture: 'serverless-offline-http-api',
    why: "serverless-offline's HTTP API: cookies[] and a Cookie header, a placeholder domainName",
    url: 'https://127.0.0.1:43111/httpapi?channels=chat&channels=news&q=a+b%26c',
    headers: { cookie: 'test=hi', origin: 'https://app.example.com', host: '127.0.0.1:43111' },
  },
  {
    fixture: 'serverless-offline-rest',
    why: "serverless-offline's REST API: a placeholder domainName, the client's Host",
    url: 'https://127.0.0.1:43111/rest?channels=chat&channels=news&q=a%20b%26c',
    headers: { cookie: 'test=hi', origin: 'https://app.example.com', 'x-custom': 'one, two' },
  },
  {
    fixture: 'rest-v1-origin-in-headers',
    why: 'a REST event with Origin and Authorization in `headers` only',
    url: 'https://70ixmpl4fl.execute-api.us-east-2.amazonaws.com/poll?channels=chat&channels=news&wait=0&q=a%20b%26c',
    headers: {
      origin: 'https://app.example.com',
      authorization: 'Bearer t0k3n',
      cookie: 'session=abc123; theme=dark',
      'x-custom': 'one, two',
    },
  },
];

const NETLIFY_CASES: Case[] = [
  {
    fixture: 'netlify-v1-origin-in-headers',
    why: 'a Netlify v1 event with Origin in `headers` only',
    url: 'https://hangtime-example.netlify.app/.netlify/functions/poll?channels=chat&channels=news&wait=0&q=a%20b%26c',
    headers: { origin: 'https://app.example.com', 'x-custom': 'one, two', cookie: 'session=abc123; theme=dark' },
  },
  {
    // netlify-cli serves plain HTTP and says so only in rawUrl; one of its multi-value headers is [null].
    fixture: 'netlify-cli-v1',
    why: "netlify-cli's v1 event: no X-Forwarded-Proto, a null header value",
    url: 'http://127.0.0.1:43121/.netlify/functions/capture1?channels=chat&channels=news&q=a%20b%26c',
    headers: { cookie: 'test=hi', origin: 'https://app.example.com', 'x-custom': 'one, two', 'x-nf-account-id': null },
  },
];

function expectRequest(echo: Echo, expected: Case): void {
  expect(echo.url).toBe(expected.url);
  const headers = new Headers(echo.headers);
  for (const [name, value] of Object.entries(expected.headers)) expect(headers.get(name), name).toBe(value);
}

describe('awsLambda takes awkward but well-formed events as they come', () => {
  it.each(LAMBDA_CASES)('hands a Web handler $why', async (which) => {
    const onError = vi.fn();
    const result = await awsLambda(echoHandler().handler, { onError })(fixture<LambdaHttpEvent>(which.fixture), lambdaContext(10_000));
    expect(onError).not.toHaveBeenCalled();
    expect(result.statusCode).toBe(200);
    expectRequest(JSON.parse(resultBody(result)) as Echo, which);
  });

  it.each([
    ['serverless-offline-http-api', 'test=hi'],
    ['rest-v1-origin-in-headers', 'session=abc123; theme=dark'],
  ])('%s: the fast path sees each cookie once and the Origin, and answers CORS', async (name, cookie) => {
    const origin = 'https://app.example.com';
    const cookies: Array<string | null> = [];
    const hangtime = createHangtime({
      cors: { origin },
      authorize: (request) => {
        cookies.push(request.headers.get('cookie'));
        return true;
      },
    });
    const event = fixture<LambdaHttpEvent>(name, (e) => {
      // A poll that answers at once, whatever the saved query asked for.
      if ('rawQueryString' in e) e.rawQueryString = 'channels=chat&wait=0';
      else e.multiValueQueryStringParameters = { channels: ['chat'], wait: ['0'] };
    });
    const result = await awsLambda(hangtime)(event, lambdaContext(10_000));
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['access-control-allow-origin']).toBe(origin);
    expect(cookies).toEqual([cookie]);
  });

  it('passes a header value with characters beyond Latin-1 as the UTF-8 bytes the client sent', async () => {
    const event = fixture<LambdaHttpEvent>('http-api-v2', (e) => {
      (e.headers as Record<string, string>)['x-name'] = 'Zoë ✓';
    });
    const result = await awsLambda(echoHandler().handler)(event, lambdaContext(10_000));
    expect(result.statusCode).toBe(200);
    const value = new Headers((JSON.parse(resultBody(result)) as Echo).headers).get('x-name')!;
    expect(Buffer.from(value, 'latin1').toString('utf8')).toBe('Zoë ✓');
  });

  it('leaves out a header no Web request can carry, reports it, and still answers', async () => {
    const onError = vi.fn();
    const event = fixture<LambdaHttpEvent>('http-api-v2', (e) => {
      (e.headers as Record<string, string>)['bad name'] = 'x';
    });
    const result = await awsLambda(echoHandler().handler, { onError })(event, lambdaContext(10_000));
    expect(result.statusCode).toBe(200);
    expect(new Headers((JSON.parse(resultBody(result)) as Echo).headers).get('x-custom')).toBe('one,two');
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringContaining('"bad name"') }));
  });

  it('takes a multi-value ALB event with a header in `headers` only', async () => {
    const event = fixture<LambdaHttpEvent>('alb-multi', (e) => {
      e.headers = { origin: 'https://app.example.com' };
    });
    const result = await awsLambda(echoHandler().handler)(event, lambdaContext(10_000));
    const headers = new Headers((JSON.parse(resultBody(result)) as Echo).headers);
    expect(headers.get('origin')).toBe('https://app.example.com');
    expect(headers.get('x-custom')).toBe('one, two');
  });
});

describe('netlifyV1 takes awkward but well-formed events as they come', () => {
  it.each(NETLIFY_CASES)('hands a Web handler $why', async (which) => {
    const result = await netlifyV1(echoHandler().handler)(fixture<NetlifyV1Event>(which.fixture), lambdaContext(10_000));
    expect(result.statusCode).toBe(200);
    expectRequest(JSON.parse(resultBody(result)) as Echo, which);
  });

  it('answers CORS on the fast path when Origin is in `headers` only', async () => {
    const hangtime = createHangtime({ cors: { origin: 'https://app.example.com' } });
    const event = fixture<NetlifyV1Event>('netlify-v1-origin-in-headers', (e) => {
      e.rawQuery = 'channels=chat&wait=0';
    });
    const result = await netlifyV1(hangtime)(event, lambdaContext(10_000));
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['access-control-allow-origin']).toBe('https://app.example.com');
  });
});
