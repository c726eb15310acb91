/**
 * Exponential backoff with full jitter, the jitter applied after the cap: attempt `n` (from
 * 1) waits a uniformly random time in `[0, min(capMs, baseMs * 2^(n-1)))`. Jittering after
 * the cap matters: clients that all reached the cap would otherwise retry in lockstep.
 * (AWS Architecture Blog, "Exponential Backoff And Jitter", the "Full Jitter" variant.)
 */
export const backoffMs = (attempt: number, baseMs: number, capMs: number): number =>
  Math.random() * Math.min(capMs, baseMs * 2 ** (attempt - 1));

/**
 * `Retry-After` in ms, or 0 when absent or not a number of seconds. Servers and gateways send
 * seconds (hangtime does); the HTTP-date form is left to the backoff, to keep the client small.
 */
export const retryAfterMs = (header: string | null): number => +header! * 1000 || 0;
