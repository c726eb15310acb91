import type { IncomingMessage, ServerResponse } from 'node:http';
import { HangtimeError } from '../../src/errors.js';
import type { Hangtime, Replier } from '../../src/hangtime.js';
import type { HangtimeRequest, PlainResponse } from '../../src/http.js';
import { Trigger } from '../../src/signal.js';
import type { ListenerState, NodeTarget } from './types.js';

// One poll over node:http is two objects: the request the core reads (NodeRequest) and the
// response side (NodeReply: the disconnect signal and the replier), where closures and a Web
// `Request` would be several. Thousands are held at once (src/signal.ts says what those cost).

/** The hangtime instance (or wrapper with `respond`) a target is, else `undefined` (a Web handler). */
export function respondingTarget(target: NodeTarget): Pick<Hangtime, 'respond'> | undefined {
  return typeof target === 'object' && target !== null && typeof target.respond === 'function' ? target : undefined;
}

/**
 * The response side of one request: a signal that fires when the client goes away before the
 * answer is written (ending the hold at once), and the {@link Replier} that writes the answer.
 * A Trigger rather than an AbortController: this runs once per poll (see src/signal.ts).
 */
export class NodeReply extends Trigger implements Replier {
  readonly #res: ServerResponse;
  readonly #state: ListenerState;

  constructor(res: RepliedResponse, state: ListenerState) {
    super();
    this.#res = res;
    this.#state = state;
    // `close` before the answer is finished means the client went away. One listener function
    // for every response, which finds its reply on the response: a closure per poll (and its
    // context) would be two more objects kept while the poll is held. `on`, not `once`: a
    // response closes once, and `once` would wrap the listener in two more objects per poll.
    res[REPLY] = this;
    res.on('close', onResponseClose);
  }

  reply(answer: PlainResponse): void {
    send(this.#res, answer, this.#state);
  }
}

/** Where a response keeps its {@link NodeReply}, for {@link onResponseClose}. */
const REPLY = Symbol('hangtime.reply');

/** A response with its reply (set by the NodeReply constructor). */
export interface RepliedResponse extends ServerResponse {
  [REPLY]?: NodeReply;
}

/** The `close` listener of every response: the client went away if the answer was not finished. */
function onResponseClose(this: RepliedResponse): void {
  if (!this.writableFinished) this[REPLY]?.fire();
}

/** The core's view of a `node:http` request: method, URL, a headers view over `rawHeaders`, the body. */
export class NodeRequest implements HangtimeRequest {
  readonly method: string;
  readonly url: string;
  readonly #req: IncomingMessage;
  readonly #maxBodyBytes: number;

  constructor(
    req: IncomingMessage,
    maxBodyBytes: number,
    /** Fires when the client leaves before its answer is written. */
    readonly signal: NodeReply,
  ) {
    this.method = req.method ?? 'GET';
    this.url = req.url ?? '/';
    this.#req = req;
    this.#maxBodyBytes = maxBodyBytes;
  }

  /** The request is its own headers view (no object per request for it). */
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

export function send(res: ServerResponse, answer: PlainResponse, state: ListenerState): void {
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
export function headerValue(req: IncomingMessage, name: string): string | null {
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
export const LINGER_MS = 2_000;

/**
 * Read a request body, up to `maxBodyBytes`. Over the limit (declared by `Content-Length` or
 * found while reading a chunked body) it rejects with a 413 at once, and the rest of the body is
 * read and discarded rather than the connection destroyed: destroying it first left the client
 * without an answer, and closing a socket with unread data resets it (TCP RST), which can drop
 * the 413 still in flight. Discarding stops `LINGER_MS` after the refusal (nginx's "lingering
 * close", for a client that keeps sending or never ends its body); a body that ends in time
 * leaves the connection reusable.
 */
export function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<Buffer> {
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
