import { backoffMs, retryAfterMs } from './backoff.js';
import { HangtimeClientError, type HangtimeClientErrorCode } from './errors.js';
import type { EventOf } from './channels.js';
import type { Batch, Clock, CursorStorage, Gap, HangtimeEvent, PollOptions, Status, SubscribeOptions } from './types.js';

// A `const enum` because esbuild inlines its members into the bundle (it keeps a module's
// plain `const`s as variables when the module imports anything).
enum Limit {
  /** An empty answer faster than this was not held (a hangtime server holds at least its
   * `minHoldMs`, 250 ms by default): the server is answering at once with nothing (a budget
   * misconfigured, a proxy), so the next poll backs off instead of spinning. */
  QuickEmptyMs = 200,
  /** Delivered (channel, position) pairs remembered to drop duplicates: enough to cover a
   * cursor that lags a few batches (a stored cursor written by an older tab, a retried poll). */
  Seen = 1000,
  /** Timers beyond 2^31 - 1 ms fire at once: longer sleeps are cut to this (23 days; a pause
   * that outlasts it wakes, finds the page still hidden, and sleeps again). */
  ForeverMs = 2e9,
  /** The longest `wait` the protocol can say (`\d{1,6}(\.\d{1,3})?` seconds): a longer `waitMs`
   * (`Infinity`) is sent as this, which every server caps to its own longest hold. */
  MaxWaitMs = 999_999_999,
}

export interface LoopState {
  cursor: string | undefined;
  status: Status;
  close(): void;
  retryNow(): void;
}

interface Answer {
  events?: HangtimeEvent[];
  cursor?: string;
  gaps?: Gap[];
  error?: { code?: HangtimeClientErrorCode; message?: string };
}

/**
 * The poll loop behind `subscribe()` and `poll()`, as an async generator. With `onEvents`
 * (`subscribe()`), it awaits `onEvents` with each batch of new events and never yields; without
 * (`poll()`), it yields each batch and moves the cursor when asked for the next one, that is
 * once the batch is handled. Either way, a throwing `onEvents` (or `onGap`) means the batch was
 * not handled: it is reported as `handler`, and the same cursor is polled again after a
 * backoff. It returns when stopped (`o.signal`, `state.close()`, `return()`, or `onGap`
 * returned `false`) and throws the fatal {@link HangtimeClientError}. Its body starts in the
 * first `next()`, which sets `state.close` and `state.retryNow` before it returns.
 *
 * Every wait (the request, a backoff, a pause) listens to one `step` signal; `kick()` aborts
 * it, so that closing, visibility changes, `online` and `retryNow()` act at once. A kick never
 * moves the cursor: an aborted poll is sent again with the same cursor.
 */
