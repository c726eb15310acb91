import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type NodeServer } from '../../adapters/node/index.js';
import { createHangtime, type Hangtime, type WebHandler } from '../../src/index.js';

/**
 * hangtime/node on a real server on loopback: a method the endpoint does not serve is a 405 with
 * `Allow` and the JSON error, CONNECT included (node:http emits it as 'connect', not 'request'),
 * and TRACE, which no Web `Request` can carry.
 */

const servers: NodeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(target: Hangtime | WebHandler, onError?: (error: unknown) => void): Promise<URL> {
  const server = await serve(target, { port: 0, ...(onError && { onError }) });
  servers.push(server);
  return new URL(server.url);
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request with node:http's own client, which sends any method (fetch refuses CONNECT and TRACE). */
function send(url: URL, method: string, path = '/poll', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, method, path, headers });
    request.on('error', reject);
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    // The answer to a CONNECT comes here, with the socket: the body is what the server writes
    // on it until it closes it.
    request.on('connect', (response, socket, head) => {
      let body = head.toString('utf8');
      socket.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      socket.on('error', reject);
      socket.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.end();
  });
}

function expect405(answer: Answer, allow: string): void {
  expect(answer.status).toBe(405);
  expect(answer.headers.allow).toBe(allow);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  expect(answer.headers['cache-control']).toBe('no-store');
  expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'method_not_allowed', message: expect.any(String) } });
}

describe('hangtime/node: methods the endpoint does not serve', () => {
  it('CONNECT gets the core’s 405 with Allow and the JSON error, then its connection is closed', async () => {
    const hangtime = createHangtime({ authorizePublish: () => true });
    const url = await start(hangtime);
    const answer = await send(url, 'CONNECT', 'example.com:443');
    expect405(answer, 'GET, POST');
    expect(answer.headers.connection).toBe('close');
    // The server goes on.
    expect((await fetch(`${url}poll?channels=a&wait=0`)).status).toBe(200);
  });

  it.each(['PUT', 'DELETE', 'PATCH', 'TRACE'])('%s gets the core’s 405 with Allow and the JSON error', async (method) => {
    expect405(await send(await start(createHangtime()), method), 'GET');
  });

  it('a Web handler target: CONNECT and TRACE (which no Web Request can carry) get a 405, not a 500, and the handler never runs', async () => {
    const errors: unknown[] = [];
    const methods: string[] = [];
    const handler: WebHandler = (request) => {
      methods.push(request.method);
      return new Response('ok');
    };
    const url = await start(handler, (error) => errors.push(error));
    for (const [method, path] of [
      ['CONNECT', 'example.com:443'],
      ['TRACE', '/'],
    ] as const) {
      const answer = await send(url, method, path);
      expect405(answer, 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS');
    }
    expect((await send(url, 'PUT', '/')).body).toBe('ok');
    expect(methods).toEqual(['PUT']);
    expect(errors).toEqual([]);
  });
});

describe('hangtime/node: an Expect header it does not know', () => {
  it('is ignored (RFC 9110 allows it): the poll is answered as without it, not with node:http’s bare 417', async () => {
    const url = await start(createHangtime());
    for (const expectation of ['100-co\u00bctinue', 'something-else']) {
      const answer = await send(url, 'GET', '/poll?channels=a&wait=0', { expect: expectation });
      expect(answer.status).toBe(200);
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(answer.body)).toMatchObject({ events: [], cursor: expect.any(String) });
    }
    // A bad poll with it gets hangtime's own 400, JSON and all.
    const bad = await send(url, 'GET', '/poll?channel=a', { expect: 'something-else' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: 'unknown_parameter' } });
  });
});
