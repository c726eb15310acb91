import type { LimitOptions } from '../limits.js';

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
