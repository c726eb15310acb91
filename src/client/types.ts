import type { ChannelOf, EventOf } from './channels.js';
import type { HangtimeClientError } from './errors.js';

export type { HangtimeEvent } from './event.js';

/** A channel whose history after the cursor is gone (docs/protocol.md, "410: gap"). */
export interface Gap {
  readonly channel: string;
  /** The poll resumes after this position: the oldest retained event comes next. */
  readonly resumeAfter: string;
  /**
   * Events lost, when the server can tell; `null` when it cannot (then nothing may have been
   * lost at all: say "unknown", not "lost").
   */
  readonly missed: number | null;
  /**
   * Why: `retention` (the cursor was behind what the channel retains; `missed` is usually a
   * number) or `reset` (the log lost its history: a restarted in-memory log, Redis data loss, a
   * failover; `missed` is `null`). Absent from servers older than this field.
   */
  readonly reason?: 'retention' | 'reset';
}

/** What one answer delivered, and the cursor that covers it. `T`: the events' data type, or
 * the server's channel declaration (see {@link EventOf}). */
export interface Batch<T = unknown> {
  readonly events: ReadonlyArray<EventOf<T>>;
  /** The cursor after these events; the loop moves to it once the batch is handled. */
  readonly cursor: string;
}

/**
 * Where the loop stands (`state`): `connecting` (a poll is out and the loop is not live yet:
 * the first, the first after a pause, a retry), `live` (the last poll was answered and
 * handled), `retrying` (a poll failed: waiting until `retryAt`, see `retryNow()`), `paused`
 * (the page is hidden or frozen), `closed` (ended: `close()`, the signal, `onGap` returned
 * `false`, or a fatal error).
 */
export type Status =
  | { readonly state: 'connecting' | 'live' | 'paused' | 'closed' }
  | {
      readonly state: 'retrying';
      /** When the next attempt starts, in `clock.now()` time (ms since the epoch by default). */
      readonly retryAt: number;
      /** Failed attempts in a row: 1 after the first failure. */
      readonly attempt: number;
      /** Why the last attempt failed (also given to `onError`). */
      readonly error: HangtimeClientError;
    };

/** The part of the Web Storage interface the cursor persistence uses. */
export interface CursorStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The clock and timers the loop uses: `setTimeout` and `clearTimeout` are called as its methods
 * (so `globalThis`, the default, is one), `now` as a plain function (default `Date.now`). Tests
 * pass a fake clock to steer backoffs without sleeping.
 */
export interface Clock {
  now?(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// The platform's fetch types where the consumer has them (the DOM lib, @types/node), and the
// shapes the client uses otherwise: these declarations compile under `lib: ["ES2022"]` alone.
type Global = typeof globalThis;
/** `fetch`'s second parameter: the platform's `RequestInit`. */
export type FetchInit = Global extends { fetch(input: never, init?: infer I): unknown }
  ? NonNullable<I>
  : { headers?: Record<string, string> | Array<[string, string]>; signal?: Signal; cache?: string };
/** The platform's `Response`: `status`, `headers` and `json()` are what the client reads. */
export type FetchResponse = Global extends { fetch(...args: never[]): Promise<infer R> }
  ? R
  : { readonly status: number; readonly headers: { get(name: string): string | null }; json(): Promise<unknown> };
/** Request headers as `fetch` takes them: the platform's `HeadersInit`. */
export type HeadersInput = FetchInit extends { headers?: infer H } ? NonNullable<H> : never;
/** The platform's `AbortSignal`. */
export type Signal = Global extends { AbortSignal: { prototype: infer S } }
  ? S
  : { readonly aborted: boolean; addEventListener(type: 'abort', listener: () => void, options: { signal: unknown }): void };
/** The platform's `URL` (`never` where there is none). */
export type URLInput = Global extends { URL: { prototype: infer U } } ? U : never;

/** `T`: the events' data type, or the server's channel declaration (see {@link EventOf}). */
export interface PollOptions<T = unknown> {
  /** Channels to follow (1 to the server's `maxChannels`, default 32); with a channel
   * declaration as `T`, names it declares. */
  readonly channels: ReadonlyArray<NoInfer<ChannelOf<T>>>;
  /** Resume after this cursor. Default: the one stored under `storageKey`, else none (a new reader). */
  readonly cursor?: string | undefined;
  /**
   * Where channels without a position start: `'now'`, `'oldest'`, or `'last:N'` (the last N
   * events of each channel, N from 1 to 1000: a new reader sees the recent past, then goes on
   * live; a stored or given cursor wins, so a reload gets no event twice). Default: the
   * server's (`'now'`).
   */
  readonly from?: 'now' | 'oldest' | `last:${number}`;
  /**
   * Longest hold to ask for, in ms (sent as `wait`, capped by the server; `Infinity`: as long as
   * the server allows). Default: the server's.
   */
  readonly waitMs?: number;
  /** Extra request headers, or a function returning them (called before every poll, e.g. for a fresh token). */
  readonly headers?: HeadersInput | (() => HeadersInput | Promise<HeadersInput>);
  /** The `fetch` to use (auth wrappers, tests). Default: the global `fetch`. */
  readonly fetch?: (url: string, init: FetchInit) => Promise<FetchResponse>;
  /** Aborting it ends the loop and the request in flight at once. */
  readonly signal?: Signal;
  /** Failed attempts in a row before the loop stops with the last error. Default `Infinity`. */
  readonly retries?: number;
  /** Backoff base, in ms: attempt n waits a random time in [0, min(maxBackoffMs, backoffMs * 2^(n-1))). Default `1000`. */
  readonly backoffMs?: number;
  /** Backoff cap, in ms (before the jitter). Default `30000`. */
  readonly maxBackoffMs?: number;
  /** Persist the cursor under this key, and start from it. Default: no persistence. */
  readonly storageKey?: string;
  /** Where `storageKey` lives. Default `localStorage` (shared by the tabs of an origin). */
  readonly storage?: CursorStorage;
  /** Pause while the page is hidden or frozen, catch up with one poll on return. Default `true`. */
  readonly pauseWhenHidden?: boolean;
  /** The clock for backoffs and retry times. Default: the platform's. */
  readonly clock?: Clock;
  /** History after the cursor is gone. Resynchronise, then return `false` to stop or anything else to resume. */
  readonly onGap?: (gaps: readonly Gap[]) => unknown;
  /** Every failure, retried ones too (`error.willRetry`); a fatal one comes last. */
  readonly onError?: (error: HangtimeClientError) => void;
  /** Every change of {@link Status}: of `state`, and every new `retryAt`. */
  readonly onStatus?: (status: Status) => void;
}

export interface SubscribeOptions<T = unknown> extends PollOptions<T> {
  /**
   * Called with each batch of new events, in order, and awaited before the cursor moves. If
   * it throws (or rejects), the error goes to `onError` as `handler` and the same batch comes
   * again after a backoff: handle a batch idempotently, or catch inside.
   */
  readonly onEvents: (events: ReadonlyArray<EventOf<T>>, batch: Batch<T>) => unknown;
}

/** A running subscription. */
export interface Subscription {
  /** Stop: aborts the request in flight at once. Idempotent. */
  close(): void;
  /** While `retrying`: try now instead of at `retryAt` (a button's "retry now"). Otherwise nothing. */
  retryNow(): void;
  /** The cursor after the last handled batch (`undefined` until the first answer). */
  readonly cursor: string | undefined;
  /** Where the loop stands, kept current; `onStatus` reports each change. */
  readonly status: Status;
  /** Settles when the loop has ended: resolves after `close()`, rejects with a fatal error. */
  readonly done: Promise<void>;
}
