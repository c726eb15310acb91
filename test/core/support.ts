import { afterEach } from 'vitest';
import { createHangtime, type Hangtime, type HangtimeOptions } from '../../src/index.js';
import { serve, type NodeAdapterOptions, type NodeServer } from '../../adapters/node/index.js';

const running: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((stop) => stop()));
});

/** A hangtime endpoint on a real `node:http` server on a free loopback port, stopped after the test. */
export async function startServer(
  options: HangtimeOptions = {},
  adapter: NodeAdapterOptions = {},
): Promise<{ hangtime: Hangtime; url: string; server: NodeServer; poll: (query: string, init?: RequestInit) => Promise<Response> }> {
  const hangtime = createHangtime(options);
  const server = await serve(hangtime, { port: 0, ...adapter });
  running.push(async () => {
    await server.close();
    await hangtime.log.close();
  });
  return {
    hangtime,
    url: server.url,
    server,
    poll: (query, init) => fetch(`${server.url}/poll?${query}`, init),
  };
}

export interface PollBody {
  events: Array<{ channel: string; position: string; data: unknown }>;
  cursor: string;
  more: boolean;
}

/** Poll a condition every 5 ms; fail after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
