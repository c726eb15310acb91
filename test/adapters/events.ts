import type { LambdaHttpEvent } from '../../adapters/aws-lambda/index.js';
import { fixture } from './support.js';

/** The saved Lambda events, with the front door and answer format each must be recognised as. */
export const LAMBDA_FIXTURES = [
  { name: 'rest-v1', door: 'rest', format: 'v1' },
  { name: 'http-api-v2', door: 'http-api', format: 'v2' },
  { name: 'function-url', door: 'function-url', format: 'v2' },
  { name: 'alb-single', door: 'alb', format: 'alb' },
  { name: 'alb-multi', door: 'alb', format: 'alb-multi' },
] as const;

export type LambdaFixture = (typeof LAMBDA_FIXTURES)[number];

type Json = Record<string, unknown>;
type Pairs = ReadonlyArray<readonly [string, string]>;

/**
 * A saved event changed the way its front door would send another request: method, query
 * (decoded for API Gateway's format 1.0, as sent for ALB and format 2.0), headers, body.
 */
export function lambdaEvent(
  which: LambdaFixture,
  change: { method?: string; query?: Pairs; headers?: Record<string, string>; body?: Uint8Array } = {},
): LambdaHttpEvent {
  return fixture<LambdaHttpEvent>(which.name, (event) => {
    if (change.method !== undefined) {
      if (which.format === 'v2') ((event.requestContext as Json).http as Json).method = change.method;
      else event.httpMethod = change.method;
    }
    if (change.query !== undefined) setQuery(event, which.format, change.query);
    for (const [name, value] of Object.entries(change.headers ?? {})) setHeader(event, which.format, name, value);
    if (change.body !== undefined) {
      event.body = Buffer.from(change.body).toString('base64');
      event.isBase64Encoded = true;
    }
  });
}

function setQuery(event: Json, format: LambdaFixture['format'], pairs: Pairs): void {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of pairs) {
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  const encoded = (map: Record<string, string>) =>
    Object.fromEntries(Object.entries(map).map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)]));
  switch (format) {
    case 'v1':
      event.queryStringParameters = single;
      event.multiValueQueryStringParameters = multi;
      break;
    case 'v2':
      event.rawQueryString = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
      event.queryStringParameters = Object.fromEntries(Object.entries(multi).map(([k, v]) => [k, v.join(',')]));
      break;
    case 'alb':
      if (pairs.length !== Object.keys(single).length) throw new Error('ALB without multi-value keeps one value per key');
      event.queryStringParameters = encoded(single);
      break;
    case 'alb-multi':
      event.multiValueQueryStringParameters = Object.fromEntries(
        Object.entries(multi).map(([k, v]) => [encodeURIComponent(k), v.map(encodeURIComponent)]),
      );
      break;
  }
}

function setHeader(event: Json, format: LambdaFixture['format'], name: string, value: string): void {
  if (format === 'v1') {
    (event.headers as Json)[name] = value;
    (event.multiValueHeaders as Json)[name] = [value];
  } else if (format === 'alb-multi') {
    (event.multiValueHeaders as Json)[name.toLowerCase()] = [value];
  } else {
    (event.headers as Json)[name.toLowerCase()] = value;
  }
}
