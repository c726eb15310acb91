/**
 * The state behind `useHangtime`, without React: one `subscribe()` loop shared by every
 * component (and every StrictMode re-mount) that listens, the events or the reducer state it
 * accumulated, the status, gaps and last error; an immutable snapshot per change, as
 * `useSyncExternalStore` requires. With `storageKey`, the cursor and what it covers are stored
 * together, so a reload shows the same state and resumes after it: nothing twice, nothing lost.
 */
import {
  subscribe,
  type Batch,
  type CursorStorage,
  type EventOf,
  type Gap,
  type HangtimeClientError,
  type Status,
  type SubscribeOptions,
  type Subscription,
} from '../client/index.js';

/** The loop's status, as a component shows it: `stopped` when it ended (a fatal error, or
 * `enabled: false`); `retrying` says when the next attempt is. */
export type HookStatus =
  | { readonly state: 'connecting' | 'live' | 'paused' | 'stopped' }
  | { readonly state: 'retrying'; readonly retryAt: number; readonly attempt: number; readonly error: HangtimeClientError };

/** What `useHangtime` returns. */
export interface HangtimeState<T, S> {
  /** The events received, oldest first: the last `keep` of them (without `reduce`). */
  readonly events: ReadonlyArray<EventOf<T>>;
  /** The reducer's state (with `reduce`), `undefined` otherwise. */
  readonly data: S;
  readonly status: HookStatus;
  /** Every gap reported since the hook started (the last 20): history the server no longer had. */
  readonly gaps: readonly Gap[];
  /** The last error, until the loop is live again (also while retrying, in `status.error`). */
  readonly error: HangtimeClientError | undefined;
  /** While retrying: try now. Stable across renders. */
  readonly retryNow: () => void;
}

/** The subscription options a store is made of (the hook's options, less React's own). */
export interface StoreOptions<T, S> extends Omit<SubscribeOptions<T>, 'onEvents' | 'onStatus' | 'signal' | 'storage'> {
  readonly storage?: Pick<CursorStorage, 'getItem' | 'setItem'> | undefined;
  readonly keep?: number | undefined;
  readonly reduce?: ((state: S, events: ReadonlyArray<EventOf<T>>) => S) | undefined;
  readonly initial?: S | undefined;
  readonly onEvents?: ((events: ReadonlyArray<EventOf<T>>, batch: Batch<T>) => unknown) | undefined;
}

const KEEP_GAPS = 20;
/** Default `keep`: enough for a chat view, bounded so a long session does not grow. */
export const DEFAULT_KEEP = 500;

interface Persisted<T, S> {
  cursor: string;
  events?: Array<EventOf<T>>;
  data?: S;
}

export class HangtimeStore<T, S> {
  #snapshot: HangtimeState<T, S>;
  #listeners = new Set<() => void>();
  #subscription: Subscription | undefined;
  /** The current loop's token: callbacks of a closed loop (which may still come) change nothing. */
  #run: object | undefined;
  #closing: ReturnType<typeof setTimeout> | undefined;
  /** The latest options: callbacks may change on every render without a new loop. */
  options: StoreOptions<T, S>;
  readonly #url: string;
  readonly #persisted: Persisted<T, S> | undefined;
  /** Where a loop started again (after its last listener left and came back) resumes. */
  #cursor: string | undefined;

  constructor(url: string, options: StoreOptions<T, S>) {
    this.#url = url;
    this.options = options;
    this.#persisted = this.#read();
    this.#cursor = options.cursor ?? this.#persisted?.cursor;
    this.#snapshot = {
      events: this.#persisted?.events ?? [],
      data: (this.#persisted && 'data' in this.#persisted ? this.#persisted.data : options.initial) as S,
      status: { state: 'connecting' },
      gaps: [],
      error: undefined,
      retryNow: () => this.#subscription?.retryNow(),
    };
    this.#serverSnapshot = { ...this.#snapshot, events: [], data: options.initial as S };
  }

  readonly getSnapshot = (): HangtimeState<T, S> => this.#snapshot;

