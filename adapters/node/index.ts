import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { respondIntoOf, type Hangtime, type Replier } from '../../src/hangtime.js';
import { HangtimeError, isHangtimeError } from '../../src/errors.js';
import { Trigger } from '../../src/signal.js';
import { responseForError, type HangtimeRequest, type PlainResponse, type WebHandler } from '../../src/http.js';

export interface NodeAdapterOptions {
  /** Give every request a deadline this many ms after it arrives (a platform-like limit).
   * Default: none; holds are bounded by `maxWaitMs` only. */
  readonly timeLimitMs?: number;
  /** Largest request body read, in bytes. Default `8 * 1024 * 1024`. */
  readonly maxBodyBytes?: number;
  /** Receives errors of a Web handler that threw. Never `console`. */
  readonly onError?: (error: unknown) => void;
}

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
export function toNodeListener(target: Pick<Hangtime, 'respond'> | WebHandler, options: NodeAdapterOptions = {}): RequestListener {
  return listener(target, options, { closing: false });
}

/** What a listener's requests share with the server that runs it. */
interface ListenerState {
  /** The server is shutting down: answers close their connection (no keep-alive). */
  closing: boolean;
}

function listener(target: Pick<Hangtime, 'respond'> | WebHandler, options: NodeAdapterOptions, state: ListenerState): RequestListener {
  const { timeLimitMs, maxBodyBytes = 8 * 1024 * 1024, onError = () => {} } = options;
  if (timeLimitMs !== undefined && !(typeof timeLimitMs === 'number' && timeLimitMs > 0)) {
    throw new TypeError(`Expected \`timeLimitMs\` to be a positive number, got ${String(timeLimitMs)}`);
  }
  if (!(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    throw new TypeError(`Expected \`maxBodyBytes\` to be a positive integer, got ${String(maxBodyBytes)}`);
  }
  const isHangtime = typeof target === 'object' && target !== null && typeof target.respond === 'function';
  if (!isHangtime && typeof target !== 'function') {
    throw new TypeError('Expected a hangtime instance (createHangtime()) or a Web handler (request) => Response');
  }

  // A hangtime instance answers through the request object itself, without a promise per
  // poll (see respondInto in src/hangtime.ts); a wrapper with only `respond` goes through it.
  const respondInto = isHangtime ? respondIntoOf(target) : undefined;
  return (req, res) => {
    const deadline = timeLimitMs === undefined ? undefined : Date.now() + timeLimitMs;
    if (isHangtime) {
      const request = new NodeRequest(req, res, maxBodyBytes, state);
      const context = deadline === undefined ? NO_DEADLINE : { deadline };
      if (respondInto !== undefined) {
        respondInto(request, context, request);
        return;
      }
      (target as Pick<Hangtime, 'respond'>).respond(request, context).then(
        (answer) => request.reply(answer),
        (error: unknown) => request.reply(responseForError(error)),
      );
      return;
    }
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    serveWeb(target as WebHandler, req, res, controller.signal, deadline, maxBodyBytes, state).catch((error: unknown) => {
      // A request refused for what it is (a body over the limit) is no error of the server's.
      if (!isHangtimeError(error) || error.status >= 500) onError(error);
      if (!res.headersSent) send(res, responseForError(error), state);
      else res.destroy(error as Error);
    });
  };
}

export interface NodeServer {
  readonly server: Server;
  /** `http://host:port`, with the port the system chose when `port` was 0. */
  readonly url: string;
  /**
   * Shut down gracefully: `hangtime.close()` first (held polls get their normal answer and
   * cursor, new ones a 503 `shutting_down`; a hangtime instance served directly), then stop
   * accepting connections. Every answer from now on closes its connection, idle keep-alive
   * connections are closed, and requests still running (a Web handler's) get up to 5 s to
   * answer before theirs are cut. Resolves when the server is closed. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Listen on a port with {@link toNodeListener}.
 *
 * @example
 * const { url, close } = await serve(createHangtime(), { port: 3000 });
 */
export async function serve(
  target: Pick<Hangtime, 'respond'> | WebHandler,
  options: NodeAdapterOptions & { readonly port?: number; readonly hostname?: string } = {},
): Promise<NodeServer> {
  const { port = 3000, hostname = '127.0.0.1', ...adapterOptions } = options;
  const state: ListenerState = { closing: false };
  const server = createServer(listener(target, adapterOptions, state));
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

async function closeGracefully(server: Server, target: Pick<Hangtime, 'respond'> | WebHandler, state: ListenerState): Promise<void> {
  state.closing = true;
  // While hangtime answers its held polls (at once, or when a read in flight ends), the server
  // still accepts: polls that arrive get the 503 with Retry-After, not a refused connection.
  const close = (target as Partial<Pick<Hangtime, 'close'>>).close;
  if (typeof target === 'object' && typeof close === 'function') await close.call(target);
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  // server.close() closes the connections idle now (Node >= 19); these are answered and idle
  // too, or will be: answers given since `closing` close their connection themselves.
  server.closeIdleConnections();
  const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
  await stopped;
  clearTimeout(cut);
}

const NO_DEADLINE = Object.freeze({});

/**
 * The core's view of a `node:http` request: one object per poll (its own headers view and
 * disconnect signal), where closures and a Web `Request` would be several.
 */
class NodeRequest extends Trigger implements HangtimeRequest, Replier {
  readonly method: string;
  readonly url: string;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #maxBodyBytes: number;
  readonly #state: ListenerState;

  constructor(req: IncomingMessage, res: ServerResponse, maxBodyBytes: number, state: ListenerState) {
    super();
    this.#state = state;
    this.method = req.method ?? 'GET';
    this.url = req.url ?? '/';
    this.#req = req;
    this.#res = res;
    this.#maxBodyBytes = maxBodyBytes;
    // `close` before the answer is finished means the client went away: fire, ending the hold.
    res.once('close', () => {
      if (!res.writableFinished) this.fire();
    });
  }

  /** Fires when the client goes away before the answer is written: it ends the hold at once.
   * The request is its own signal, a Trigger rather than an AbortController: this runs once
   * per poll (see src/signal.ts). */
  get signal(): Trigger {
    return this;
  }

  /** Write the answer (the Replier side of respondInto). */
  reply(answer: PlainResponse): void {
    send(this.#res, answer, this.#state);
  }

  get headers(): { get(name: string): string | null } {
    return this;
  }

  get(name: string): string | null {
    return headerValue(this.#req, name);
  }

  text(): Promise<string> {
    return readBody(this.#req, this.#maxBodyBytes).then((body) => body.toString('utf8'));
  }
}

function send(res: ServerResponse, answer: PlainResponse, state: ListenerState): void {
  if (res.destroyed) return;
  // During shutdown, `Connection: close`: the socket closes once the answer is out.
  if (state.closing) res.shouldKeepAlive = false;
  try {
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  } catch {
    // A header Node refuses (say, a control character from an authorize decision): the
    // client sees a reset connection, and retries, rather than the process crashing.
    res.destroy();
  }
}

/** A header from `rawHeaders`: reading `req.headers` would build the whole headers object,
 * measurable per poll, when the core reads at most a header or two. Repeated headers are
 * joined with ", " as the Fetch standard does. */
function headerValue(req: IncomingMessage, name: string): string | null {
  const raw = req.rawHeaders;
  let value: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name.toLowerCase()) {
      value = value === null ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
    }
  }
  return value;
}

/** How long a refused body may go on arriving (and be discarded) after its 413, in ms. */
const LINGER_MS = 2_000;

/**
 * Read a request body, up to `maxBodyBytes`. Over the limit (declared by `Content-Length` or
 * found while reading a chunked body) it rejects with a 413 at once, and the rest of the body is
 * read and discarded rather than the connection destroyed: destroying it first left the client
 * without an answer, and closing a socket with unread data resets it (TCP RST), which can drop
 * the 413 still in flight. Discarding stops `LINGER_MS` after the refusal (nginx's "lingering
 * close", for a client that keeps sending or never ends its body); a body that ends in time
 * leaves the connection reusable.
 */
function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const refuse = () => {
      reject(new HangtimeError('payload_too_large', 413, `Request bodies are at most ${maxBodyBytes} bytes`));
      discardRest(req);
    };
    if (Number(headerValue(req, 'content-length') ?? 0) > maxBodyBytes) return refuse();
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBodyBytes) return void chunks.push(chunk);
      req.off('data', onData);
      chunks.length = 0;
      refuse();
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    // A client that leaves mid-body: nobody will read the answer, but the poll must settle.
    const cutOff = () => reject(new HangtimeError('bad_request', 400, 'The request body was cut off'));
    req.on('error', cutOff);
    req.on('close', () => {
      if (!req.complete) cutOff();
    });
  });
}

function discardRest(req: IncomingMessage): void {
  if (req.complete) return;
  const timer = setTimeout(() => req.destroy(), LINGER_MS);
  timer.unref();
  const stop = () => clearTimeout(timer);
  req.once('end', stop).once('close', stop);
  req.resume();
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
