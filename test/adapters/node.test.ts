import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type NodeServer } from '../../adapters/node/index.js';
import { createHangtime, type Hangtime, type WebHandler } from '../../src/index.js';

/** hangtime/node on a real server on loopback: request bodies and their limit. */

const servers: NodeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(target: Hangtime | WebHandler, maxBodyBytes: number): Promise<string> {
  const server = await serve(target, { port: 0, maxBodyBytes });
  servers.push(server);
  return server.url;
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const publisher = () => createHangtime({ authorizePublish: () => true });

/** A chunked body (no Content-Length): `chunks` pieces of `size` bytes, `delayMs` apart; `end: false` never ends it. */
function chunked(chunks: number, size: number, { delayMs = 0, end = true } = {}): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      if (sent === chunks) {
        if (end) controller.close();
        else await new Promise(() => {}); // a client that stalls forever
        return;
      }
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      // Spaces: valid JSON padding, so the body is well-formed whatever its size.
      const chunk = new Uint8Array(size).fill(0x20);
      if (sent === 0) chunk.set(new TextEncoder().encode('{"channel":"chat","data":1}'));
      sent++;
      controller.enqueue(chunk);
    },
  });
}

const post = (url: string, body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${url}/poll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    duplex: 'half',
  } as RequestInit);

async function expect413(response: Response): Promise<void> {
  expect(response.status).toBe(413);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
}

describe('hangtime/node: request bodies over maxBodyBytes', () => {
  it('a chunked body over the limit gets 413 with the JSON error', async () => {
    const hangtime = publisher();
    const url = await start(hangtime, 64 * 1024);
    await expect413(await post(url, chunked(64, 16 * 1024)));
    const stored = await hangtime.log.read('chat', await hangtime.log.start('chat', 'oldest'), { limit: 10, maxBytes: 1_000_000 });
    expect(stored).toEqual({ kind: 'events', events: [], more: false });
    // The server goes on.
    expect((await post(url, JSON.stringify({ channel: 'chat', data: 2 }))).status).toBe(201);
  });

  it('the 413 comes as soon as the limit is crossed, to a client that never finishes its body; then its connection is closed', async () => {
    const url = new URL(await start(publisher(), 64 * 1024));
    // A raw socket: fetch gives up its upload once the answer is in, this client does not.
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.write('POST /poll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `${(16 * 1024).toString(16)}\r\n${' '.repeat(16 * 1024)}\r\n`;
    const writer = setInterval(() => socket.write(chunk), 5);
    try {
      await until(async () => received.includes('payload_too_large'), 10_000);
      expect(received).toMatch(/^HTTP\/1\.1 413 /);
      // The rest of the body is discarded for a while (so the 413 is not lost to a reset), then
      // the connection is closed: a client cannot keep it busy.
      await closed;
    } finally {
      clearInterval(writer);
      socket.destroy();
    }
  });

  it('a Content-Length over the limit gets 413 without reading the body', async () => {
    const url = await start(publisher(), 1_000);
    // Under the publish route's own limit (maxEventBytes): the adapter's limit is the one hit.
    const body = JSON.stringify({ channel: 'chat', data: 'x'.repeat(5_000) });
    await expect413(await post(url, body));
    // Node's own client: the answer comes while it is still writing, and is read whole.
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = httpRequest(
        `${url}/poll`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 10_000_000 } },
        (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, text }));
        },
      );
      request.on('error', reject);
      request.write('{"channel":"chat","data":"');
    });
    expect(status).toBe(413);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('a body that arrives slowly is read to its end (under the limit) or refused when it crosses it', async () => {
    const hangtime = publisher();
    const url = await start(hangtime, 64 * 1024);
    const slow = await post(url, chunked(6, 1_000, { delayMs: 100 }));
    expect(slow.status).toBe(201);
    await expect413(await post(url, chunked(10, 16 * 1024, { delayMs: 100 })));
  });

  it('a Web handler target gets the same 413 for a body over the limit, before it runs', async () => {
    const errors: unknown[] = [];
    const bodies: number[] = [];
    const handler: WebHandler = async (request) => {
      bodies.push((await request.arrayBuffer()).byteLength);
      return new Response(null, { status: 204 });
    };
    const server = await serve(handler, { port: 0, maxBodyBytes: 64 * 1024, onError: (error) => errors.push(error) });
    servers.push(server);
    await expect413(await post(server.url, chunked(64, 16 * 1024)));
    await expect413(await post(server.url, 'x'.repeat(100_000)));
    expect((await post(server.url, 'x'.repeat(60_000))).status).toBe(204);
    expect(bodies).toEqual([60_000]);
    expect(errors).toEqual([]);
  });
});
