import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { isHangtimeError } from '../../src/errors.js';
import { responseForError, type HandlerContext, type PlainResponse, type WebHandler } from '../../src/http.js';
import { assertOptionalFunction, assertOptions, assertPositiveInteger, assertPositiveNumber } from '../../src/options.js';
import { forbiddenMethodAnswer, isForbiddenMethod } from './connect.js';
import { NodeReply, NodeRequest, readBody, respondingTarget, send } from './exchange.js';
import type { ListenerState, NodeAdapterOptions, NodeTarget } from './types.js';

export const NODE_OPTION_NAMES = ['timeLimitMs', 'maxBodyBytes', 'onError'] as const;

/**
 * Run a hangtime endpoint (or any Web-standard handler) as a `node:http` request listener.
 * A client that disconnects aborts its hold at once.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createHangtime } from 'hangtime';
 * import { toNodeListener } from 'hangtime/node';
 *
 * createServer(toNodeListener(createHangtime())).listen(3000);
 */
export function toNodeListener(target: NodeTarget, options: NodeAdapterOptions = {}): RequestListener {
  assertOptions(options, NODE_OPTION_NAMES, 'toNodeListener()');
  return listener(target, options, { closing: false });
}

const NO_DEADLINE: HandlerContext = Object.freeze({});

/** The listener of {@link toNodeListener} and `serve()`, whose options are checked. */
export function listener(target: NodeTarget, options: NodeAdapterOptions, state: ListenerState): RequestListener {
  const { timeLimitMs, maxBodyBytes = 8 * 1024 * 1024, onError = () => {} } = options;
  if (timeLimitMs !== undefined) assertPositiveNumber(timeLimitMs, 'timeLimitMs');
  assertPositiveInteger(maxBodyBytes, 'maxBodyBytes');
  assertOptionalFunction(options.onError, 'onError');
  const hangtime = respondingTarget(target);
  if (hangtime === undefined && typeof target !== 'function') {
    throw new TypeError('Expected a hangtime instance (createHangtime()) or a Web handler (request) => Response');
  }
  const web = typeof target === 'function' ? target : undefined;

  return (req, res) => {
    const deadline = timeLimitMs === undefined ? undefined : Date.now() + timeLimitMs;
    if (hangtime !== undefined) {
      // The answer comes through the reply itself, without a promise per poll (see `respond` in
      // src/types.ts); a wrapper that ignores the replier returns a promise instead.
      const reply = new NodeReply(res, state);
      const pending = hangtime.respond(
        new NodeRequest(req, maxBodyBytes, reply),
        deadline === undefined ? NO_DEADLINE : { deadline },
        reply,
      );
      if (pending !== undefined) replyWhenSettled(pending, reply);
      return;
    }
    // TRACE (or TRACK): no Web `Request` can carry it, so the handler cannot be asked.
    if (isForbiddenMethod(req.method ?? 'GET')) return void send(res, forbiddenMethodAnswer(req.method!), state);
    serveWebRequest(web!, req, res, deadline, maxBodyBytes, state, onError);
  };
}

/** A request to a Web handler. Apart from the listener: a function whose closures capture its
 * variables allocates their context on every call, the polls' included. */
function serveWebRequest(
  web: WebHandler,
  req: IncomingMessage,
  res: ServerResponse,
  deadline: number | undefined,
  maxBodyBytes: number,
  state: ListenerState,
  onError: (error: unknown) => void,
): void {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  serveWeb(web, req, res, controller.signal, deadline, maxBodyBytes, state).catch((error: unknown) => {
    // A request refused for what it is (a body over the limit) is no error of the server's.
    if (!isHangtimeError(error) || error.status >= 500) onError(error);
    if (!res.headersSent) send(res, responseForError(error), state);
    else res.destroy(error instanceof Error ? error : undefined);
  });
}

/** Apart from the listener: a function whose closures capture its variables allocates their
 * context on every call (every request), whichever branch runs. */
function replyWhenSettled(pending: Promise<PlainResponse>, reply: NodeReply): void {
  pending.then(
    (answer) => reply.reply(answer),
    (error: unknown) => reply.reply(responseForError(error)),
  );
}

async function serveWeb(
  handler: WebHandler,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
  deadline: number | undefined,
  maxBodyBytes: number,
  state: ListenerState,
): Promise<void> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  // Read whole, within maxBodyBytes, as every serverless platform hands a function its body: a
  // body over the limit is a 413 before the handler runs.
  const body = hasBody ? new Uint8Array(await readBody(req, maxBodyBytes)) : null;
  const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method, headers, signal, body });
  const response = await handler(request, { deadline, signal });
  const outHeaders: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') outHeaders[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) outHeaders['set-cookie'] = cookies;
  if (state.closing) res.shouldKeepAlive = false;
  res.writeHead(response.status, outHeaders);
  if (response.body === null) {
    res.end();
    return;
  }
  Readable.fromWeb(response.body as import('node:stream/web').ReadableStream).pipe(res);
}
