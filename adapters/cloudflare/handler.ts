import type { Hangtime } from '../../src/hangtime.js';
import { timerPerHold } from '../../src/hold-timers.js';
import type { WebHandler } from '../../src/http.js';
import { assertOptions } from '../../src/options.js';
import { respondWeb } from '../deadline.js';
import {
  ENVIRONMENT,
  LIMIT_OPTION_NAMES,
  adapterTarget,
  assertFits,
  requestContext,
  resolveLimits,
  type LimitOptions,
  type Limits,
} from '../limits.js';
import { PROFILES } from '../profiles.js';
import type { ExecutionContextLike } from './types.js';

/** Options of {@link cloudflare}: the limits every adapter takes. Each falls back to the Worker's
 * variable of the same name as elsewhere (`HANGTIME_MAX_WAIT_MS`, `HANGTIME_SAFETY_MARGIN_MS`,
 * `HANGTIME_MAX_RESPONSE_BYTES` in wrangler.jsonc `vars`), read from `env`, not `process.env`. */
export type CloudflareOptions = LimitOptions;

/** Builds the hangtime instance of a request from the Worker's bindings. */
export type HangtimeFactory<Env> = (env: Env, ctx: ExecutionContextLike) => Hangtime | WebHandler;

/** A Workers module's default export. */
export interface CloudflareHandler<Env> {
  fetch(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response>;
}

/**
 * Serve hangtime as a Cloudflare Worker: `export default cloudflare(…)`.
 *
 * Pass a factory `(env, ctx) => createHangtime({ log: durableObjectLog({ namespace: env.HANGTIME }) })`:
 * it runs once per request, because a Worker's bindings arrive with the request and because
 * Workers do not let one request settle another's promises or timers (so nothing of a hold is
 * shared between requests; waiting polls are shared inside the channel's Durable Object
 * instead). A hangtime instance works too (with the in-memory log: one isolate's memory, for
 * development only).
 *
 * Workers have no wall-clock limit while the client stays connected, so a hold lasts the
 * server's `maxWaitMs` (25 s by default) or `HANGTIME_MAX_WAIT_MS`; waiting costs no CPU time.
 *
 * @example
 * // src/index.ts
 * import { createHangtime } from 'hangtime';
 * import { cloudflare, durableObjectLog } from 'hangtime/cloudflare';
 *
 * export default cloudflare((env: { HANGTIME: DurableObjectNamespace }) =>
 *   createHangtime({ log: durableObjectLog({ namespace: env.HANGTIME }), authorizePublish: () => true }),
 * );
 * export { HangtimeChannel } from 'hangtime/cloudflare';
 */
export function cloudflare<Env = Record<string, unknown>>(
  target: Hangtime | HangtimeFactory<Env>,
  options: CloudflareOptions = {},
): CloudflareHandler<Env> {
  assertOptions(options, LIMIT_OPTION_NAMES, 'cloudflare()');
  // Checked at once with the options alone; the Worker's variables join at its first request.
  resolveLimits(PROFILES.cloudflare, options);
  const factory = typeof target === 'function' ? target : undefined;
  const fixed = factory === undefined ? adapterTarget(target as Hangtime) : undefined;
  timerPerHold();
  const limitsByEnv = new WeakMap<object, Limits>();

  function limitsFor(env: Env): Limits {
    const key = typeof env === 'object' && env !== null ? env : limitsByEnv;
    let limits = limitsByEnv.get(key);
    if (limits === undefined) {
      limits = resolveLimits(PROFILES.cloudflare, { ...fromBindings(env), ...definedOf(options) });
      limitsByEnv.set(key, limits);
    }
    return limits;
  }

  return {
    async fetch(request, env, ctx) {
      const arrivedAt = Date.now();
      const limits = limitsFor(env);
      const resolved = fixed ?? adapterTarget(factory!(env, ctx));
      assertFits(limits, resolved);
      return respondWeb(resolved, request, requestContext(limits, arrivedAt, undefined), limits.onError);
    },
  };
}

function definedOf(options: LimitOptions): LimitOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as LimitOptions;
}

/** The limits set as Worker variables (`vars` in wrangler.jsonc: strings or numbers). */
function fromBindings(env: unknown): LimitOptions {
  const found: Record<string, number> = {};
  if (typeof env !== 'object' || env === null) return found;
  for (const key of ['maxWaitMs', 'safetyMarginMs', 'maxResponseBytes'] as const) {
    const name = ENVIRONMENT[key];
    const value: unknown = (env as Record<string, unknown>)[name];
    if (value === undefined || value === '') continue;
    const number =
      typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,12}(\.\d{1,3})?$/.test(value.trim()) ? Number(value) : NaN;
    if (Number.isNaN(number)) {
      throw new TypeError(`Expected the Worker variable ${name} to be a number, got ${JSON.stringify(String(value).slice(0, 40))}`);
    }
    found[key] = number;
  }
  return found;
}
