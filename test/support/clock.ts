import type { Timers } from '../../src/index.js';

/**
 * A fake clock for `createHangtime({ now, timers })`: time moves only with `advance()`, which
 * runs every timer due on the way, in order, letting promises settle after each. For tests that
 * steer a hold by its timers (a budget, a deadline) without sleeping real time.
 */
export function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  let nextId = 1;
  const pending = new Map<number, { at: number; run: () => void }>();
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const timers: Timers = {
    setTimeout(callback, ms, argument) {
      const id = nextId++;
      pending.set(id, { at: now + Math.max(0, ms), run: () => callback(argument) });
      return id;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  return {
    now: () => now,
    timers,
    /** Timers not yet run. */
    pending: () => pending.size,
    async advance(ms: number): Promise<void> {
      const end = now + ms;
      await settle();
      for (;;) {
        let due: [number, { at: number; run: () => void }] | undefined;
        for (const entry of pending) if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry;
        if (due === undefined) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].run();
        await settle();
      }
      now = end;
      await settle();
    },
  };
}
