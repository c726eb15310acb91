import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { vercel } from '../../adapters/vercel/index.js';
import { vercelNode } from '../../adapters/vercel/node.js';
import { createHangtime } from '../../src/index.js';
import { echoHandler, webRequest, withEnvironment, type Echo, type PollBody } from './support.js';

const POLL_URL = 'https://hangtime-example.vercel.app/api/poll?channels=chat&channels=news&from=oldest&wait=0';
const BYTES = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);

describe('vercel(): Web signature', () => {
  it('answers a saved Vercel request: repeated channel keys, the cookie seen by authorize', async () => {
    const hangtime = createHangtime({ authorize: (request) => request.headers.get('cookie') === 'session=abc123; theme=dark' });
    await hangtime.log.append('chat', 1);
    await hangtime.log.append('news', 2);
    const response = await vercel(hangtime, { maxDuration: 60 })(webRequest('vercel', { url: POLL_URL }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as PollBody;
    expect(body.events.map((e) => [e.channel, e.data])).toEqual([
      ['chat', 1],
      ['news', 2],
    ]);
  });

  it('hands a Web handler the request untouched, with the deadline maxDuration after the invocation starts', async () => {
    const { handler, contexts } = echoHandler();
    const started = Date.now();
    const response = await vercel(handler, { maxDuration: 45 })(webRequest('vercel'));
    const echo = (await response.json()) as Echo;
    expect(new URL(echo.url).searchParams.getAll('channels')).toEqual(['chat', 'news']);
    expect(new Headers(echo.headers).get('x-custom')).toBe('one, two');
    expect(contexts[0]!.deadline! - started).toBeGreaterThanOrEqual(45_000);
    expect(contexts[0]!.deadline! - started).toBeLessThan(45_000 + 1_000);
    // Vercel's 4.5 MB is a cap on the body itself: nothing to halve.
    expect(contexts[0]).toMatchObject({ maxResponseBytes: 4_500_000, safetyMarginMs: 2_000 });
  });

  it('passes binary bodies through byte for byte, both ways', async () => {
    const response = await vercel(
      async (request) => new Response(await request.arrayBuffer(), { headers: { 'content-type': 'image/png' } }),
      {
        maxDuration: 10,
      },
    )(webRequest('vercel', { method: 'POST', body: BYTES }));
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([...BYTES]);
  });

  it('ends the hold at once when Vercel aborts request.signal (client gone, supportsCancellation)', async () => {
    const hangtime = createHangtime({ maxWaitMs: 20_000 });
    const first = (await (
      await vercel(hangtime, { maxDuration: 60 })(new Request('https://x.vercel.app/api/poll?channels=chat&wait=0'))
    ).json()) as PollBody;
    const controller = new AbortController();
    const started = Date.now();
    const pending = vercel(hangtime, { maxDuration: 60 })(
      new Request(`https://x.vercel.app/api/poll?channels=chat&cursor=${first.cursor}`, { signal: controller.signal }),
    );
    setTimeout(() => controller.abort(), 200);
    const response = await pending;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(response.headers.get('server-timing')).toContain('desc="abort"');
  });

  it('requires the route maxDuration, and validates options', () => {
    const { handler } = echoHandler();
    expect(() => vercel(handler, {} as never)).toThrow(
      /^Expected `maxDuration`: the route's maxDuration in seconds, the same constant it exports/,
    );
    expect(() => vercel(handler, undefined as never)).toThrow(/^Expected `maxDuration`/);
    expect(() => vercel(handler, { maxDuration: 0 })).toThrow('Expected `maxDuration` to be a positive number, got 0');
    expect(() => vercel(handler, { maxDuration: 10, timeLimitMs: 5 } as never)).toThrow(/^Unknown option `timeLimitMs` for vercel\(\)/);
  });

  it('maxWaitMs and HANGTIME_MAX_WAIT_MS cap holds before maxDuration (context.maxWaitMs)', async () => {
    const { handler, contexts } = echoHandler();
    await vercel(handler, { maxDuration: 300, maxWaitMs: 20_000 })(webRequest('vercel'));
    await withEnvironment({ HANGTIME_MAX_WAIT_MS: '10000' }, () => vercel(handler, { maxDuration: 300 })(webRequest('vercel')));
    expect(contexts[0]!.maxWaitMs).toBeLessThanOrEqual(20_000);
    expect(contexts[0]!.maxWaitMs).toBeGreaterThan(19_000);
    expect(contexts[1]!.maxWaitMs).toBeLessThanOrEqual(10_000);
    expect(contexts[1]!.maxWaitMs).toBeGreaterThan(9_000);
  });

  it('answers a Web handler that throws with a clean 500, reported to onError', async () => {
    const onError = vi.fn();
    const response = await vercel(() => Promise.reject(new Error('boom')), { maxDuration: 10, onError })(webRequest('vercel'));
    expect(response.status).toBe(500);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'boom' }));
  });
});

describe('vercelNode(): legacy (req, res) signature, on a real node:http server', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function listen(handler: ReturnType<typeof vercelNode>): Promise<string> {
    const server = createServer((req, res) => void handler(req, res));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('serves polls and answers before maxDuration', async () => {
    const hangtime = createHangtime({ maxWaitMs: 60_000 });
    await hangtime.log.append('chat', 'hi');
    const url = await listen(vercelNode(hangtime, { maxDuration: 3, safetyMarginMs: 1_000 }));
    const first = (await (await fetch(`${url}/api/poll?channels=chat&from=oldest`)).json()) as PollBody;
    expect(first.events.map((e) => e.data)).toEqual(['hi']);
    const started = Date.now();
    const held = await fetch(`${url}/api/poll?channels=chat&cursor=${first.cursor}`);
    const elapsed = Date.now() - started;
    expect(held.status).toBe(200);
    expect(held.headers.get('server-timing')).toContain('desc="deadline"');
    expect(elapsed).toBeGreaterThan(1_000);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('hands a Web handler the body and the platform limits', async () => {
    const { handler, contexts } = echoHandler();
    const url = await listen(vercelNode(handler, { maxDuration: 30 }));
    const response = await fetch(`${url}/api/publish?a=1&a=2`, { method: 'POST', body: BYTES, headers: { cookie: 'session=abc123' } });
    const echo = (await response.json()) as Echo;
    expect([...Buffer.from(echo.body, 'base64')]).toEqual([...BYTES]);
    expect(new URL(echo.url).searchParams.getAll('a')).toEqual(['1', '2']);
    expect(new Headers(echo.headers).get('cookie')).toBe('session=abc123');
    expect(contexts[0]).toMatchObject({ maxResponseBytes: 4_500_000, safetyMarginMs: 2_000 });
    expect(contexts[0]!.deadline! - Date.now()).toBeGreaterThan(25_000);
  });
});
