// Hold timers, apart from the hold (hold.ts) that starts and stops them, on timers that can be
// injected (`createHangtime({ timers })`, for tests with a fake clock).
import { LinkedList, type Linked } from './linked-list.js';

/** The timer functions the core uses: the global ones by default. */
export interface Timers {
  setTimeout<A>(callback: (argument: A) => void, ms: number, argument: A): unknown;
  clearTimeout(handle: unknown): void;
}

/** What a timer ends: a hold, whose budget ran out. It is a member of its slot's list. */
export interface Timed extends Linked<Timed> {
  timedOut(): void;
}

/**
 * Hold timers. Holds of a second or less get a timer each. Longer ones (the usual hold) end on
 * a 50 ms grid, never later than their budget, and share one timer per grid slot: a slot is a
 * list threaded through its holders (a {@link LinkedList}), so a held poll costs two fields
 * instead of a Timeout object, and the poll that ends early (woken, or its client left) an
 * unlinking instead of a timer-list removal. A slot left empty stops its timer, so nothing
 * keeps the process alive.
 */
class Slot extends LinkedList<Timed> {
  timer: unknown;
  /** In its HoldTimers' map (false once its timer fired or it was left empty). */
  live = true;

  constructor(readonly at: number) {
    super();
  }
}

const SLOT_MS = 50;
let shareTimers = true;

/** Give every hold its own timer from now on: where a timer belongs to the request that set it
 * (Cloudflare Workers), a slot set by one request must not end another's hold. Work for many
 * polls then also stays in the turn that started it (see {@link eachInTurns}). */
export function timerPerHold(): void {
  shareTimers = false;
}

/** Polls answered in one turn of the event loop when many are answered at once (see {@link eachInTurns}). */
export const POLLS_PER_TURN = 256;

/**
 * Call `each` for every item, {@link POLLS_PER_TURN} per turn of the event loop where the
 * runtime can yield to I/O (`setImmediate`, read when called so that a test's fake timers
 * apply; not in Cloudflare Workers, see {@link timerPerHold}), else all at once. For the
 * answers of many polls at once: a publish that wakes 10,000 polls, a slot of holds whose
 * budget ran out together. The event loop serves other sockets and timers between slices
 * instead of stalling for the whole pass: during a fan-out to 10,000 its longest stall went from
 * 612–733 ms to 37–87 ms (bench/stall.mjs).
 *
 * Each item is called once, in order, and its place in `items` (which the walk owns) is
 * cleared before the call: what an answered poll keeps (its response, its request, the request
 * objects Node made for it) is garbage once its answer is out, not kept reachable until the
 * last slice while its client's next poll already arrives. Kept, a fan-out to 5,000 held about
 * twice the polls' objects at its end, and a major collection that fell then sized the old
 * space from that. One that throws (a bug) keeps no other from its call: the first error of a
 * slice is rethrown at the slice's end, so that it is seen.
 */
export function eachInTurns<T>(items: (T | undefined)[], each: (item: T) => void, from = 0): void {
  const later = items.length - from > POLLS_PER_TURN && shareTimers && typeof setImmediate === 'function';
  const end = later ? from + POLLS_PER_TURN : items.length;
  // Scheduled before this slice runs: an item that throws does not keep the rest waiting.
  if (later) setImmediate(eachInTurns, items, each, end);
  let failure: { error: unknown } | undefined;
  for (let i = from; i < end; i++) {
    const item = items[i]!;
    items[i] = undefined;
    try {
      each(item);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
}

/** A hold's timer: the slot it shares, or its own timer's handle (`undefined`: none). */
export type HoldTimer = Slot | unknown;

export class HoldTimers {
  readonly #slots = new Map<number, Slot>();
  #lastSlot: Slot | undefined;
  /** `now()` when made: slots are placed from it, in small whole numbers (an epoch instant is a
   * heap number allocated at every start, as a map key and a slot's `at`). They stay small
   * integers for 24 days of uptime, and correct after. */
  readonly #base: number;

  constructor(
    readonly timers: Timers,
    readonly now: () => number,
  ) {
    this.#base = Math.floor(now());
  }

  start(holder: Timed, remainingMs: number): HoldTimer {
    if (remainingMs <= 1_000 || !shareTimers) return this.timers.setTimeout(onHoldTimer, remainingMs, holder);
    const now = this.now() - this.#base;
    const at = Math.floor((now + remainingMs) / SLOT_MS) * SLOT_MS;
    // Holds that start together share a slot: the last one used is the likely one.
    const last = this.#lastSlot;
    let slot = last !== undefined && last.at === at && last.live ? last : this.#slots.get(at);
    if (slot === undefined) slot = this.newSlot(at, now);
    this.#lastSlot = slot;
    slot.add(holder);
    return slot;
  }

  /** Apart from `start`: a function with closures allocates their context on every call. */
  private newSlot(at: number, now: number): Slot {
    const slot = new Slot(at);
    slot.timer = this.timers.setTimeout((due: Slot) => this.#onSlotTimer(due), at - now, slot);
    this.#slots.set(at, slot);
    return slot;
  }

  stop(holder: Timed, timer: HoldTimer): void {
    if (timer === undefined) return;
    if (!(timer instanceof Slot)) return this.timers.clearTimeout(timer);
    timer.remove(holder);
    if (timer.size === 0 && timer.live) {
      timer.live = false;
      this.timers.clearTimeout(timer.timer);
      this.#slots.delete(timer.at);
    }
  }

  #onSlotTimer(slot: Slot): void {
    slot.live = false;
    this.#slots.delete(slot.at);
    // timedOut() unlinks each holder (stop), and its answer may end others: walk a copy. A
    // holder woken or left before its slice runs has stopped waiting: timedOut() does nothing.
    eachInTurns(slot.members(), onHoldTimer);
  }
}

function onHoldTimer(holder: Timed): void {
  holder.timedOut();
}

/** The global timers, read when called (so that a test's fake timers installed later apply). */
export const GLOBAL_TIMERS: Timers = {
  setTimeout: (callback, ms, argument) => setTimeout(callback, ms, argument),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The hold timers of every instance created without `timers`: one grid for the process. */
export const GLOBAL_HOLD_TIMERS = new HoldTimers(GLOBAL_TIMERS, () => Date.now());
