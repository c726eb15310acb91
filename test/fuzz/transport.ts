import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';

/**
 * Sending fuzzed requests: through `node:http` with a keep-alive agent when Node can express
 * the request (most of them: fast, no connection per request), as raw bytes on a socket of its
 * own when it cannot (bytes Node's client refuses to send: a space or a raw UTF-8 byte in the
 * target, a latin-1 header, two Content-Lengths, a body shorter than its Content-Length…).
 */

export interface FuzzRequest {
  /** What made it: the generator and the mutations applied, e.g. `publish>deep-nesting`. */
  readonly label: string;
  readonly method: string;
  /** The request target as sent (path and query; anything, for raw requests). */
  readonly target: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer | undefined;
  /** Send the body with `Transfer-Encoding: chunked` (raw). */
  readonly chunked?: boolean | undefined;
  /** Send exactly these bytes (raw): a byte-level mutation of the serialised request. */
  readonly raw?: Buffer | undefined;
  /** Unfinished by construction (a body shorter than its Content-Length): the server may not answer. */
  readonly incomplete?: boolean | undefined;
  /** Omit the Host header (raw). */
  readonly noHost?: boolean | undefined;
}

export interface FuzzResponse {
  /** `false`: the connection ended (or timed out) without an answer. */
  readonly answered: boolean;
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly error?: string;
  readonly ms: number;
  readonly transport: 'http' | 'raw';
  /** The request's bytes do not make a whole request (so the server cannot answer it). */
  readonly incomplete?: boolean;
}

const TIMEOUT_MS = 10_000;

export class Transport {
  readonly #agent: Agent;

  constructor(
    readonly port: number,
    maxSockets = 8,
  ) {
    this.#agent = new Agent({ keepAlive: true, maxSockets });
  }

  close(): void {
    this.#agent.destroy();
  }

  async send(request: FuzzRequest): Promise<FuzzResponse> {
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Both transports give up after TIMEOUT_MS; this is the net under them, so that no client
    // quirk can hang a run (Node's client handles CONNECT apart, for one).
    const giveUp = new Promise<FuzzResponse>((resolve) => {
      timer = setTimeout(
        () => resolve(unanswered(started, 'http', `the test's client gave up after ${TIMEOUT_MS + 2_000} ms`)),
        TIMEOUT_MS + 2_000,
      );
    });
    try {
      return await Promise.race([this.#send(request), giveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #send(request: FuzzRequest): Promise<FuzzResponse> {
    // Node's client turns a CONNECT into a tunnel: send it as bytes.
    if (request.raw !== undefined || request.chunked || request.incomplete || request.noHost || request.method.toUpperCase() === 'CONNECT')
      return this.#raw(request);
    try {
      return await this.#http(request);
    } catch (error) {
      // Node's client refused to build it (a character it does not send): send the bytes.
      if ((error as { refused?: boolean }).refused) return this.#raw(request);
      throw error;
    }
  }

  /** The bytes of a request, as `raw` would send them. */
  serialise(request: FuzzRequest): Buffer {
    if (request.raw !== undefined) return request.raw;
    const head = [`${request.method} ${request.target} HTTP/1.1`];
    if (!request.noHost) head.push(`Host: 127.0.0.1:${this.port}`);
    for (const [name, value] of request.headers) head.push(`${name}: ${value}`);
    const named = (name: string) => request.headers.some(([n]) => n.toLowerCase() === name);
    let body = request.body ?? Buffer.alloc(0);
    if (request.chunked) {
      if (!named('transfer-encoding')) head.push('Transfer-Encoding: chunked');
      body = chunk(body);
    } else if (request.body !== undefined && !named('content-length')) head.push(`Content-Length: ${body.length}`);
    if (!named('connection')) head.push('Connection: close');
    return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
  }

  #http(request: FuzzRequest): Promise<FuzzResponse> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      // Headers as an array keep their order and repeats, but Node then adds no Host of its own.
      const headers: string[] = ['Host', `127.0.0.1:${this.port}`];
      for (const [name, value] of request.headers) headers.push(name, value);
      const hasLength = request.headers.some(([name]) => name.toLowerCase() === 'content-length');
      if (request.body !== undefined && !hasLength) headers.push('Content-Length', String(request.body.length));
      let req: ReturnType<typeof httpRequest>;
      try {
        req = httpRequest(
          { host: '127.0.0.1', port: this.port, method: request.method, path: request.target, headers, agent: this.#agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (data: Buffer) => chunks.push(data));
            res.on('error', (error) => resolve(unanswered(started, 'http', String(error))));
            // A connection cut mid-answer: no `end` (a second resolve after `end` does nothing).
            res.on('close', () => resolve(unanswered(started, 'http', 'connection closed during the answer')));
            res.on('end', () =>
              resolve({
                answered: true,
                status: res.statusCode ?? 0,
                headers: joinHeaders(res.rawHeaders),
                body: Buffer.concat(chunks),
                ms: Date.now() - started,
                transport: 'http',
              }),
            );
          },
        );
      } catch (error) {
        reject(Object.assign(new Error(String(error)), { refused: true }));
        return;
      }
      req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
      req.on('error', (error) => resolve(unanswered(started, 'http', String(error))));
      req.end(request.body);
    });
  }

