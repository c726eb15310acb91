import type { WaitSink } from './log.js';
import { listen, signalOf, unlisten, type Listening, type SignalLike } from './signal.js';

/**
 * One wait of a log in progress, settled once: by the log (`settle(true)`, events follow) or
 * by the signal (`settle(false)`). An object rather than closures, as thousands are held at
 * once; it listens to the signal itself (`handleEvent`) when the signal allows. Each log says
 * in `release` how it forgets the waiter.
 */
export abstract class LogWaiter {
  #done = false;
  /** The signal, listened to (see {@link listen}: one field, no closure for a Trigger). */
  readonly #listening: Listening;

  constructor(
    signal: SignalLike,
    readonly sink: WaitSink,
  ) {
    this.#listening = listen(signal, this);
  }

  get signal(): SignalLike {
    return signalOf(this.#listening);
  }

  /** Drop every registration of this waiter in its log. Called once, on settling. */
  protected abstract release(): void;

  /** The signal aborted. */
  handleEvent(): void {
    this.settle(false);
  }

  settle(woken: boolean): void {
    if (this.#done) return;
    this.#done = true;
    unlisten(this.#listening, this);
    this.release();
    this.sink.woken(woken);
  }
}
