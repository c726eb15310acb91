/**
 * `hangtime/client`: the poll loop for browsers, web workers and Node >= 20. Dependency-free:
 * it uses only `fetch`, `AbortController`, timers, and `document`/`localStorage` when present.
 */
import { run, type LoopState } from './loop.js';
import { checkOptions } from './options.js';
import type { Batch, PollOptions, SubscribeOptions, Subscription, URLInput } from './types.js';

export { HangtimeClientError, isHangtimeClientError, type HangtimeClientErrorCode, type HangtimeClientErrorOptions } from './errors.js';
export type { ChannelOf, ChannelPattern, ChannelSchemaMap, EventOf, SchemaLike, SchemaOutput } from './channels.js';
export type {
  Batch,
  Clock,
  CursorStorage,
  FetchInit,
  FetchResponse,
  Gap,
  HangtimeEvent,
  HeadersInput,
  PollOptions,
  Signal,
  Status,
  SubscribeOptions,
  Subscription,
  URLInput,
} from './types.js';

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
 *   onStatus: (status) => {
 *     badge.textContent = status.state == 'retrying' ? `retrying at ${new Date(status.retryAt).toLocaleTimeString()}` : status.state;
 *   },
 *   onError: (error) => console.warn(error.code, error.willRetry),
 * });
 * retryButton.onclick = () => subscription.retryNow();
 * // later
 * subscription.close();
 */
export const subscribe = <T = unknown>(url: string | URLInput, options: SubscribeOptions<T>): Subscription => {
  // The handle is the loop's state: `cursor`, `status`, `close` and `retryNow` are set by the
  // loop, whose body starts in the first `batches.next()`, before `subscribe()` returns.
  const state = {} as LoopState & { -readonly [K in keyof Subscription]: Subscription[K] };
  // Given `onEvents`, the loop never yields: its first `next()` settles when it ends. The loop
  // reads the options where it uses them: from a copy, checked, that the caller cannot change.
  state.done = run<T>(checkOptions(url, (options = { ...options }), 'subscribe'), options, state)
    .next()
    .then(() => {});
  // A fatal error already went to `onError`; without one, leave the rejection unhandled so
  // that it is not lost.
  if (options.onError) state.done.catch(() => {});
  return state;
};

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
export const poll = <T = unknown>(url: string | URLInput, options: PollOptions<T>): AsyncGenerator<Batch<T>, void, undefined> =>
  run<T>(checkOptions(url, (options = { ...options }), 'poll'), options, {} as LoopState);
