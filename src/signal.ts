/**
 * The part of `AbortSignal` that hangtime's waits use. An `AbortSignal` is one; so is a
 * {@link Trigger}, which the hold uses instead of an `AbortController` per poll: Node's
 * EventTarget-based AbortController costs ~10 µs and several allocations per poll, which
 * measured as a quarter of the server's CPU when thousands of polls wait.
 */
export interface SignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** The options of every abort listener the hold adds: one object, where a literal at each call
 * is an allocation per held poll (three per poll: the poll, its hold, the log's waiter). */
export const ONCE: { readonly once: true } = Object.freeze({ once: true });

/** A listener function, or an object whose `handleEvent()` is called (as EventTarget does). */
export type AbortListener = (() => void) | { handleEvent(): void };

/** A one-shot, single-purpose abort signal: `fire()` calls each listener once. Most have one
 * listener, kept without an array. */
export class Trigger implements SignalLike {
  aborted = false;
  #listeners: AbortListener | AbortListener[] | undefined;

  /** Listeners run at most once (`fire` is one-shot), so `{ once }` is implied. */
  addEventListener(_type: 'abort', listener: AbortListener, _options?: { once?: boolean }): void {
    if (this.aborted) return;
    const listeners = this.#listeners;
    if (listeners === undefined) this.#listeners = listener;
    else if (Array.isArray(listeners)) listeners.push(listener);
    else this.#listeners = [listeners, listener];
  }

  removeEventListener(_type: 'abort', listener: AbortListener): void {
    const listeners = this.#listeners;
    if (listeners === listener) this.#listeners = undefined;
    else if (Array.isArray(listeners)) {
      const i = listeners.indexOf(listener);
      if (i >= 0) listeners.splice(i, 1);
    }
  }

  fire(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners === undefined) return;
    if (!Array.isArray(listeners)) return call(listeners);
    for (const listener of listeners) call(listener);
  }
}

function call(listener: AbortListener): void {
  if (typeof listener === 'function') listener();
  else listener.handleEvent();
}

/**
 * Whether `signal` calls `handleEvent()` on listener objects (a Trigger, or an AbortSignal as
 * every EventTarget does), so that a waiter can listen with itself instead of a closure.
 */
export function takesListenerObjects(signal: SignalLike): boolean {
  return signal instanceof Trigger || (typeof AbortSignal === 'function' && signal instanceof AbortSignal);
}
