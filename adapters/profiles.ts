import type { Hangtime } from '../src/hangtime.js';
import { assertResponseCap } from '../src/hangtime.js';
import { HangtimeError } from '../src/errors.js';
import { responseForError, toResponse, type HandlerContext, type PlainResponse, type WebHandler } from '../src/http.js';
import { assertKnownOptions, assertNonNegativeNumber, assertPositiveInteger, assertPositiveNumber } from '../src/options.js';

/**
 * What each platform allows a buffered HTTP answer, in one place: the time limits, the
 * payload caps, the default safety margin, and the pages that say so. docs/platforms.md
 * explains each number; change them here and nowhere else.
 *
 * The second half of the file applies a profile: options and environment over it (at startup),
 * and the per-request context and last-resort answer every adapter shares.
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

// ---------------------------------------------------------------------------------------------
// Applying a profile: options and environment at startup, the context of each request.

/** Room kept in a Lambda result for `statusCode`, headers and the JSON around the body. */
const RESULT_ENVELOPE_BYTES = 8 * 1024;

/**
 * Environment variables that override a profile where the code does not say otherwise
 * (precedence: adapter option, then environment variable, then profile). Read once, when the
 * adapter is created.
 *
 * @example
 * // HANGTIME_MAX_WAIT_MS=10000 in the function's environment: holds end after 10 s.
 * import { ENVIRONMENT } from 'hangtime/netlify';
 *
 * ENVIRONMENT.maxWaitMs; // 'HANGTIME_MAX_WAIT_MS'
 */
export const ENVIRONMENT = {
  /** Longest hold, in ms: the adapter ends the hold this long after the request arrives. */
  maxWaitMs: 'HANGTIME_MAX_WAIT_MS',
  /** Time kept free before the platform limit, in ms. */
  safetyMarginMs: 'HANGTIME_SAFETY_MARGIN_MS',
  /** The platform's buffered-response cap, in bytes (lower it to be safe, never raise it past the platform). */
  maxResponseBytes: 'HANGTIME_MAX_RESPONSE_BYTES',
  /** The platform or front-door time limit, in ms (AWS Lambda front doors and Netlify; not Vercel,
   * where the route's `maxDuration` in code is the limit). */
  timeLimitMs: 'HANGTIME_TIME_LIMIT_MS',
} as const;

/** Options every adapter takes. */
export interface LimitOptions {
  /** Longest hold, in ms; the adapter ends holds this long after the request arrived, within
   * the platform limit. Default: `HANGTIME_MAX_WAIT_MS`, else the server's own `maxWaitMs`. */
  readonly maxWaitMs?: number;
  /** Time kept free before the platform limit, in ms; replaces the server's `safetyMarginMs`.
   * Default: `HANGTIME_SAFETY_MARGIN_MS`, else the profile's (1 s on AWS, 2 s on Vercel and Netlify). */
  readonly safetyMarginMs?: number;
  /** The platform's buffered-response cap, in bytes. Default: `HANGTIME_MAX_RESPONSE_BYTES`,
   * else the profile's (6 MB Lambda, 1 MB ALB, 4.5 MB Vercel, 6 MB Netlify). */
  readonly maxResponseBytes?: number;
  /** Receives errors of a wrapped Web handler and answers the adapter had to make itself. Never `console`. */
  readonly onError?: (error: unknown) => void;
}

export const LIMIT_OPTION_NAMES = ['maxWaitMs', 'safetyMarginMs', 'maxResponseBytes', 'onError'] as const;

/** A profile with the options and environment applied. */
export interface Limits {
  readonly profile: PlatformProfile;
  readonly maxWaitMs: number | undefined;
  readonly safetyMarginMs: number;
  /** The platform cap on the whole answer. */
  readonly maxResponseBytes: number;
  /** What the core may put in the body so the answer fits {@link maxResponseBytes} in every case. */
  readonly bodyBytes: number;
  readonly onError: (error: unknown) => void;
}

/** Apply options and environment to a profile, validating each value with a precise message. */
export function resolveLimits(profile: PlatformProfile, options: LimitOptions): Limits {
  const maxWaitMs = options.maxWaitMs ?? fromEnvironment('maxWaitMs');
  if (maxWaitMs !== undefined) assertPositiveNumber(maxWaitMs, 'maxWaitMs');
  const safetyMarginMs = assertNonNegativeNumber(
    options.safetyMarginMs ?? fromEnvironment('safetyMarginMs') ?? profile.safetyMarginMs,
    'safetyMarginMs',
  );
  const maxResponseBytes = assertPositiveInteger(
    options.maxResponseBytes ?? fromEnvironment('maxResponseBytes') ?? profile.maxResponseBytes,
    'maxResponseBytes',
  );
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new TypeError(`Expected \`onError\` to be a function, got ${typeof options.onError}`);
  }
  // Worst case, JSON escaping doubles the body (every `"` and `\` becomes two bytes; the core's
  // bodies are JSON text, so there are no raw control characters to grow more).
  const bodyBytes = profile.bodyInJson ? Math.floor((maxResponseBytes - RESULT_ENVELOPE_BYTES) / 2) : maxResponseBytes;
  return { profile, maxWaitMs, safetyMarginMs, maxResponseBytes, bodyBytes, onError: options.onError ?? (() => {}) };
}

/**
 * The time limit an adapter applies: the option, else `HANGTIME_TIME_LIMIT_MS`, else the
 * profile's. Above what the platform allows at all it is refused, or clamped when the value was
 * meant for another front door of the same adapter.
 */
