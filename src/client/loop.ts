import { backoffMs, retryAfterMs } from './backoff.js';
import { HangtimeClientError } from './errors.js';
import type { Batch, CursorStorage, Gap, HangtimeEvent, PollOptions, Status } from './types.js';

/** An empty answer faster than this was not held (a hangtime server holds at least its
 * `minHoldMs`, 250 ms by default): the server is answering at once with nothing (a budget
 * misconfigured, a proxy), so the next poll backs off instead of spinning. */
const QUICK_EMPTY_MS = 200;

/** Delivered (channel, position) pairs remembered to drop duplicates: enough to cover a
 * cursor that lags a few batches (a stored cursor written by an older tab, a retried poll). */
const SEEN_MAX = 1000;

/** Timers beyond 2^31 - 1 ms fire at once: longer sleeps are cut to this (23 days; a pause
 * that outlasts it wakes, finds the page still hidden, and sleeps again). */
const FOREVER_MS = 2e9;

export interface LoopState {
  cursor: string | undefined;
  status: Status;
}

interface Answer {
  events?: Array<HangtimeEvent<never>>;
  cursor?: string;
  gaps?: Gap[];
  error?: { code?: string; message?: string };
}

/**
 * The poll loop behind `subscribe()` and `poll()`, as an async generator: it yields each
 * batch of new events and moves the cursor when asked for the next one, that is once the
 * batch is handled. An error thrown into it (`generator.throw()`) means the batch was not
 * handled: it is reported as `handler`, and the same cursor is polled again after a backoff.
 * It returns when stopped (`o.signal`, `close`, `return()`, or `onGap` returned `false`) and
 * throws the fatal {@link HangtimeClientError}.
 *
 * Every wait (the request, a backoff, a pause) listens to one `step` signal; `kick()` aborts
 * it, so that closing, visibility changes and `online` act at once. A kick never moves the
 * cursor: an aborted poll is sent again with the same cursor.
 */
