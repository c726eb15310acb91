/**
 * What each platform allows a buffered HTTP answer, in one place: the time limits, the
 * payload caps, the default safety margin, and the pages that say so. docs/platforms.md
 * explains each number; change them here and nowhere else.
 *
 * This file is data only; adapters/limits.ts applies a profile (options and environment over it,
 * the context of each request), adapters/deadline.ts answers before the platform's limit.
 */

export type ProfileName = 'api-gateway-rest' | 'api-gateway-http' | 'lambda-function-url' | 'alb' | 'vercel' | 'netlify' | 'cloudflare';

export interface PlatformProfile {
  readonly name: ProfileName;
  /** Longest the platform or its front door waits for an answer, in ms, when the code cannot
   * see it; `undefined` when only the function's own clock bounds the invocation. */
  readonly timeLimitMs: number | undefined;
  /** Highest time limit the platform allows at all (a configured limit above it is refused). */
  readonly maxTimeLimitMs: number | undefined;
  /** Largest buffered answer the platform accepts, in bytes. */
  readonly maxResponseBytes: number;
  /** True when the body travels as a string inside the JSON result of a Lambda invocation,
   * where JSON escaping can double it (`"` becomes `\"`): the cap then applies to the result. */
  readonly bodyInJson: boolean;
  /** Time kept free before the limit to answer, flush, and absorb gateway jitter, in ms. */
  readonly safetyMarginMs: number;
  /** What the client sees when the limit passes first. */
  readonly atLimit: string;
}

/**
 * The profiles, by name. Read-only: adapters take options (or environment variables) to differ.
 *
 * @example
 * import { PROFILES } from 'hangtime/aws-lambda';
 *
 * PROFILES.alb.maxResponseBytes; // 1_000_000
 */
export const PROFILES: Readonly<Record<ProfileName, PlatformProfile>> = {
  // REST: "50 milliseconds to 29 seconds" (raisable for Regional and private APIs since 2024):
  // https://aws.amazon.com/about-aws/whats-new/2024/06/amazon-api-gateway-integration-timeout-limit-29-seconds/
  // API Gateway takes 10 MB, but Lambda's synchronous result is capped at 6 MB:
  // https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html
  'api-gateway-rest': {
    name: 'api-gateway-rest',
    timeLimitMs: 29_000,
    maxTimeLimitMs: 300_000,
    maxResponseBytes: 6_000_000,
    bodyInJson: true,
    safetyMarginMs: 1_000,
    atLimit: '504 Gateway Timeout',
  },
  // HTTP API: "Maximum integration timeout 30 seconds — can be increased: No":
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
  'api-gateway-http': {
    name: 'api-gateway-http',
    timeLimitMs: 30_000,
    maxTimeLimitMs: 30_000,
    maxResponseBytes: 6_000_000,
    bodyInJson: true,
    safetyMarginMs: 1_000,
    atLimit: '503 {"message":"Service Unavailable"}',
  },
  // Function URLs: no front door beyond the function's own timeout (at most 900 s), BUFFERED
  // invoke mode "maximum payload size is 6 MB":
  // https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
  'lambda-function-url': {
    name: 'lambda-function-url',
    timeLimitMs: undefined,
    maxTimeLimitMs: 900_000,
    maxResponseBytes: 6_000_000,
    bodyInJson: true,
    safetyMarginMs: 1_000,
    atLimit: '502 (the function timed out)',
  },
  // ALB: "The maximum size of the response JSON that the Lambda function can send is 1 MB":
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
  // The 60 s is the ALB idle-timeout default; whether it bounds Lambda targets is not
  // documented, so it is the conservative choice (docs/platforms.md).
  alb: {
    name: 'alb',
    timeLimitMs: 60_000,
    maxTimeLimitMs: 900_000,
    maxResponseBytes: 1_000_000,
    bodyInJson: true,
    safetyMarginMs: 1_000,
    atLimit: '502 Bad Gateway',
  },
  // Vercel: no remaining-time API; the route's `maxDuration` (300 s default with Fluid compute)
  // https://vercel.com/docs/functions/configuring-functions/duration
  // 4.5 MB response bodies: https://vercel.com/docs/errors/FUNCTION_RESPONSE_PAYLOAD_TOO_LARGE
  vercel: {
    name: 'vercel',
    timeLimitMs: 300_000,
    maxTimeLimitMs: undefined,
    maxResponseBytes: 4_500_000,
    bodyInJson: false,
    safetyMarginMs: 2_000,
    atLimit: '504 FUNCTION_INVOCATION_TIMEOUT',
  },
  // Netlify: "Synchronous execution limit 60 seconds — Configurable: No" and "Buffered
  // request/response payload 6 MB": https://docs.netlify.com/build/functions/configuration
  // Netlify runs functions on Lambda, so the body is counted as if JSON-escaped (conservative).
  netlify: {
    name: 'netlify',
    timeLimitMs: 60_000,
    maxTimeLimitMs: undefined,
    maxResponseBytes: 6_000_000,
    bodyInJson: true,
    safetyMarginMs: 2_000,
    atLimit: '502 (Task timed out)',
  },
  // Cloudflare Workers: no wall-clock limit while the client stays connected, 30 s of CPU by
  // default (a hold uses almost none), and "Response body size: No enforced limit":
  // https://developers.cloudflare.com/workers/platform/limits/ and
  // https://developers.cloudflare.com/changelog/2025-03-25-higher-cpu-limits/
  // The 1 MB cap is the core's own default, not the platform's.
  cloudflare: {
    name: 'cloudflare',
    timeLimitMs: undefined,
    maxTimeLimitMs: undefined,
    maxResponseBytes: 1_000_000,
    bodyInJson: false,
    safetyMarginMs: 1_000,
    atLimit: 'none while the client is connected (a runtime update ends requests after a grace period)',
  },
};
