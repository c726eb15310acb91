import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hangtime } from '../../src/hangtime.js';
import type { HandlerContext, HangtimeRequest, WebHandler } from '../../src/http.js';
import { assertPositiveNumber } from '../../src/options.js';
import { toNodeListener } from '../node/index.js';
import {
  PROFILES,
  beforeDeadline,
  lateAnswer,
  prepareAdapter,
  requestContext,
  respondWeb,
  type AdapterTarget,
  type LimitOptions,
  type Limits,
} from '../profiles.js';

export interface VercelOptions extends LimitOptions {
  /**
   * The route's `maxDuration`, in seconds: pass the very constant the route exports
   * (`export const maxDuration = 60; … vercel(handler, { maxDuration })`). Vercel has no API
   * that tells a function its limit, so this number is the deadline, counted from the start of
   * the invocation. Required.
   */
  readonly maxDuration: number;
}

/** A route handler: Next.js passes a route context as the second argument, which is not used. */
export type VercelHandler = (request: Request, routeContext?: unknown) => Promise<Response>;

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

/** A legacy Node.js Vercel Function: `export default function handler(req, res)`. */
export type VercelNodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The same for the legacy Node.js signature `(req, res)` (`api/*.ts` without a Web export, Next.js
 * Pages Router API routes). Resolves when the answer is sent.
 *
 * @example
 * // api/poll.ts, with "functions": { "api/poll.ts": { "maxDuration": 60 } } in vercel.json
 * import { vercelNode } from 'hangtime/vercel';
 * import { hangtime } from '../lib/hangtime';
 *
 * export default vercelNode(hangtime, { maxDuration: 60 });
 */
export function vercelNode(target: Hangtime | WebHandler, options: VercelOptions): VercelNodeHandler {
  const { resolved, limits, timeLimitMs } = setUp(target, options, 'vercelNode()');
  // The Node adapter does the (req, res) translation; the platform limits ride in the context.
  const withLimits = (context: HandlerContext = {}): HandlerContext => ({
    ...context,
    ...requestContext(limits, Date.now(), context.deadline),
  });
  const hangtime = resolved.hangtime;
  const inner: Hangtime | WebHandler =
    hangtime === undefined
      ? (request, context) => respondWeb(resolved, request, withLimits(context), limits.onError)
      : // toNodeListener calls nothing but `respond` on a hangtime instance.
        ({
          respond: (request: HangtimeRequest, context?: HandlerContext) => {
            const full = withLimits(context);
            return beforeDeadline(hangtime.respond(request, full), full, lateAnswer, limits.onError);
          },
        } as Pick<Hangtime, 'respond'> as Hangtime);
  const listener = toNodeListener(inner, { timeLimitMs, onError: limits.onError });
  return (req, res) =>
    new Promise<void>((resolve) => {
      res.once('close', () => resolve());
      listener(req, res);
    });
}

function setUp(target: Hangtime | WebHandler, options: VercelOptions, what: string): { resolved: AdapterTarget; limits: Limits; timeLimitMs: number } {
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

export { ENVIRONMENT, PROFILES } from '../profiles.js';
export type { LimitOptions, PlatformProfile, ProfileName } from '../profiles.js';