  /** What a server render shows, and what hydration starts from: nothing received yet, nothing
   * read from storage (the server has none), so that the HTML matches. */
  readonly getServerSnapshot = (): HangtimeState<T, S> => this.#serverSnapshot;
  readonly #serverSnapshot: HangtimeState<T, S>;

  /**
   * Listen. The first listener starts the loop; when the last one leaves, the loop is closed
   * after a tick, so that React's StrictMode (unmount and mount again at once) and a key that
   * moves between components keep one loop instead of closing and opening a second.
   */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    clearTimeout(this.#closing);
    this.#closing = undefined;
    if (this.#run === undefined) this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        clearTimeout(this.#closing);
        this.#closing = setTimeout(() => this.close(), 0);
      }
    };
  };

  /** Stop the loop (the store can start again on the next listener). */
  close(): void {
    const subscription = this.#subscription;
    this.#subscription = this.#run = undefined;
    this.#cursor = subscription?.cursor ?? this.#cursor;
    subscription?.close();
  }

  #set(change: Partial<HangtimeState<T, S>>): void {
    this.#snapshot = { ...this.#snapshot, ...change };
    for (const listener of [...this.#listeners]) listener();
  }

  #start(): void {
    const { keep = DEFAULT_KEEP, reduce, initial: _initial, onEvents, storageKey, storage, onGap, onError, ...rest } = this.options;
    // Set before `subscribe()`, which reports its first status before it returns.
    const run = (this.#run = {});
    const key = storageKey;
    const backing = key === undefined ? undefined : (storage ?? globalThis.localStorage);
    // The client stores the cursor after each handled batch; here, the state it covers goes with it.
    const cursorStorage: CursorStorage | undefined =
      key === undefined
        ? undefined
        : {
            getItem: () => this.#cursor ?? null,
            setItem: (_key, cursor) => {
              const { events, data } = this.#snapshot;
              const saved: Persisted<T, S> = reduce ? { cursor, data } : { cursor, events: [...events] };
              try {
                backing?.setItem(key, JSON.stringify(saved));
              } catch {
                // Quota or privacy mode: the session stays exact in memory.
              }
            },
          };
    const subscription = subscribe<T>(this.#url, {
      ...rest,
      // After the events this store already holds: a loop started again delivers none twice.
      cursor: this.#cursor,
      ...(key === undefined ? {} : { storageKey: key, storage: cursorStorage }),
      onEvents: async (events, batch) => {
        // Stopped meanwhile: not handled (the cursor does not move).
        if (this.#run !== run) return;
        if (reduce) this.#set({ data: reduce(this.#snapshot.data, events) });
        else this.#set({ events: [...this.#snapshot.events, ...events].slice(-keep) });
        await onEvents?.(events, batch);
      },
      onGap: (gaps) => {
        if (this.#run === run) this.#set({ gaps: [...this.#snapshot.gaps, ...gaps].slice(-KEEP_GAPS) });
        return onGap?.(gaps);
      },
      onStatus: (status: Status) => {
        if (this.#run !== run) return;
        const next: HookStatus = status.state === 'closed' ? { state: 'stopped' } : (status as HookStatus);
        this.#set(status.state === 'live' ? { status: next, error: undefined } : { status: next });
      },
      onError: (error) => {
        if (this.#run === run) this.#set({ error });
        onError?.(error);
      },
    });
    this.#subscription = subscription;
    // A fatal error already went to `onError` (and the status to `stopped`).
    subscription.done.catch(() => {});
  }

  #read(): Persisted<T, S> | undefined {
    const key = this.options.storageKey;
    if (key === undefined) return undefined;
    try {
      const text = (this.options.storage ?? globalThis.localStorage)?.getItem(key);
      const value = text ? (JSON.parse(text) as Persisted<T, S>) : undefined;
      return typeof value?.cursor === 'string' ? value : undefined;
    } catch {
      // No storage (a sandboxed frame, a server render), or not ours: start afresh.
      return undefined;
    }
  }
}