export function resolveTimeLimit(
  profile: PlatformProfile,
  option: number | undefined,
  name: string,
  aboveMax: 'refuse' | 'clamp' = 'refuse',
): number | undefined {
  const value = option ?? fromEnvironment('timeLimitMs') ?? profile.timeLimitMs;
  if (value === undefined) return undefined;
  assertPositiveNumber(value, name);
  if (profile.maxTimeLimitMs === undefined || value <= profile.maxTimeLimitMs) return value;
  if (aboveMax === 'clamp') return profile.maxTimeLimitMs;
  throw new TypeError(`Expected \`${name}\` to be at most ${profile.maxTimeLimitMs} on ${profile.name}, got ${value}`);
}

/** Fail at startup, not as a platform 502, when the log accepts events no answer could carry. */
export function assertFits(limits: Limits, target: AdapterTarget): void {
  if (target.hangtime === undefined) return;
  try {
    assertResponseCap(limits.bodyBytes, target.hangtime.log.maxEventBytes, 'maxResponseBytes');
  } catch (error) {
    const why = limits.profile.bodyInJson
      ? `on ${limits.profile.name} the body travels JSON-escaped inside a ${limits.maxResponseBytes}-byte answer, so it may take ${limits.bodyBytes} bytes`
      : `${limits.profile.name} accepts ${limits.maxResponseBytes}-byte answers`;
    throw new TypeError(`${(error as Error).message}; ${why}. Lower the log's maxEventBytes.`, { cause: error });
  }
}

/** A hangtime instance (fast path: plain objects) or any Web handler. */
export interface AdapterTarget {
  readonly hangtime: Hangtime | undefined;
  readonly web: WebHandler;
}

/**
 * Check an adapter's arguments once, at startup: the options object and its keys, the target,
 * and that the log's largest event fits the profile's answers.
 */
export function prepareAdapter(
  target: Hangtime | WebHandler,
  options: object,
  profile: PlatformProfile,
  extraOptionNames: readonly string[],
  what: string,
): { resolved: AdapterTarget; limits: Limits } {
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected ${what} options to be an object`);
  assertKnownOptions(options, [...LIMIT_OPTION_NAMES, ...extraOptionNames], what);
  const resolved = adapterTarget(target);
  const limits = resolveLimits(profile, options as LimitOptions);
  assertFits(limits, resolved);
  return { resolved, limits };
}

/** Accept a hangtime instance (`createHangtime()`) or a Web handler, and nothing else. */
export function adapterTarget(target: Hangtime | WebHandler): AdapterTarget {
  if (typeof target === 'object' && target !== null && typeof target.respond === 'function') {
    return { hangtime: target, web: target.handler };
  }
  if (typeof target === 'function') return { hangtime: undefined, web: target };
  throw new TypeError(
    `Expected a hangtime instance (createHangtime()) or a Web handler (request, context) => Response, got ${target === null ? 'null' : typeof target}`,
  );
}

/**
 * The context for one request: the platform deadline, the hold cap `maxWaitMs` when set (a cap
 * like the client's `wait`, not folded into the deadline: a hold it ends is reported as a
 * `timeout`, and `deadline` keeps meaning the platform's limit), the body budget and the margin.
 * @param arrivedAt when the request arrived (epoch ms)
 * @param platformDeadline when the platform stops answering for us (epoch ms), if known
 */
export function requestContext(limits: Limits, arrivedAt: number, platformDeadline: number | undefined): HandlerContext {
  // What is left of the cap counted from the arrival ("ends holds this long after the request
  // arrived"), should the context be built later than the request came.
  const maxWaitMs = limits.maxWaitMs === undefined ? undefined : Math.max(0, arrivedAt + limits.maxWaitMs - Date.now());
  return { deadline: platformDeadline, maxWaitMs, maxResponseBytes: limits.bodyBytes, safetyMarginMs: limits.safetyMarginMs };
}

function fromEnvironment(key: keyof typeof ENVIRONMENT): number | undefined {
  const name = ENVIRONMENT[key];
  const text = typeof process === 'undefined' ? undefined : process.env[name];
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,12}(\.\d{1,3})?$/.test(text.trim())) {
    throw new TypeError(`Expected the environment variable ${name} to be a number, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return Number(text);
}

/**
 * The last line of "answer before the platform does": when `work` has not settled a quarter of
 * the safety margin before the deadline (a slow `authorize` hook, a log call the core does not
 * bound), settle with `late()` and report it. `work` runs on; its late result is dropped.
 */
export function beforeDeadline<T>(
  work: Promise<T>,
  context: HandlerContext,
  late: () => T,
  onError: (error: unknown) => void,
): Promise<T> {
  const { deadline, safetyMarginMs = 0 } = context;
  if (deadline === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      onError(new Error(`No answer ${Math.round(safetyMarginMs / 4)} ms before the platform deadline: answered 503 instead`));
      resolve(late());
    }, Math.max(0, deadline - safetyMarginMs / 4 - Date.now()));
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return onError(error);
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** What {@link beforeDeadline} answers: a retryable 503, like a log that did not answer in time. */
export function lateAnswer(): PlainResponse {
  return responseForError(
    new HangtimeError('log_unavailable', 503, 'The poll did not finish before the platform deadline', { retryAfterSeconds: 1 }),
  );
}

/** Answer a Web request before the deadline; a handler that throws gets a clean 500, reported to `onError`. */
export function respondWeb(target: AdapterTarget, request: Request, context: HandlerContext, onError: (error: unknown) => void): Promise<Response> {
  const work = (async () => {
    try {
      return await target.web(request, context);
    } catch (error) {
      onError(error);
      return toResponse(responseForError(error));
    }
  })();
  return beforeDeadline(work, context, () => toResponse(lateAnswer()), onError);
}
