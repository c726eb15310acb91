import { HangtimeError, isHangtimeError, type ErrorCode } from './errors.js';
import type { SignalLike } from './signal.js';

/**
 * The request shape the core reads: a subset of the Web `Request`, so adapters can hand the
 * core either a real `Request` or a lighter object built straight from their platform's
 * request (no `Request` construction per poll on the hot path).
 */
export interface HangtimeRequest {
  readonly method: string;
  /** Absolute URL, or path plus query string. */
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  /** Aborts when the client disconnects (an `AbortSignal`, or any {@link SignalLike}). */
  readonly signal?: SignalLike;
  /** The body as text (publish only). */
  text?(): Promise<string>;
}

/** What an adapter tells the core about the platform, per request. */
export interface HandlerContext {
  /** When the platform stops this invocation, in epoch milliseconds. */
  readonly deadline?: number | undefined;
  /** Aborts when the client disconnects (used when the request carries no signal). */
  readonly signal?: SignalLike | undefined;
  /** The platform's buffered-response cap, in bytes; answers are cut to stay under it. */
  readonly maxResponseBytes?: number | undefined;
  /** Time kept free before `deadline`; overrides the server's `safetyMarginMs`. */
  readonly safetyMarginMs?: number | undefined;
  /** The adapter's own hold cap (its `maxWaitMs` option or `HANGTIME_MAX_WAIT_MS`), in ms: it
   * caps the hold as the client's `wait` does (a hold it ends is a `timeout`); `deadline`
   * stays the platform's limit. A custom handler passes it to `wait()` as `waitMs`. */
  readonly maxWaitMs?: number | undefined;
}

/** A fully buffered answer: what every serverless front door takes. */
export interface PlainResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A Web-standard handler, the shape every adapter wraps. */
export type WebHandler = (request: Request, context?: HandlerContext) => Response | Promise<Response>;

export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
};

export function jsonResponse(status: number, body: string, headers?: Record<string, string>): PlainResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body };
}

export function errorResponse(
  status: number,
  code: ErrorCode | 'cursor_expired',
  message: string,
  extra?: { headers?: Record<string, string>; fields?: string },
): PlainResponse {
  const body = `{"error":{"code":"${code}","message":${JSON.stringify(message)}}${extra?.fields ?? ''}}`;
  return jsonResponse(status, body, extra?.headers);
}

/** The answer for a thrown error: its own status for a {@link HangtimeError}, 500 otherwise. */
export function responseForError(error: unknown): PlainResponse {
  if (isHangtimeError(error)) {
    const headers: Record<string, string> = error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) };
    let fields = '';
    for (const [name, value] of Object.entries(error.details ?? {})) fields += `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
    return errorResponse(error.status, error.code, error.message, { headers, fields });
  }
  return errorResponse(500, 'internal', 'Internal error');
}

/**
 * Query parameters of a URL given absolute or as path plus query, as name → values.
 * Written here rather than using `URLSearchParams` for every poll: that allocated measurably
 * on the hot path, and poll queries are plain ASCII (channels, base64url cursors) that need no
 * decoding. Anything with `%` or `+` goes through `URLSearchParams`, so decoding is the
 * standard's.
 */
export function parseQuery(url: string): Map<string, string[]> {
  const query = new Map<string, string[]>();
  const start = url.indexOf('?');
  if (start < 0) return query;
  const hash = url.indexOf('#', start);
  const text = hash < 0 ? url.slice(start + 1) : url.slice(start + 1, hash);
  if (text.includes('%') || text.includes('+')) {
    for (const [name, value] of new URLSearchParams(text)) add(query, name, value);
    return query;
  }
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) add(query, pair, '');
    else add(query, pair.slice(0, eq), pair.slice(eq + 1));
  }
  return query;
}

function add(query: Map<string, string[]>, name: string, value: string): void {
  const values = query.get(name);
  if (values === undefined) query.set(name, [value]);
  else values.push(value);
}

/** Turn a plain answer into a Web `Response`. */
export function toResponse(plain: PlainResponse): Response {
  // 204 and 304 must not have a body.
  const body = plain.status === 204 || plain.status === 304 ? null : plain.body;
  return new Response(body, { status: plain.status, headers: plain.headers });
}

export { HangtimeError };
