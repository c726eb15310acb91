// Hold timers, apart from the hold (hold.ts) that starts and stops them.

/** What a timer ends: a hold, whose budget ran out. */
export interface Timed {
  timedOut(): void;
}

/**
 * Hold timers. Holds of a second or less get a timer each. Longer ones (the usual hold) end on
 * a 50 ms grid, never later than their budget, and share one Node timer per grid slot: a slot
 * is a set of holders, so a held poll costs a set entry instead of a Timeout object, and the
 * poll that ends early (woken, or its client left) a set deletion instead of a timer-list
 * removal. A slot left empty stops its timer, so nothing keeps the process alive.
 */
export interface Slot {
  readonly at: number;
  readonly holders: Set<Timed>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const SLOT_MS = 50;
const slots = new Map<number, Slot>();

export function startTimer(holder: Timed, remainingMs: number): ReturnType<typeof setTimeout> | Slot {
  if (remainingMs <= 1_000) return setTimeout(onHoldTimer, remainingMs, holder);
  const now = Date.now();
  const at = Math.floor((now + remainingMs) / SLOT_MS) * SLOT_MS;
  let slot = slots.get(at);
  if (slot === undefined) {
    slot = { at, holders: new Set(), timer: undefined };
    slot.timer = setTimeout(onSlotTimer, at - now, slot);
    slots.set(at, slot);
  }
  slot.holders.add(holder);
  return slot;
}

export function stopTimer(holder: Timed, timer: ReturnType<typeof setTimeout> | Slot | undefined): void {
  if (timer === undefined) return;
  if (!isSlot(timer)) return clearTimeout(timer);
  timer.holders.delete(holder);
  if (timer.holders.size === 0 && slots.get(timer.at) === timer) {
    clearTimeout(timer.timer);
    slots.delete(timer.at);
  }
}

function isSlot(timer: ReturnType<typeof setTimeout> | Slot): timer is Slot {
  return typeof timer === 'object' && timer !== null && 'holders' in timer;
}

function onHoldTimer(holder: Timed): void {
  holder.timedOut();
}

function onSlotTimer(slot: Slot): void {
  slots.delete(slot.at);
  // timedOut() removes each holder from the set (stopTimer): iterate a copy.
  for (const holder of [...slot.holders]) holder.timedOut();
}
