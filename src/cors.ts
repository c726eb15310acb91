import type { HangtimeRequest, PlainResponse } from './http.js';
import { assertKnownOptions } from './options.js';

export interface CorsOptions {
  /** Allowed origins: `'*'`, one origin, a list, or a predicate. Default `'*'`. */
  readonly origin?: '*' | string | readonly string[] | ((origin: string) => boolean);
  /** Send `Access-Control-Allow-Credentials: true` (needs a concrete origin, not `'*'`). Default `false`. */
  readonly credentials?: boolean;
  /** How long browsers may cache a preflight, in seconds. Default `600`. */
  readonly maxAgeSeconds?: number;
}

export interface ResolvedCors {
  readonly allows: (origin: string) => boolean;
  readonly any: boolean;
  readonly credentials: boolean;
  readonly maxAgeSeconds: number;
}

export function resolveCors(option: true | CorsOptions | undefined): ResolvedCors | undefined {
  if (option === undefined) return undefined;
  const options: CorsOptions = option === true ? {} : option;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('Expected `cors` to be `true` or an object');
  }
  assertKnownOptions(options, ['origin', 'credentials', 'maxAgeSeconds'], 'createHangtime()', 'cors.');
  const origin = options.origin ?? '*';
  let allows: (origin: string) => boolean;
  if (typeof origin === 'function') allows = origin;
  else if (origin === '*') allows = () => true;
  else if (typeof origin === 'string') allows = (o) => o === origin;
  else if (Array.isArray(origin)) allows = (o) => origin.includes(o);
  else throw new TypeError('Expected `cors.origin` to be "*", an origin, a list of origins or a function');
  const credentials = options.credentials ?? false;
  if (typeof credentials !== 'boolean') throw new TypeError('Expected `cors.credentials` to be a boolean');
  const maxAgeSeconds = options.maxAgeSeconds ?? 600;
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
    throw new TypeError(`Expected \`cors.maxAgeSeconds\` to be a whole number >= 0, got ${String(maxAgeSeconds)}`);
  }
  return { allows, any: origin === '*' && !credentials, credentials, maxAgeSeconds };
}

export function corsHeaders(cors: ResolvedCors, origin: string | null): Record<string, string> {
  if (cors.any) return { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'server-timing, retry-after' };
  if (origin === null || !cors.allows(origin)) return { vary: 'Origin' };
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'server-timing, retry-after',
    vary: 'Origin',
    ...(cors.credentials ? { 'access-control-allow-credentials': 'true' } : {}),
  };
}

export function preflight(cors: ResolvedCors, origin: string | null, request: HangtimeRequest): PlainResponse {
  const requested = request.headers.get('access-control-request-headers');
  return {
    status: 204,
    headers: {
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-max-age': String(cors.maxAgeSeconds),
      ...(requested ? { 'access-control-allow-headers': requested } : {}),
      ...corsHeaders(cors, origin),
      'cache-control': 'no-store',
    },
    body: '',
  };
}
