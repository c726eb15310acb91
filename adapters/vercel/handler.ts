import type { Hangtime } from '../../src/hangtime.js';
import type { WebHandler } from '../../src/http.js';
import { assertPositiveNumber } from '../../src/options.js';
import { respondWeb } from '../deadline.js';
import { prepareAdapter, requestContext, type AdapterTarget, type Limits } from '../limits.js';
import { PROFILES } from '../profiles.js';
import type { VercelHandler, VercelOptions } from './types.js';

/**
 * Serve a hangtime endpoint (or any Web handler) as a Vercel Function or Next.js route handler.
 * Polls answer before the route's `maxDuration`; with `"supportsCancellation": true` in
 * `vercel.json`, a client that disconnects ends its hold at once (`request.signal`).
 *
 * @example
 * // app/api/poll/route.ts
 * import { vercel } from 'hangtime/vercel';
 * import { hangtime } from '@/lib/hangtime';
 *
 * export const maxDuration = 60;
 * export const GET = vercel(hangtime, { maxDuration });
 */
export function vercel(target: Hangtime | WebHandler, options: VercelOptions): VercelHandler {
  const { resolved, limits, timeLimitMs } = setUp(target, options, 'vercel()');
  return async (request) => {
    const arrivedAt = Date.now();
    return respondWeb(resolved, request, requestContext(limits, arrivedAt, arrivedAt + timeLimitMs), limits.onError);
  };
}

/** Check the options of `vercel()` or `vercelNode()` once, at startup. */
export function setUp(
  target: Hangtime | WebHandler,
  options: VercelOptions,
  what: string,
): { resolved: AdapterTarget; limits: Limits; timeLimitMs: number } {
  // Checked first: without it nothing else about this route is right.
  if (typeof options !== 'object' || options === null || options.maxDuration === undefined) {
    throw new TypeError(
      `Expected \`maxDuration\`: the route's maxDuration in seconds, the same constant it exports (export const maxDuration = 60; ${what.replace('()', '')}(handler, { maxDuration }))`,
    );
  }
  const maxDuration = assertPositiveNumber(options.maxDuration, 'maxDuration');
  const { resolved, limits } = prepareAdapter(target, options, PROFILES.vercel, ['maxDuration'], what);
  return { resolved, limits, timeLimitMs: maxDuration * 1000 };
}
