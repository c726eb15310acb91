import { headerEntries, queryFrom, type RequestParts } from '../lambda/request.js';
import type { NetlifyV1Event } from './types.js';

/** Translate a v1 event; anything else is a clear `TypeError`. */
export function netlifyV1Parts(event: unknown): RequestParts {
  // v1 events have method and path at the top, like API Gateway's payload format 1.0, and
  // `rawUrl`/`rawQuery`, which keep the query exactly as sent.
  const candidate = event as Partial<NetlifyV1Event> | null;
  if (typeof candidate?.httpMethod !== 'string' || typeof candidate.path !== 'string') {
    const keys = typeof event === 'object' && event !== null ? Object.keys(event).slice(0, 8).join(', ') : typeof event;
    throw new TypeError(
      `netlifyV1() handles Netlify Functions v1 HTTP events ({ httpMethod, path, headers, … }); got ${keys === '' ? 'an empty object' : `{ ${keys} }`}`,
    );
  }
  const v1 = candidate as NetlifyV1Event;
  const headers = headerEntries(v1.headers, v1.multiValueHeaders);
  return {
    method: v1.httpMethod,
    path: v1.path,
    query: v1.rawQuery ?? queryFrom(v1.queryStringParameters, v1.multiValueQueryStringParameters, false),
    headers,
    statedUrl: v1.rawUrl,
    body: v1.body,
    isBase64Encoded: v1.isBase64Encoded === true,
  };
}
