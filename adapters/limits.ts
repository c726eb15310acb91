import { assertResponseCap, type Hangtime } from '../src/hangtime.js';
import type { HandlerContext, WebHandler } from '../src/http.js';
import {
  assertNonNegativeNumber,
  assertOptionalFunction,
  assertOptions,
  assertPositiveInteger,
  assertPositiveNumber,
} from '../src/options.js';
import type { PlatformProfile } from './profiles.js';

// Applying a platform profile (adapters/profiles.ts): options and environment over it at
// startup, and the context of each request.

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
  assertOptionalFunction(options.onError, 'onError');
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
  options: unknown,
  profile: PlatformProfile,
  extraOptionNames: readonly string[],
  what: string,
): { resolved: AdapterTarget; limits: Limits } {
  assertOptions(options, [...LIMIT_OPTION_NAMES, ...extraOptionNames], what);
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
