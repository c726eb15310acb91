import { STATUS_CODES, validateHeaderName, validateHeaderValue, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorResponse, responseForError, type HangtimeRequest, type PlainResponse } from '../../src/http.js';
import { headerValue, LINGER_MS, respondingTarget } from './exchange.js';
import type { NodeTarget } from './types.js';

/** The methods a Web `Request` can carry (the Fetch standard forbids CONNECT, TRACE and TRACK). */
const WEB_METHODS = 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS';

/** Whether a Web `Request` cannot carry `method`: `new Request()` throws a TypeError for it. */
export const isForbiddenMethod = (method: string): boolean => /^(?:CONNECT|TRACE|TRACK)$/i.test(method);

/** The 405 for a method no Web handler can be given: the adapter's answer, not the handler's. */
export function forbiddenMethodAnswer(method: string): PlainResponse {
  return errorResponse(405, 'method_not_allowed', `A Web handler cannot be given ${method}`, { headers: { allow: WEB_METHODS } });
}

/**
 * The 'connect' listener of `serve()`'s server. node:http hands a CONNECT request to 'connect'
 * listeners, never to the request listener, and closes its connection unanswered when there
 * is none. Here it gets the answer any other method the endpoint does not serve gets: a hangtime
 * instance's own (405 with its `Allow` and the JSON error), or the 405 for a Web handler, which
 * cannot be given CONNECT. Then the connection is closed: it never becomes a tunnel.
 */
export function connectListener(target: NodeTarget): (req: IncomingMessage, socket: Duplex) => void {
  const hangtime = respondingTarget(target);
  return (req, socket) => {
    // A client that leaves first: nothing to answer, nothing to report.
    socket.on('error', () => socket.destroy());
    const request: HangtimeRequest = { method: 'CONNECT', url: req.url ?? '/', headers: { get: (name) => headerValue(req, name) } };
    Promise.resolve()
      .then(() => (hangtime === undefined ? forbiddenMethodAnswer('CONNECT') : hangtime.respond(request, {})))
      .catch(responseForError)
      .then((answer) => writeAndClose(socket, answer));
  };
}

/** Write `answer` on the raw socket as HTTP/1.1 with `Connection: close`, and close it. */
function writeAndClose(socket: Duplex, { status, headers, body }: PlainResponse): void {
  if (socket.destroyed) return;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  try {
    for (const [name, value] of Object.entries({ ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' })) {
      validateHeaderName(name);
      validateHeaderValue(name, value);
      head += `${name}: ${value}\r\n`;
    }
  } catch {
    // A header Node refuses (as `send` does with one): the client sees a closed connection.
    return void socket.destroy();
  }
  // Whatever the client sends meanwhile is read and dropped (closing a socket with unread data
  // resets it, which can lose the answer), for `LINGER_MS` at most.
  socket.resume();
  socket.end(`${head}\r\n${body}`);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
