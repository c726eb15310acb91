import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertOptions } from '../../src/options.js';
import { connectListener } from './connect.js';
import { NODE_OPTION_NAMES, listener } from './handler.js';
import type { ListenerState, NodeServer, NodeTarget, ServeOptions } from './types.js';

/**
 * Listen on a port with {@link toNodeListener}.
 *
 * @example
 * const { url, close } = await serve(createHangtime(), { port: 3000 });
 */
export async function serve(target: NodeTarget, options: ServeOptions = {}): Promise<NodeServer> {
  assertOptions(options, ['port', 'hostname', ...NODE_OPTION_NAMES], 'serve()');
  const { port = 3000, hostname = '127.0.0.1', ...adapterOptions } = options;
  const state: ListenerState = { closing: false };
  const handle = listener(target, adapterOptions, state);
  const server = createServer(handle);
  // CONNECT comes as 'connect', not 'request': answered as any other method not served.
  server.on('connect', connectListener(target));
  // An `Expect` other than 100-continue: node:http would answer a bare 417 itself (no JSON, no
  // Cache-Control). hangtime sets no expectation of its own, and RFC 9110 (section 10.1.1)
  // lets a server ignore one it does not know: the request is served as it would be without.
  server.on('checkExpectation', handle);
  // Long polls are long: Node's default request timeout (300 s) is fine, but keep-alive
  // sockets should outlive a poll so clients reuse them.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closed: Promise<void> | undefined;
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close() {
      closed ??= closeGracefully(server, target, state);
      return closed;
    },
  };
}

/** How long requests still running at shutdown (a Web handler's own work) may take to answer. */
const CLOSE_GRACE_MS = 5_000;

async function closeGracefully(server: Server, target: NodeTarget, state: ListenerState): Promise<void> {
  state.closing = true;
  // While hangtime answers its held polls (at once, or when a read in flight ends), the server
  // still accepts: polls that arrive get the 503 with Retry-After, not a refused connection.
  if (typeof target === 'object' && 'close' in target && typeof target.close === 'function') await target.close();
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  // server.close() closes the connections idle now (Node >= 19); these are answered and idle
  // too, or will be: answers given since `closing` close their connection themselves.
  server.closeIdleConnections();
  const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
  await stopped;
  clearTimeout(cut);
}
