import { WaitList, type WaitListOwner } from '../wait-list.js';
import { follows } from './follows.js';
import { compareIds } from './position.js';
import type { ChannelState } from './types.js';

/**
 * One channel the shared watcher (watcher.ts) watches: what is known of where it stands while
 * its subscription is live, and how answers of Redis and wake messages change that. The
 * watcher owns the watches (subscribing, lingering, checking); this file says what each of
 * them knows.
 *
 * The head can move backwards: a failover that promotes a replica without the newest entries,
 * or a Redis restarted from an older snapshot. The known state must follow it, or a waiter at
 * the real head would be woken at once, read nothing, wait, and be woken again, forever (a
 * spin). So an answer that shows an older head is accepted whenever no message arrived since
 * its command was sent (then nothing newer can be known: see `learnAnswer`), and a message
 * older than the previous message is a head that went back (messages of a channel arrive in
 * order).
 */

/** When a command was sent, for deciding whether its answer is still news. */
export interface Snapshot {
  readonly live: number;
  readonly messages: number;
}

export interface Watch {
  readonly channel: string;
  readonly wake: string;
  /** Who waits on the channel, each after its own position. */
  readonly waiters: WaitList;
  /** Names this live subscription (unique per watch and connection); `undefined` when the
   * subscription is not live (yet, or any more). An answer counts only for the subscription
   * it was sent under: appends between two subscriptions sent no message we received. */
  live: number | undefined;
  /** Known while live, see the invariant in watcher.ts. */
  state: ChannelState | undefined;
  /** Messages applied so far: an answer sent before the latest message may be older news. */
  messages: number;
  /** The last hangtime message of this subscription (`<gen> <id>` parsed), to tell a head that
   * went back (a failover lost entries) from a message that is merely older than an answer. */
  lastMessage: { readonly generation: string; readonly last: string } | undefined;
  /** When Redis last told us `state` (an answer or a message), in epoch ms. */
  confirmedAt: number;
  checking: boolean;
  recheck: boolean;
  /** Set by `unsure`: reads go to Redis until an answer sent after it was observed. */
  doubtFrom: number | undefined;
  linger: ReturnType<typeof setTimeout> | undefined;
}

/** A watch of `channel` that knows nothing yet and is not subscribed. */
export function newWatch(channel: string, wake: string, owner: WaitListOwner): Watch {
  return {
    channel,
    wake,
    waiters: new WaitList(channel, owner),
    live: undefined,
    state: undefined,
    messages: 0,
    lastMessage: undefined,
    confirmedAt: 0,
    checking: false,
    recheck: false,
    doubtFrom: undefined,
    linger: undefined,
  };
}

/**
 * How long a known state is trusted without hearing from Redis. Only a publisher that appends
 * without publishing (see docs/redis.md) can make it stale; past this, a read goes to Redis
 * and a waiter triggers a check (one per channel, shared by its waiters), which bounds the
 * delay such an entry sees while polls keep coming. The poll right after an answer (the
 * common case) still costs no Redis command.
 */
const TRUST_MS = 1_000;

export const isStale = (watch: Watch): boolean => Date.now() - watch.confirmedAt >= TRUST_MS;

/**
 * Learn from an answer sent at `snapshot` (a read, an append or a check) under the watch's
 * live subscription; true when it is now the known state (wake who it concerns). An answer
 * that moves the head forward in the same generation is always news. Any other answer (an
 * older head, another generation, a missing stream) is accepted only when no message arrived
 * since the command was sent: every append after the command ran would have sent its message
 * after that moment, so none has arrived, and the invariant holds with the answer's state.
 * Otherwise the answer may predate what the messages said: ignored.
 */
export function learnAnswer(watch: Watch, state: ChannelState, snapshot: Snapshot): boolean {
  if (watch.doubtFrom !== undefined && snapshot.messages >= watch.doubtFrom) watch.doubtFrom = undefined;
  const known = watch.state;
  const quiet = watch.messages === snapshot.messages;
  if (known?.exists && state.exists && known.generation === state.generation) {
    const order = compareIds(state.last, known.last);
    if (order === 0 || (order < 0 && !quiet)) {
      if (order === 0) watch.confirmedAt = Date.now();
      return false;
    }
  } else if (!quiet) {
    return false;
  }
  watch.state = state;
  watch.confirmedAt = Date.now();
  return true;
}

/**
 * Learn from a wake message (`<gen> <id>`) of the watch's live subscription. False when it is
 * not our format (a publisher that is not hangtime): something was appended, but what stands
 * where is unknown, so the state is forgotten.
 */
export function learnMessage(watch: Watch, message: string): boolean {
  watch.messages++;
  const space = message.indexOf(' ');
  const generation = message.slice(0, space);
  const last = message.slice(space + 1);
  if (!(space > 0 && /^\d+-\d+$/.test(last))) {
    forgetState(watch);
    return false;
  }
  const known = watch.state;
  const previous = watch.lastMessage;
  watch.lastMessage = { generation, last };
  const sameLife = known?.exists === true && known.generation === generation;
  // Older than the known head: an answer got here before this message (the usual case:
  // this process's own append), unless it is also older than the previous message: then
  // the head went back (a failover lost entries), and this message is where it stands.
  const stale =
    sameLife &&
    compareIds(last, known.last) <= 0 &&
    !(previous !== undefined && previous.generation === generation && compareIds(last, previous.last) < 0);
  if (!stale) {
    watch.state = { exists: true, generation, last };
    watch.confirmedAt = Date.now();
  }
  return true;
}

/** Forget where the channel stands (messages may have been lost, or say nothing we can use). */
export function forgetState(watch: Watch): void {
  watch.state = undefined;
  watch.lastMessage = undefined;
}

/** Wake every waiter of the watch that has something to read at the known state. */
export function wakeFollowing(watch: Watch): void {
  const state = watch.state;
  if (state === undefined || watch.waiters.size === 0) return;
  for (const waiter of watch.waiters.waiters((after) => follows(state, after))) waiter.settle(true);
}
