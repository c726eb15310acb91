import type { Hangtime } from '../../src/hangtime.js';
import type { WebHandler } from '../../src/http.js';
import { respondWeb } from '../deadline.js';
import { invoke, remainingMs } from '../lambda/invoke.js';
import { fitResult, formatResult } from '../lambda/result.js';
import { prepareAdapter, requestContext, resolveTimeLimit, type AdapterTarget, type Limits } from '../limits.js';
import { PROFILES } from '../profiles.js';
import { netlifyV1Parts } from './events.js';
import type { NetlifyHandler, NetlifyOptions, NetlifyV1Handler } from './types.js';
import { declareOneRequestPerInstance } from '../../src/instance.js';

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
  return (request) => {
    const arrivedAt = Date.now();
    return respondWeb(resolved, request, requestContext(limits, arrivedAt, arrivedAt + timeLimitMs), limits.onError);
  };
}

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
  return async (event, context) => {
    const arrivedAt = Date.now();
    const parts = netlifyV1Parts(event);
    const deadline = arrivedAt + Math.min(timeLimitMs, remainingMs(context) ?? Infinity);
    const answer = await invoke(resolved, parts, requestContext(limits, arrivedAt, deadline), limits.onError);
    return fitResult(formatResult(answer, 'v1', limits.onError), 'v1', limits.maxResponseBytes, limits.onError);
  };
}

function setUp(
  target: Hangtime | WebHandler,
  options: NetlifyOptions,
  what: string,
): { resolved: AdapterTarget; limits: Limits; timeLimitMs: number } {
  const { resolved, limits } = prepareAdapter(target, options, PROFILES.netlify, ['timeLimitMs'], what);
  // One request per instance: a Redis log waits on one connection (see src/instance.ts).
  declareOneRequestPerInstance();
  return { resolved, limits, timeLimitMs: resolveTimeLimit(PROFILES.netlify, options.timeLimitMs, 'timeLimitMs')! };
}