export async function* run<T>(url: URL, o: PollOptions, state: LoopState, close?: AbortSignal): AsyncGenerator<Batch<T>, void, undefined> {
  const { retries = Infinity, backoffMs: base = 1000, maxBackoffMs: cap = 30_000, storageKey: key, onError, signal } = o;
  const closed = () => close?.aborted || signal?.aborted;
  let store: CursorStorage | undefined;
  state.cursor = o.cursor;
  try {
    // Reading `localStorage` throws in sandboxed frames: persistence is best-effort.
    store = key ? (o.storage ?? localStorage) : undefined;
    state.cursor ??= store?.getItem(key!) || undefined;
  } catch {
    // No storage: start from `o.cursor`.
  }
  const setStatus = (status: Status) => {
    if (state.status != status) (state.status = status), o.onStatus?.(status);
  };

  let step = new AbortController();
  const kick = () => step.abort();
  const sleep = (ms: number) =>
    new Promise<void>((wake) => {
      const timer = setTimeout(wake, Math.min(ms, FOREVER_MS));
      if (step.signal.aborted) wake();
      step.signal.addEventListener('abort', () => (clearTimeout(timer), wake()));
    });

  let failures = 0;
  let quick = 0;
  let frozen = false;
  const seen = new Set<string>();
  const doc = o.pauseWhenHidden !== false ? globalThis.document : undefined;
  // Page Visibility for hidden tabs; Page Lifecycle `freeze`/`resume` for background pages the
  // browser freezes, where timers stop and a held request would only time out. A frozen page
  // runs no script, so any of these events but `freeze` means it is not frozen (any more).
  const onPage = (event: Event) => ((frozen = event.type == 'freeze'), kick());
  const listeners: Array<[EventTarget | undefined, string, (event: Event) => void]> = [
    [signal, 'abort', kick],
    [close, 'abort', kick],
    // Back online: whatever the backoff says, the network just came back.
    [globalThis as unknown as EventTarget, 'online', () => ((failures = quick = 0), kick())],
    [doc, 'visibilitychange', onPage],
    [doc, 'freeze', onPage],
    [doc, 'resume', onPage],
  ];
  // `?.`: Node has no global `addEventListener`.
  for (const [target, type, listener] of listeners) target?.addEventListener?.(type, listener);
  setStatus('connecting');

  try {
    while (!closed()) {
      step = new AbortController();
      if (doc && (frozen || doc.visibilityState == 'hidden')) {
        setStatus('paused');
        await sleep(FOREVER_MS);
        setStatus('connecting');
        continue;
      }
      const started = Date.now();
      // Not live (starting, back from a pause or a failure): ask with `wait=0`, so that the
      // answer confirms the connection and catches up at once; the holds come after.
      const probe = state.status != 'live';
      let delay = 0;
      let handling = '';
      try {
        const request = new URL(url);
        const query = request.searchParams;
        query.set('channels', o.channels.join());
        if (state.cursor) query.set('cursor', state.cursor);
        if (o.from) query.set('from', o.from);
        if (probe || o.waitMs != null) query.set('wait', probe ? '0' : `${Math.round(o.waitMs!) / 1000}`);
        const res = await (o.fetch ?? fetch)(request.href, {
          headers: typeof o.headers == 'function' ? await o.headers() : o.headers,
          signal: step.signal,
          // Not only fresh answers: Chromium's HTTP cache lock would hold back a second tab's
          // identical poll URL until the first poll ends.
          cache: 'no-store',
        });
        const { status } = res;
        const body = (await res.json().catch(() => null)) as Answer | null;
        const cursor = body?.cursor;
        if (closed()) return;
        const answered = typeof cursor == 'string';
        if (answered && status == 200 && Array.isArray(body!.events)) {
          const all = body!.events;
          const id = (e: HangtimeEvent<never>) => `${e.channel} ${e.position}`;
          const events = all.filter((e) => !seen.has(id(e)));
          // The cursor moves only once the batch is handled: when the consumer asks for more.
          handling = 'handler';
          if (events.length) yield { events, cursor };
          for (const e of events) seen.add(id(e));
          for (const old of seen) if (seen.size > SEEN_MAX) seen.delete(old);
          quick = all.length || probe || Date.now() - started >= QUICK_EMPTY_MS ? 0 : quick + 1;
          if (quick) delay = backoffMs(quick, base, cap);
        } else if (answered && status == 410 && Array.isArray(body!.gaps)) {
          const gaps = body!.gaps;
          handling = 'handler';
          // Stopping leaves the cursor before the gap: a later start is told again.
          if (!o.onGap) onError?.(new HangtimeClientError('cursor_expired', 410, 'History lost', true, gaps));
          else if ((await o.onGap(gaps)) === false) return;
        } else {
          const code = body?.error?.code ?? 'http';
          delay = retryAfterMs(res.headers.get('retry-after'));
          throw new HangtimeClientError(
            code,
            status,
            body?.error?.message ?? `HTTP ${status}`,
            // docs/protocol.md: retry 5xx, 408, 429 (and a 2xx that is not an answer, such as a
            // proxy's page); any other 4xx is a request that a retry cannot fix.
            status < 300 || status == 408 || status == 429 || status >= 500,
          );
        }
        state.cursor = cursor;
        try {
          store?.setItem(key!, cursor);
        } catch {
          // Quota or privacy mode: the in-memory cursor keeps this session exact.
        }
        failures = 0;
        setStatus('live');
      } catch (caught) {
        if (closed()) return;
        // `handling`: `onEvents` or `onGap` threw; otherwise `fetch` did, or the answer was not one.
        const error =
          caught instanceof HangtimeClientError && !handling ? caught : new HangtimeClientError(handling || 'network', 0, `${caught}`, true, caught);
        // A kick (hidden, online) aborted the request: not a failure, poll again.
        if (step.signal.aborted && !handling) continue;
        error.willRetry &&= ++failures <= retries;
        onError?.(error);
        if (!error.willRetry) throw error;
        setStatus('retrying');
        delay = Math.max(delay, backoffMs(failures, base, cap));
      }
      if (delay) await sleep(delay);
    }
  } finally {
    for (const [target, type, listener] of listeners) target?.removeEventListener?.(type, listener);
    setStatus('closed');
  }
}
