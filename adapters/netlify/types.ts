import type { LambdaHttpResult, V1RequestFields } from '../lambda/types.js';
import type { LimitOptions } from '../limits.js';

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

/** A Netlify Functions v1 (Lambda-compatible) event, as `@netlify/functions`' `HandlerEvent` describes it. */
export interface NetlifyV1Event extends V1RequestFields {
  /** The absolute URL, query included. */
  readonly rawUrl?: string;
  /** The query string as sent, without `?`. */
  readonly rawQuery?: string;
}

/** A Netlify Functions v1 handler: `export const handler = netlifyV1(…)`. */
export type NetlifyV1Handler = (event: NetlifyV1Event, context?: unknown) => Promise<LambdaHttpResult>;
