/**
 * `hangtime/client`: the poll loop for browsers, web workers and Node >= 20. Dependency-free:
 * it uses only `fetch`, `AbortController`, timers, and `document`/`localStorage` when present.
 */
import { run, type LoopState } from './loop.js';
import { checkOptions } from './options.js';
import type { Batch, PollOptions, SubscribeOptions, Subscription } from './types.js';

export { HangtimeClientError, isHangtimeClientError } from './errors.js';
export type { Batch, CursorStorage, Gap, HangtimeEvent, PollOptions, Status, SubscribeOptions, Subscription } from './types.js';

/** Resolve the endpoint once, so that a bad URL throws here rather than being retried. */
const endpoint = (url: string | URL) => new URL(url, globalThis.location?.href);

/**
 * Follow channels: calls `onEvents` with each batch of new events, in order, exactly once,
 * across timeouts, gateway errors, restarts and reloads (with `storageKey`).
 *
 * @example
 * import { subscribe } from 'hangtime/client';
 *
 * type Message = { name: string; text: string };
 * const subscription = subscribe<Message>('/api/poll', {
 *   channels: ['chat'],
 *   storageKey: 'chat-cursor',
 *   onEvents: (events) => events.forEach((event) => show(event.data.text)),
 *   onGap: () => reloadHistory(),
 *   onError: (error) => console.warn(error.code, error.willRetry),
 * });
 * // later
 * subscription.close();
 */
export function subscribe<T = unknown>(url: string | URL, options: SubscribeOptions<T>): Subscription {
  checkOptions(options, 'subscribe');
  const stop = new AbortController();
  // The handle is the loop's state: `cursor` and `status` are kept current by the loop.
  const state = { close: () => stop.abort() } as LoopState & Subscription;
  const batches = run<T>(endpoint(url), options, state, stop.signal);
  const done = (async () => {
    for (let step = await batches.next(); !step.done; ) {
      try {
        await options.onEvents(step.value.events, step.value);
        step = await batches.next();
      } catch (error) {
        // The handler threw: thrown into the loop, which reports it as `handler` and polls
        // the batch again. (A fatal error from `next()` lands here too, and `throw()` on the
        // ended loop rejects with it.)
        step = await batches.throw(error);
      }
    }
  })();
  // A fatal error already went to `onError`; without one, leave the rejection unhandled so
  // that it is not lost.
  if (options.onError) done.catch(() => {});
  return Object.assign(state, { done });
}

/**
 * The same loop as an async iterator: each `batch` is handled when the loop body finishes,
 * and only then does the cursor move (and get stored). `break` stops polling; a fatal error
 * is thrown from the loop.
 *
 * @example
 * import { poll } from 'hangtime/client';
 *
 * for await (const { events, cursor } of poll<Job>('https://api.example.com/poll', { channels: ['jobs'] })) {
 *   for (const event of events) await runJob(event.data);
 *   await saveCursor(cursor);
 * }
 */
export function poll<T = unknown>(url: string | URL, options: PollOptions): AsyncGenerator<Batch<T>, void, undefined> {
  checkOptions(options, 'poll');
  return run<T>(endpoint(url), options, {} as LoopState);
}
