/**
 * `hangtime/react`: one hook, `useHangtime`, over the `hangtime/client` loop. React (18 or 19)
 * is an optional peer dependency; the client does not grow for it (this entry adds the store
 * and the hook on top).
 */
import { useMemo, useSyncExternalStore } from 'react';
import type { Batch, EventOf, Gap, HangtimeClientError, PollOptions } from '../client/index.js';
import { HangtimeStore, type HangtimeState, type StoreOptions } from './store.js';

export { DEFAULT_KEEP, type HangtimeState, type HookStatus } from './store.js';

/**
 * Options of {@link useHangtime}: those of `subscribe()` (`channels`, `from`, `waitMs`, `headers`,
 * `fetch`, `retries`, backoffs, `storageKey`, `storage`, `pauseWhenHidden`, `clock`, `onGap`,
 * `onError`) and:
 */
export interface UseHangtimeOptions<T = unknown, S = undefined> extends Omit<PollOptions<T>, 'signal' | 'onStatus'> {
  /** Events kept in `events` (the newest), without `reduce`. Default `500`. */
  readonly keep?: number;
  /** Fold each batch into a state of your own (`data`) instead of keeping events. */
  readonly reduce?: (state: S, events: ReadonlyArray<EventOf<T>>) => S;
  /** The state before the first batch, with `reduce`. */
  readonly initial?: S;
  /** Called with each batch as well (side effects: a sound, a scroll); awaited before the cursor moves. */
  readonly onEvents?: (events: ReadonlyArray<EventOf<T>>, batch: Batch<T>) => unknown;
}

/** What identifies a loop: a change of any of these starts a new one; callbacks may change freely. */
const identity = (
  url: string,
  o: Omit<PollOptions, 'channels'> & { readonly channels: readonly string[]; readonly keep?: number; readonly reduce?: unknown },
) =>
  JSON.stringify([
    url,
    o.channels,
    o.from,
    o.cursor,
    o.waitMs,
    o.retries,
    o.backoffMs,
    o.maxBackoffMs,
    o.storageKey,
    o.pauseWhenHidden,
    o.keep,
    !!o.reduce,
  ]);

/**
 * Follow channels from a component: the events (or your reducer's state), the status, gaps and
 * errors, kept current. One loop per distinct `url` and options across re-renders and StrictMode's
 * double mount; closed when the last component using it unmounts. With `storageKey`, the cursor
 * and the state it covers persist (in `localStorage` by default), so a reload shows the same
 * state and resumes after it, receiving nothing twice.
 *
 * `T` is the events' data type, or the server's channel declaration (`typeof channels`, see
 * docs/client.md): then `channels` are checked and each event's `data` is typed by its channel.
 *
 * @example
 * const { events, status, retryNow } = useHangtime<AppChannels>('/api/poll', { channels: ['chat:lobby'], from: 'last:50' });
 * @example
 * // A reducer instead of a list: `data` is its state.
 * const { data: online } = useHangtime<AppChannels, string[]>('/api/poll', {
 *   channels: ['presence'],
 *   initial: [],
 *   reduce: (users, events) => events.reduce((list, { data }) => (data.online ? [...list, data.user] : list.filter((u) => u !== data.user)), users),
 * });
 */
export function useHangtime<T = unknown, S = undefined>(url: string, options: UseHangtimeOptions<T, S>): HangtimeState<T, S> {
  const key = identity(url, options);
  // Made during render without side effects (the loop starts when React subscribes), so a render
  // React discards costs nothing.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for url and options (a new store only when what it polls changes, not on every render's new options object)
  const store = useMemo(() => new HangtimeStore<T, S>(url, options as StoreOptions<T, S>), [key]);
  // The latest callbacks, read by the loop when it calls them.
  store.options = options as StoreOptions<T, S>;
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getServerSnapshot);
}

export type { Batch, EventOf, Gap, HangtimeClientError };
