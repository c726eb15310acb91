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

/** A listener registered on a signal for `{ handleEvent() }`: the signal itself when it calls
 * `handleEvent` on listener objects (no allocation), else the closure that calls it, with its
 * signal. One field of its owner either way, where thousands of owners are held at once. */
export type Listening = SignalLike | ClosureListening;

/** The registration of {@link listen} on a signal that only calls functions. */
export class ClosureListening {
  constructor(
    readonly signal: SignalLike,
    readonly listener: () => void,
  ) {}
}

/** Call `target.handleEvent()` once when `signal` aborts; {@link unlisten} with what it returns. */
export function listen(signal: SignalLike, target: { handleEvent(): void }): Listening {
  if (!takesListenerObjects(signal)) return listenWithClosure(signal, target);
  signal.addEventListener('abort', target as unknown as () => void, ONCE);
  return signal;
}

// Apart from `listen`: a function that makes a closure allocates the closure's context on
// every call, even when it returns before making it.
function listenWithClosure(signal: SignalLike, target: { handleEvent(): void }): ClosureListening {
  const listener = (): void => target.handleEvent();
  signal.addEventListener('abort', listener, ONCE);
  return new ClosureListening(signal, listener);
}

/** Undo {@link listen}. */
export function unlisten(listening: Listening, target: { handleEvent(): void }): void {
  if (listening instanceof ClosureListening) listening.signal.removeEventListener('abort', listening.listener);
  else listening.removeEventListener('abort', target as unknown as () => void);
}

/** The signal a {@link Listening} listens to. */
export function signalOf(listening: Listening): SignalLike {
  return listening instanceof ClosureListening ? listening.signal : listening;
}

/**
 * Whether `signal` calls `handleEvent()` on listener objects (a Trigger, or an AbortSignal as
 * every EventTarget does), so that a waiter can listen with itself instead of a closure.
 */
export function takesListenerObjects(signal: SignalLike): boolean {
  return signal instanceof Trigger || (typeof AbortSignal === 'function' && signal instanceof AbortSignal);
}
