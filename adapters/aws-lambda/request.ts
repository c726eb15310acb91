import { Buffer } from 'node:buffer';
import type { HangtimeRequest } from '../../src/http.js';
import type { StringListMap, StringMap } from './types.js';

/** An HTTP request as a Lambda-style event describes it, whatever the event's shape. */
export interface RequestParts {
  readonly method: string;
  readonly path: string;
  /** Percent-encoded, without the `?`. */
  readonly query: string;
  /** Name (as received) and value, one entry per value, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly host: string;
  readonly body: string | null | undefined;
  readonly isBase64Encoded: boolean;
}

/** Header entries from the multi-value map when the event has one (it keeps repeats), else the single map. */
export function headerEntries(single: StringMap | null | undefined, multi: StringListMap | null | undefined): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  if (multi && Object.keys(multi).length > 0) {
    for (const [name, values] of Object.entries(multi)) for (const value of values ?? []) entries.push([name, value]);
  } else if (single) {
    for (const [name, value] of Object.entries(single)) if (value !== undefined) entries.push([name, value]);
  }
  return entries;
}

/**
 * A query string from parameter maps, repeated keys kept in order.
 * @param encoded whether the values are still percent-encoded (ALB passes them as sent; API
 *   Gateway's payload format 1.0 decodes them)
 */
export function queryFrom(single: StringMap | null | undefined, multi: StringListMap | null | undefined, encoded: boolean): string {
  const escape = encoded ? (text: string) => text : encodeURIComponent;
  const pairs: string[] = [];
  if (multi && Object.keys(multi).length > 0) {
    for (const [name, values] of Object.entries(multi)) for (const value of values ?? []) pairs.push(`${escape(name)}=${escape(value)}`);
  } else if (single) {
    for (const [name, value] of Object.entries(single)) if (value !== undefined) pairs.push(`${escape(name)}=${escape(value)}`);
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
      return parts.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    },
  };
}

/** A Web `Request` for a Web handler: absolute URL, every header value, the decoded body. */
export function toWebRequest(parts: RequestParts): Request {
  const headers = new Headers();
  for (const [name, value] of parts.headers) headers.append(name, value);
  const protocol = (headerValue(parts, 'x-forwarded-proto') ?? 'https').split(',')[0]!.trim();
  const url = `${protocol}://${parts.host}${parts.path}${parts.query === '' ? '' : `?${parts.query}`}`;
  const hasBody = parts.method !== 'GET' && parts.method !== 'HEAD' && parts.body != null && parts.body !== '';
  const body = hasBody ? (parts.isBase64Encoded ? Buffer.from(parts.body!, 'base64') : parts.body!) : null;
  return new Request(url, { method: parts.method, headers, body });
}
