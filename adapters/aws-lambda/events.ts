import { headerEntries, queryFrom, type RequestParts } from '../lambda/request.js';
import type { ResultFormat } from '../lambda/types.js';
import type { AlbEvent, ApiGatewayV1Event, ApiGatewayV2Event, FrontDoor } from './types.js';

export interface RecognisedEvent {
  readonly frontDoor: FrontDoor;
  readonly format: ResultFormat;
  readonly parts: RequestParts;
  /** When the front door received the request (its timeout counts from there), if it says. */
  readonly receivedAt: number | undefined;
}

/**
 * Tell an HTTP event's front door from its shape, and translate it. One small translator per
 * shape; anything else (an SQS batch, a test event, a typo) is a clear `TypeError`.
 */
export function recogniseEvent(event: unknown): RecognisedEvent {
  if (isAlbEvent(event)) return fromAlb(event);
  if (isV2Event(event)) return fromV2(event);
  if (isV1Event(event)) return fromV1(event);
  const keys = typeof event === 'object' && event !== null ? Object.keys(event).slice(0, 8).join(', ') : typeof event;
  throw new TypeError(
    `awsLambda() handles HTTP events from API Gateway (REST or HTTP API), Function URLs and ALB; got ${keys === '' ? 'an empty object' : `{ ${keys} }`}`,
  );
}

// ALB events share `httpMethod` and `path` with payload format 1.0; `requestContext.elb` is the
// only field that tells them apart, so this guard runs first.
function isAlbEvent(event: unknown): event is AlbEvent {
  const context = (event as { requestContext?: { elb?: unknown } } | null)?.requestContext;
  return typeof context?.elb === 'object' && context.elb !== null && typeof (event as AlbEvent).httpMethod === 'string';
}

// Payload format 2.0 is the only shape with `rawPath`, and names the method under
// `requestContext.http` (1.0 puts it at the top); `version` alone is not enough because HTTP APIs
// set `version: "1.0"` on format 1.0 events too.
function isV2Event(event: unknown): event is ApiGatewayV2Event {
  const candidate = event as Partial<ApiGatewayV2Event> | null;
  return typeof candidate?.rawPath === 'string' && typeof candidate.requestContext?.http?.method === 'string';
}

// Payload format 1.0 (REST APIs; HTTP APIs configured for 1.0): method and path at the top, and
// an API Gateway `requestContext` (ALB was ruled out above).
function isV1Event(event: unknown): event is ApiGatewayV1Event {
  const candidate = event as Partial<ApiGatewayV1Event> | null;
  return (
    typeof candidate?.httpMethod === 'string' &&
    typeof candidate.path === 'string' &&
    typeof candidate.requestContext === 'object' &&
    candidate.requestContext !== null
  );
}

function fromV1(event: ApiGatewayV1Event): RecognisedEvent {
  const headers = headerEntries(event.headers, event.multiValueHeaders);
  return {
    // An HTTP API sends format 1.0 with `version: "1.0"`; REST APIs send no version.
    frontDoor: event.version === '1.0' ? 'http-api' : 'rest',
    format: 'v1',
    receivedAt: epochMs(event.requestContext.requestTimeEpoch),
    parts: {
      method: event.httpMethod,
      path: event.path,
      query: queryFrom(event.queryStringParameters, event.multiValueQueryStringParameters, false),
      headers,
      statedUrl: stated(event.requestContext.domainName),
      body: event.body,
      isBase64Encoded: event.isBase64Encoded === true,
    },
  };
}

// Function URLs keep their generated domain (`<id>.lambda-url.<region>.on.aws`) in
// `requestContext.domainName`, even behind CloudFront; HTTP APIs show the API's domain. When in
// doubt the event counts as an HTTP API, whose 30 s limit is the safer assumption.
const FUNCTION_URL_DOMAIN = /\.lambda-url\.[a-z0-9-]+\.on\.aws$/;

function fromV2(event: ApiGatewayV2Event): RecognisedEvent {
  let headers = headerEntries(event.headers, undefined);
  if (Array.isArray(event.cookies) && event.cookies.length > 0) {
    // `cookies[]` is the Cookie header split, and API Gateway drops the header itself; a Function
    // URL called with curl, and serverless-offline's HTTP API, keep the header too. One source
    // only, or every cookie arrives twice.
    headers = headers.filter(([name]) => name.toLowerCase() !== 'cookie');
    headers.push(['cookie', event.cookies.join('; ')]);
  }
  const domain = event.requestContext.domainName;
  return {
    frontDoor: domain !== undefined && FUNCTION_URL_DOMAIN.test(domain) ? 'function-url' : 'http-api',
    format: 'v2',
    receivedAt: epochMs(event.requestContext.timeEpoch),
    parts: {
      method: event.requestContext.http.method,
      path: event.rawPath,
      query: event.rawQueryString ?? '',
      headers,
      statedUrl: stated(domain),
      body: event.body,
      isBase64Encoded: event.isBase64Encoded === true,
    },
  };
}

function fromAlb(event: AlbEvent): RecognisedEvent {
  const headers = headerEntries(event.headers, event.multiValueHeaders);
  return {
    frontDoor: 'alb',
    // With multi-value headers enabled, the ALB reads only `multiValueHeaders` in the answer.
    format: event.multiValueHeaders === undefined ? 'alb' : 'alb-multi',
    receivedAt: undefined,
    parts: {
      method: event.httpMethod,
      path: event.path,
      query: queryFrom(event.queryStringParameters, event.multiValueQueryStringParameters, true),
      headers,
      statedUrl: undefined,
      body: event.body,
      isBase64Encoded: event.isBase64Encoded === true,
    },
  };
}

/** API Gateway and Function URLs are served over HTTPS only. */
function stated(domainName: string | undefined): string | undefined {
  return domainName === undefined ? undefined : `https://${domainName}`;
}

/** A plausible epoch in ms (after 2001), else nothing: a missing or zero timestamp must not move the deadline. */
function epochMs(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 1e12 ? value : undefined;
}
