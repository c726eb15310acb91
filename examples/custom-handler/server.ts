/**
 * A custom long-poll handler built on `hangtime.wait()`: its own authentication, its own
 * response shape, and notify-then-fetch — the log carries only "order N changed", the data
 * comes from the application's own store (here a Map standing in for a database).
 *
 * Run: `npm install && npm run build && npm start` in this folder, then
 *   curl -H 'authorization: Bearer alice' 'http://127.0.0.1:3001/orders?cursor='
 */
import { createHangtime, isHangtimeError, memoryLog } from 'hangtime';
import { serve } from 'hangtime/node';

export interface Order {
  id: string;
  owner: string;
  status: 'placed' | 'packed' | 'shipped';
}

export function createApp() {
  const orders = new Map<string, Order>();
  const hangtime = createHangtime({ log: memoryLog(), maxWaitMs: 20_000 });

  /** The application's own write path: update the row, then notify. */
  async function updateOrder(order: Order): Promise<void> {
    orders.set(order.id, order);
    await hangtime.log.append(`orders.${order.owner}`, { id: order.id });
  }

  async function handler(request: Request): Promise<Response> {
    // Own auth: a bearer token naming the user (use your real session check here).
    const user = /^Bearer (\w+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
    if (user === undefined) return Response.json({ message: 'sign in' }, { status: 401 });
    const cursor = new URL(request.url).searchParams.get('cursor') || undefined;
    try {
      const result = await hangtime.wait<{ id: string }>({
        channels: [`orders.${user}`],
        cursor,
        signal: request.signal,
      });
      // Notify-then-fetch: read the current rows the notifications point at.
      const ids = [...new Set(result.events.map((event) => event.data.id))];
      const changed = ids.map((id) => orders.get(id)).filter((order) => order !== undefined);
      const status = result.reason === 'gap' ? 'resync' : 'ok';
      return Response.json({ status, orders: changed, cursor: result.cursor }, { headers: { 'cache-control': 'no-store' } });
    } catch (error) {
      if (isHangtimeError(error)) return Response.json({ message: error.message }, { status: error.status });
      throw error;
    }
  }

  return { handler, updateOrder, hangtime };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = createApp();
  const { url } = await serve(app.handler, { port: 3001 });
  process.stdout.write(`custom handler on ${url}/orders\n`);
  let n = 0;
  setInterval(() => void app.updateOrder({ id: `o${n++ % 3}`, owner: 'alice', status: 'packed' }), 2_000);
}
