import type { HangtimeClientError } from './errors.js';

/** One event as the server delivers it (docs/protocol.md, "200: events"). */
export interface HangtimeEvent<T = unknown> {
  readonly channel: string;
  /** Opaque; unique within the channel. */
  readonly position: string;
  readonly data: T;
}

/** A channel whose history after the cursor is gone (docs/protocol.md, "410: gap"). */
export interface Gap {
  readonly channel: string;
  /** The poll resumes after this position: the oldest retained event comes next. */
  readonly resumeAfter: string;
  /** Events lost, when the server can tell; otherwise `null`. */
  readonly missed: number | null;
}

/** What one answer delivered, and the cursor that covers it. */
export interface Batch<T = unknown> {
  readonly events: ReadonlyArray<HangtimeEvent<T>>;
  /** The cursor after these events; the loop moves to it once the batch is handled. */
  readonly cursor: string;
}

/**
 * Where the loop stands: `connecting` (the first poll, or the first after a pause), `live`
 * (the last poll was answered and handled), `retrying` (a poll failed; waiting out the
 * backoff, then trying again), `paused` (the page is hidden or frozen), `closed` (ended:
 * `close()`, the signal, `onGap` returned `false`, or a fatal error).
 */
export type Status = 'connecting' | 'live' | 'retrying' | 'paused' | 'closed';

/** The part of the Web Storage interface the cursor persistence uses. */
export interface CursorStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface PollOptions {
  /** Channels to follow (1 to the server's `maxChannels`, default 32). */
  readonly channels: readonly string[];
  /** Resume after this cursor. Default: the one stored under `storageKey`, else none (a new reader). */
  readonly cursor?: string | undefined;
  /** Where channels without a position start: `'now'` or `'oldest'`. Default: the server's (`'now'`). */
  readonly from?: 'now' | 'oldest';
  /** Longest hold to ask for, in ms (sent as `wait`, capped by the server). Default: the server's. */
  readonly waitMs?: number;
  /** Extra request headers, or a function returning them (called before every poll, e.g. for a fresh token). */
  readonly headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>);
  /** The `fetch` to use (auth wrappers, tests). Default: the global `fetch`. */
  readonly fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Aborting it ends the loop and the request in flight at once. */
  readonly signal?: AbortSignal;
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
  /** History after the cursor is gone. Resynchronise, then return `false` to stop or anything else to resume. */
  readonly onGap?: (gaps: readonly Gap[]) => unknown;
  /** Every failure, retried ones too (`error.willRetry`); a fatal one comes last. */
  readonly onError?: (error: HangtimeClientError) => void;
  /** Every change of {@link Status}. */
  readonly onStatus?: (status: Status) => void;
}

export interface SubscribeOptions<T = unknown> extends PollOptions {
  /**
   * Called with each batch of new events, in order, and awaited before the cursor moves. If
   * it throws (or rejects), the error goes to `onError` as `handler` and the same batch comes
   * again after a backoff: handle a batch idempotently, or catch inside.
   */
  readonly onEvents: (events: ReadonlyArray<HangtimeEvent<T>>, batch: Batch<T>) => unknown;
}

/** A running subscription. */
export interface Subscription {
  /** Stop: aborts the request in flight at once. Idempotent. */
  close(): void;
  /** The cursor after the last handled batch (`undefined` until the first answer). */
  readonly cursor: string | undefined;
  readonly status: Status;
  /** Settles when the loop has ended: resolves after `close()`, rejects with a fatal error. */
  readonly done: Promise<void>;
}
