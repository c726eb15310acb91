import type { Hangtime } from '../../src/hangtime.js';
import type { WebHandler } from '../../src/http.js';
import { invoke, remainingMs } from '../aws-lambda/invoke.js';
import { fitResult, formatResult } from '../aws-lambda/result.js';
import type { LambdaHttpResult } from '../aws-lambda/types.js';
import {
  PROFILES,
  prepareAdapter,
  requestContext,
  resolveTimeLimit,
  respondWeb,
  type AdapterTarget,
  type LimitOptions,
  type Limits,
} from '../profiles.js';
import { netlifyV1Parts, type NetlifyV1Event } from './v1.js';
import { declareOneRequestPerInstance } from '../../src/instance.js';

export interface NetlifyOptions extends LimitOptions {
  /**
   * The synchronous function limit, in ms. Netlify's functions get no clock, so this is the
   * deadline, counted from the start of the invocation. Default: `HANGTIME_TIME_LIMIT_MS`, else
   * 60 000 (current docs; accounts on older limits have 10 000 or 26 000).
   */
  readonly timeLimitMs?: number;
}

/** A Netlify Functions v2 handler: `export default netlify(…)`. The Netlify `Context` is not used. */
export type NetlifyHandler = (request: Request, context?: unknown) => Promise<Response>;

/**
 * Serve a hangtime endpoint (or any Web handler) as a Netlify Function (v2: `Request` in,
 * `Response` out). Polls answer before the synchronous function limit.
 *
 * @example
 * // netlify/functions/poll.mts
 * import { netlify } from 'hangtime/netlify';
 * import { hangtime } from '../../lib/hangtime.mjs';
 *
 * export default netlify(hangtime);
 * export const config = { path: '/api/poll' };
 */
export function netlify(target: Hangtime | WebHandler, options: NetlifyOptions = {}): NetlifyHandler {
  const { resolved, limits, timeLimitMs } = setUp(target, options, 'netlify()');
  // One request per instance: a Redis log waits on one connection (see src/instance.ts).
  declareOneRequestPerInstance();
  return (request) => {
    const arrivedAt = Date.now();
    return respondWeb(resolved, request, requestContext(limits, arrivedAt, arrivedAt + timeLimitMs), limits.onError);
  };
}

/** A Netlify Functions v1 handler: `export const handler = netlifyV1(…)`. */
export type NetlifyV1Handler = (event: NetlifyV1Event, context?: unknown) => Promise<LambdaHttpResult>;

/**
 * The same for Netlify Functions v1 (`export const handler = async (event, context) => …`).
 * `context.getRemainingTimeInMillis()` is used when it is real; compatibility wrappers stub it
 * to return 0, and then the configured limit alone applies.
 *
 * @example
 * // netlify/functions/poll.mts
 * import { netlifyV1 } from 'hangtime/netlify';
 * import { hangtime } from '../../lib/hangtime.mjs';
 *
 * export const handler = netlifyV1(hangtime);
 */
export function netlifyV1(target: Hangtime | WebHandler, options: NetlifyOptions = {}): NetlifyV1Handler {
  const { resolved, limits, timeLimitMs } = setUp(target, options, 'netlifyV1()');
  // One request per instance: a Redis log waits on one connection (see src/instance.ts).
  declareOneRequestPerInstance();
  return async (event, context) => {
    const arrivedAt = Date.now();
    const parts = netlifyV1Parts(event);
    const deadline = arrivedAt + Math.min(timeLimitMs, remainingMs(context) ?? Infinity);
    const answer = await invoke(resolved, parts, requestContext(limits, arrivedAt, deadline), limits.onError);
    return fitResult(formatResult(answer, 'v1', limits.onError), 'v1', limits.maxResponseBytes, limits.onError);
  };
}

function setUp(target: Hangtime | WebHandler, options: NetlifyOptions, what: string): { resolved: AdapterTarget; limits: Limits; timeLimitMs: number } {
  const { resolved, limits } = prepareAdapter(target, options, PROFILES.netlify, ['timeLimitMs'], what);
  return { resolved, limits, timeLimitMs: resolveTimeLimit(PROFILES.netlify, options.timeLimitMs, 'timeLimitMs')! };
}

export type { NetlifyV1Event } from './v1.js';
export type { LambdaHttpResult } from '../aws-lambda/types.js';
export { ENVIRONMENT, PROFILES } from '../profiles.js';
export type { LimitOptions, PlatformProfile, ProfileName } from '../profiles.js';
