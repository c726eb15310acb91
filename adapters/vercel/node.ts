import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hangtime } from '../../src/hangtime.js';
import type { HandlerContext, HangtimeRequest, WebHandler } from '../../src/http.js';
import { beforeDeadline, lateAnswer, respondWeb } from '../deadline.js';
import { requestContext } from '../limits.js';
import { toNodeListener } from '../node/handler.js';
import type { NodeTarget } from '../node/types.js';
import { setUp } from './handler.js';
import type { VercelOptions } from './types.js';

// hangtime/vercel/node: the Node.js signature, apart from hangtime/vercel so that the Web entry
// imports no `node:*` module and bundles for the Edge runtime.

/** A legacy Node.js Vercel Function: `export default function handler(req, res)`. */
export type VercelNodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The same for the legacy Node.js signature `(req, res)` (`api/*.ts` without a Web export, Next.js
 * Pages Router API routes). Resolves when the answer is sent.
 *
 * @example
 * // api/poll.ts, with "functions": { "api/poll.ts": { "maxDuration": 60 } } in vercel.json
 * import { vercelNode } from 'hangtime/vercel/node';
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
  // toNodeListener calls nothing but `respond` on a hangtime instance; this one answers through
  // its promise (it takes no replier), bounded by the deadline.
  const inner: NodeTarget =
    hangtime === undefined
      ? (request, context) => respondWeb(resolved, request, withLimits(context), limits.onError)
      : {
          respond: (request: HangtimeRequest, context?: HandlerContext) => {
            const full = withLimits(context);
            return beforeDeadline(hangtime.respond(request, full), full, lateAnswer, limits.onError);
          },
        };
  const listener = toNodeListener(inner, { timeLimitMs, onError: limits.onError });
  return (req, res) =>
    new Promise<void>((resolve) => {
      res.once('close', () => resolve());
      listener(req, res);
    });
}

export type { VercelOptions } from './types.js';
export { ENVIRONMENT } from '../limits.js';
export type { LimitOptions } from '../limits.js';
export { PROFILES } from '../profiles.js';
export type { PlatformProfile, ProfileName } from '../profiles.js';
