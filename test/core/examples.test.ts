import { afterEach, describe, expect, it } from 'vitest';
import { serve, type NodeServer } from '../../adapters/node/index.js';
import { createApp } from '../../examples/custom-handler/server.js';

let server: NodeServer | undefined;
afterEach(async () => {
  await server?.close();
});

describe('examples/custom-handler (wait() with own auth and notify-then-fetch)', () => {
  it('answers 401 without a token and delivers changed rows to their owner', async () => {
    const app = createApp();
    server = await serve(app.handler, { port: 0 });
    expect((await fetch(`${server.url}/orders`)).status).toBe(401);

    const auth = { authorization: 'Bearer alice' };
    // A reader's first cursor: "from now", without holding.
    const start = (await app.hangtime.wait({ channels: ['orders.alice'], waitMs: 0 })).cursor;
    const pending = fetch(`${server.url}/orders?cursor=${start}`, { headers: auth });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await app.updateOrder({ id: 'o1', owner: 'bob', status: 'placed' });
    await app.updateOrder({ id: 'o2', owner: 'alice', status: 'shipped' });
    const body = (await (await pending).json()) as { status: string; orders: unknown[] };
    expect(body).toMatchObject({ status: 'ok', orders: [{ id: 'o2', owner: 'alice', status: 'shipped' }] });
  });
});
