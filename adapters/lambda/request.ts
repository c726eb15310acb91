import type { HangtimeRequest } from '../../src/http.js';
import { base64ToBytes, decodeUtf8Lenient, utf8AsLatin1 } from './base64.js';
import type { StringListMap, StringMap } from './types.js';

/** An HTTP request as a Lambda-style event describes it, whatever the event's shape. */
export interface RequestParts {
  readonly method: string;
  readonly path: string;
  /** Percent-encoded, without the `?`. */
  readonly query: string;
  /** Name (as received) and value, one entry per value, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /**
   * Where the event says the request went, apart from its headers: `https://` and
   * `requestContext.domainName`, or Netlify's `rawUrl`. Only its protocol and host are used, for a
   * Web handler's URL, when `X-Forwarded-Proto` or `Host` is missing or unusable.
   */
  readonly statedUrl: string | undefined;
  readonly body: string | null | undefined;
  readonly isBase64Encoded: boolean;
}

/**
 * Header entries: every value of the multi-value map (it keeps repeats), then each header found
 * only in the single map. API Gateway fills both maps alike, but events built by other tools
 * (emulators, test events, proxies that add a header) may put a header in `headers` alone, and
 * dropping it loses an `Origin` or an `Authorization`.
 */
export function headerEntries(single: StringMap | null | undefined, multi: StringListMap | null | undefined): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const [name, values] of Object.entries(multi ?? {})) {
    if (!Array.isArray(values) || values.length === 0) continue;
    seen.add(name.toLowerCase());
    for (const value of values as readonly unknown[]) if (typeof value === 'string') entries.push([name, value]);
  }
  for (const [name, value] of Object.entries(single ?? {})) {
    if (typeof value === 'string' && !seen.has(name.toLowerCase())) entries.push([name, value]);
  }
  return entries;
}

/**
 * A query string from parameter maps, repeated keys kept in order.
 * @param encoded whether the values are still percent-encoded (ALB passes them as sent; API
 *   Gateway's payload format 1.0 decodes them)
 */
export function queryFrom(single: StringMap | null | undefined, multi: StringListMap | null | undefined, encoded: boolean): string {
  const encodePart = encoded ? (text: string) => text : encodeURIComponent;
  const pairs: string[] = [];
  if (multi && Object.keys(multi).length > 0) {
    for (const [name, values] of Object.entries(multi))
      for (const value of values ?? []) pairs.push(`${encodePart(name)}=${encodePart(value)}`);
  } else if (single) {
    for (const [name, value] of Object.entries(single)) if (value !== undefined) pairs.push(`${encodePart(name)}=${encodePart(value)}`);
  }
  return pairs.join('&');
}

/** The value of a header, case-insensitively, repeats joined as `Headers.get` would. */
export function headerValue(parts: Pick<RequestParts, 'headers'>, name: string): string | null {
  const wanted = name.toLowerCase();
  let value: string | null = null;
  for (const [key, entry] of parts.headers) {
    if (key.toLowerCase() !== wanted) continue;
    value = value === null ? entry : `${value}${wanted === 'cookie' ? '; ' : ', '}${entry}`;
  }
  return value;
}

/** The plain request the core's fast path reads: no `Request` built, the body decoded on demand. */
export function toHangtimeRequest(parts: RequestParts): HangtimeRequest {
  let index: Map<string, string | null> | undefined;
  return {
    method: parts.method,
    url: parts.query === '' ? parts.path : `${parts.path}?${parts.query}`,
    headers: {
      get(name) {
        index ??= new Map();
        const key = name.toLowerCase();
        if (!index.has(key)) index.set(key, headerValue(parts, key));
        return index.get(key)!;
      },
    },
    text: async () => {
      const body = parts.body ?? '';
      return parts.isBase64Encoded ? decodeUtf8Lenient(base64ToBytes(body)) : body;
    },
  };
}

/**
 * A Web `Request` for a Web handler: absolute URL, every header value, the decoded body. A header
 * that `Headers` refuses is passed as the bytes the client sent, or left out and reported: a
 * well-formed event is never a 500.
 */
export function toWebRequest(parts: RequestParts, onError: (error: unknown) => void): Request {
  const headers = new Headers();
  for (const [name, value] of parts.headers) appendHeader(headers, name, value, onError);
  const url = `${originOf(parts)}${parts.path}${parts.query === '' ? '' : `?${parts.query}`}`;
  const hasBody = parts.method !== 'GET' && parts.method !== 'HEAD' && parts.body != null && parts.body !== '';
  const body = hasBody ? (parts.isBase64Encoded ? base64ToBytes(parts.body!) : parts.body!) : null;
  return new Request(url, { method: parts.method, headers, body });
}

/**
 * The request's origin: the protocol and `Host` the client used (`X-Forwarded-Proto`, `Host`),
 * else those the event states, else `https://localhost`. Any of them may be unusable in a URL:
 * AWS's sample Function URL events name `<url-id>.lambda-url.us-west-2.on.aws`, emulators name
 * `offlineContext_domainName`, and a client can send any `Host` through an ALB.
 */
function originOf(parts: RequestParts): string {
  const stated = parseUrl(parts.statedUrl);
  const forwarded = headerValue(parts, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const protocol = [forwarded, stated?.protocol.slice(0, -1)].find((candidate) => candidate === 'http' || candidate === 'https') ?? 'https';
  const host = [headerValue(parts, 'host'), stated?.host].find((candidate) => isHost(candidate, protocol)) ?? 'localhost';
  return `${protocol}://${host}`;
}

// A host, with an optional port, and nothing that would move the path: no `/`, `?`, `#`, `@`,
// `\` or white space (the URL parser would read those as path, query, fragment or credentials).
function isHost(candidate: string | null | undefined, protocol: string): candidate is string {
  return typeof candidate === 'string' && candidate !== '' && !/[\s/?#@\\]/.test(candidate) && URL.canParse(`${protocol}://${candidate}/`);
}

function parseUrl(url: string | undefined): URL | undefined {
  if (url === undefined || !URL.canParse(url)) return undefined;
  return new URL(url);
}

function appendHeader(headers: Headers, name: string, value: string, onError: (error: unknown) => void): void {
  try {
    headers.append(name, value);
    return;
  } catch {
    // `Headers` takes bytes (one char each, as Node's own HTTP server presents them); a value
    // with characters beyond U+00FF arrived as UTF-8 on the wire.
  }
  try {
    headers.append(name, utf8AsLatin1(value));
  } catch (error) {
    onError(new TypeError(`The request header ${JSON.stringify(name)} cannot be given to a Web handler; left out`, { cause: error }));
  }
}