export async function* run<T>(
  url: URL,
  o: PollOptions<T> & Partial<SubscribeOptions<T>>,
  state: LoopState,
): AsyncGenerator<Batch<T>, void, undefined> {
  // Options are read where they are used, defaults included: in the bundle, `o.backoffMs ?? 1000`
  // twice is smaller gzipped than one destructuring into a variable.
  // The platform's timers are called as methods of the global object, as browsers require.
  const clock: Clock = o.clock ?? globalThis;
  const now = clock.now ?? Date.now;
  // Set by `close()` and `signal`: the loop ends at its next step.
  let closed = o.signal?.aborted;
  let store: CursorStorage | undefined;
  try {
    // Reading `localStorage` throws in sandboxed frames: persistence is best-effort. A given
    // `o.cursor` wins over the stored one, and is stored after every handled batch all the same.
    if (o.storageKey) store = o.storage ?? localStorage;
    state.cursor = o.cursor ?? (store?.getItem(o.storageKey!) || undefined);
  } catch {
    // No storage: start from `o.cursor`.
  }
  // A new state, or a new retry time.
  const setStatus = (status: Status) => {
    if (state.status?.state != status.state || 'retryAt' in status) (state.status = status), o.onStatus?.(status);
  };

  let step = new AbortController();
  const kick = () => step.abort();
  state.close = () => ((closed = true), kick());
  // Only a retrying status has a `retryAt`.
  state.retryNow = () => 'retryAt' in state.status && kick();
  const sleep = (ms: number) =>
    new Promise<void>((wake) => {
      // Woken by the timer or by a kick, whichever comes first. (One sleep per step at most:
      // the handler property is free.)
      const timer = clock.setTimeout((step.signal.onabort = () => (clock.clearTimeout(timer), wake())), Math.min(ms, Limit.ForeverMs));
      if (step.signal.aborted) wake();
    });

  let failures = 0;
  let quick = 0;
  let seen = new Set<string>();
  const doc = o.pauseWhenHidden === false ? undefined : globalThis.document;
  // Every listener is removed in `finally` by aborting `off`, which each was added with (an
  // AbortController has the `signal` that `addEventListener`'s options look for).
  const off = new AbortController();
  o.signal?.addEventListener('abort', state.close, off);
  // Back online: whatever the backoff says, the network just came back (the count starts over).
  // `?.`: Node has no global `addEventListener`.
  globalThis.addEventListener?.('online', () => ((failures = quick = 0), kick()), off);
  // Page Visibility: a hidden tab releases its poll and catches up when shown. (This covers
  // Page Lifecycle's frozen pages too: a page is frozen only once hidden, and resumed hidden.)
  doc?.addEventListener('visibilitychange', kick, off);

  // `url` is this loop's own copy. (`url.searchParams` each time is smaller gzipped than a variable.)
  url.searchParams.set('channels', o.channels.join());
  if (o.from) url.searchParams.set('from', o.from);

  try {
    while (!closed) {
      step = new AbortController();
      if (doc?.hidden) {
        setStatus({ state: 'paused' });
        await sleep(Limit.ForeverMs);
        continue;
      }
      const started = now();
      // Not live (starting, back from a pause or a failure): ask with `wait=0`, so that the
      // answer confirms the connection and catches up at once; the holds come after.
      const probe = state.status?.state != 'live';
      if (probe) setStatus({ state: 'connecting' });
      let delay = 0;
      let handling = '';
      // An answer that is not one, set as it is thrown: the catch tells it from what `fetch`, or
      // a handler, threw (smaller than an `instanceof` test).
      let failure: HangtimeClientError | undefined;
      try {
        if (state.cursor) url.searchParams.set('cursor', state.cursor);
        // Seconds, as the protocol says them. No `waitMs` is the longest `wait`, which every server
        // caps to its own: as long as the server holds.
        url.searchParams.set('wait', `${probe ? 0 : Math.round(Math.min(o.waitMs ?? Infinity, Limit.MaxWaitMs)) / 1000}`);
        const res = await (o.fetch ?? fetch)(url.href, {
          headers: typeof o.headers == 'function' ? await o.headers() : o.headers,
          signal: step.signal,
          // Not only fresh answers: Chromium's HTTP cache lock would hold back a second tab's
          // identical poll URL until the first poll ends.
          cache: 'no-store',
        });
        const { cursor, events: all, gaps, error: answer }: Answer = (await res.json().catch(() => {})) ?? {};
        // An error answer (with the protocol's code and message when it has them): a gap
        // reported to `onError`, or thrown below.
        const failed = (willRetry: boolean, cause?: unknown) =>
          new HangtimeClientError(answer?.message ?? `HTTP ${res.status}`, {
            code: answer?.code ?? 'http',
            status: res.status,
            willRetry,
            cause,
          });
        if (closed) return;
        if (typeof cursor != 'string' || !Array.isArray(res.status == 410 ? gaps : res.status == 200 && all)) {
          delay = retryAfterMs(res.headers.get('retry-after'));
          // docs/protocol.md: retry 5xx, 408, 429 (and a 2xx that is not an answer, such as a
          // proxy's page); any other 4xx is a request that a retry cannot fix. (fetch follows
          // redirects: no 3xx gets here.)
          throw (failure = failed(!/^4(?!08|29)/.test(`${res.status}`)));
        }
        // From here, what throws is `onEvents` or `onGap`.
        handling = 'handler';
        if (res.status == 410) {
          // Stopping leaves the cursor before the gap: a later start is told again.
          // Without `onGap`, the gap is reported to `onError`, and the loop goes on.
          if ((await (o.onGap ?? ((gaps) => o.onError?.(failed(true, gaps))))(gaps!)) === false) return;
        } else {
          // An event's id, `${e.channel} ${e.position}`, written out twice: smaller gzipped than a helper.
          const events = all!.filter((e) => !seen.has(`${e.channel} ${e.position}`)) as Array<EventOf<T>>;
          const batch = { events, cursor };
          // The cursor moves only once the batch is handled: `onEvents` returned, or the
          // consumer asks for more.
          if (events.length) o.onEvents ? await o.onEvents(events, batch) : yield batch;
          // Remember the newest `Limit.Seen` (a Set keeps insertion order; one copy per batch is
          // smaller in the bundle than adding and pruning in place).
          seen = new Set([...seen, ...events.map((e) => `${e.channel} ${e.position}`)].slice(-Limit.Seen));
          quick = all!.length || probe || now() - started >= Limit.QuickEmptyMs ? 0 : quick + 1;
          if (quick) delay = backoffMs(quick, o.backoffMs ?? 1000, o.maxBackoffMs ?? 30_000);
        }
        state.cursor = cursor;
        try {
          store?.setItem(o.storageKey!, cursor);
        } catch {
          // Quota or privacy mode: the in-memory cursor keeps this session exact.
        }
        failures = 0;
        setStatus({ state: 'live' });
      } catch (caught) {
        if (closed) return;
        // `failure`: the answer was not one; `handling`: `onEvents` or `onGap` threw; otherwise `fetch` did.
        const error = failure ?? new HangtimeClientError(`${caught}`, { code: handling || 'network', willRetry: true, cause: caught });
        // A kick (hidden, online, retryNow) aborted the request: not a failure, poll again.
        if (step.signal.aborted && !handling) continue;
        error.willRetry &&= ++failures <= (o.retries ?? Infinity);
        o.onError?.(error);
        if (!error.willRetry) throw error;
        delay = Math.max(delay, backoffMs(failures, o.backoffMs ?? 1000, o.maxBackoffMs ?? 30_000));
        setStatus({ state: 'retrying', retryAt: now() + delay, attempt: failures, error });
      }
      if (delay) await sleep(delay);
    }
  } finally {
    off.abort();
    setStatus({ state: 'closed' });
  }
}