  #raw(request: FuzzRequest): Promise<FuzzResponse> {
    const started = Date.now();
    const bytes = this.serialise(request);
    // A byte-level mutation can make a request unfinished too (a Content-Length digit flipped
    // upwards): such a request is never answered, and the client ends it like any other.
    const unfinished = request.incomplete === true || isIncomplete(bytes);
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1');
      let received = Buffer.alloc(0);
      let settled = false;
      const finish = (response: FuzzResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(unfinished ? { ...response, incomplete: true } : response);
      };
      const timer = setTimeout(
        () => finish(parseAnswer(received, started, `no answer within ${TIMEOUT_MS} ms`) ?? unanswered(started, 'raw', 'timeout')),
        TIMEOUT_MS,
      );
      socket.on('data', (data: Buffer) => {
        received = Buffer.concat([received, data]);
        const response = parseAnswer(received, started);
        if (response !== undefined) finish(response);
      });
      socket.on('error', (error) => finish(parseAnswer(received, started, String(error)) ?? unanswered(started, 'raw', String(error))));
      socket.on('close', () =>
        finish(parseAnswer(received, started, 'closed') ?? unanswered(started, 'raw', 'connection closed without an answer')),
      );
      socket.write(bytes);
      // An unfinished request is never finished by its client: half-close, so that the server
      // sees the end of it.
      if (unfinished) setTimeout(() => socket.end(), 200);
    });
  }
}

function unanswered(started: number, transport: 'http' | 'raw', error: string): FuzzResponse {
  return { answered: false, status: 0, headers: {}, body: Buffer.alloc(0), error, ms: Date.now() - started, transport };
}

function joinHeaders(raw: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    headers[name] = headers[name] === undefined ? raw[i + 1]! : `${headers[name]}, ${raw[i + 1]!}`;
  }
  return headers;
}

/**
 * The answer in `bytes`, interim 1xx answers skipped: `undefined` while it is incomplete and
 * the connection open; once it ended (`ended` says how), whatever came, or `undefined` when no
 * status line did.
 */
function parseAnswer(bytes: Buffer, started: number, ended?: string): FuzzResponse | undefined {
  let offset = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', offset, 'latin1');
    if (end < 0) return undefined;
    const head = bytes.subarray(offset, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
    const raw: string[] = [];
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      raw.push(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    if (status >= 100 && status < 200) {
      offset = end + 4;
      continue;
    }
    const headers = joinHeaders(raw);
    const rest = bytes.subarray(end + 4);
    const answer = (body: Buffer, error?: string): FuzzResponse => ({
      answered: status > 0,
      status,
      headers,
      body,
      ms: Date.now() - started,
      transport: 'raw',
      ...(error === undefined ? {} : { error }),
    });
    let body: Buffer | undefined;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(rest);
    else if (headers['content-length'] !== undefined)
      body = rest.length >= Number(headers['content-length']) ? rest.subarray(0, Number(headers['content-length'])) : undefined;
    if (body !== undefined) return answer(body);
    return ended === undefined ? undefined : answer(rest, ended);
  }
}

/**
 * Whether the first request in `bytes` is unfinished: its head never ends, its body is shorter
 * than its Content-Length, or its chunked body has no last chunk. (A request Node rejects on
 * sight is answered anyway; this only tells which silences are legitimate.)
 */
export function isIncomplete(bytes: Buffer): boolean {
  const end = bytes.indexOf('\r\n\r\n', 0, 'latin1');
  if (end < 0) return true;
  const raw: string[] = [];
  for (const line of bytes.subarray(0, end).toString('latin1').split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    raw.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const headers = joinHeaders(raw);
  const body = bytes.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) return dechunk(body) === undefined;
  const length = headers['content-length'];
  return length !== undefined && /^\d+$/.test(length) && body.length < Number(length);
}

/** A chunked body, or `undefined` until its last chunk has come. */
function dechunk(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const line = bytes.indexOf('\r\n', at, 'latin1');
    if (line < 0) return undefined;
    const size = parseInt(bytes.subarray(at, line).toString('latin1'), 16);
    if (!(size > 0)) return Buffer.concat(parts);
    if (bytes.length < line + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(line + 2, line + 2 + size));
    at = line + 2 + size + 2;
  }
}

/** A body in chunks of random-looking (but deterministic) sizes, with the last chunk. */
function chunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0, size = 1; at < body.length; at += size, size = (size * 7 + 3) % 65_536 || 1) {
    const piece = body.subarray(at, at + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}
