import type { WaitSink } from './log.js';
import { ONCE, takesListenerObjects, type SignalLike } from './signal.js';

/**
 * One wait of a log in progress, settled once: by the log (`settle(true)`, events follow) or
 * by the signal (`settle(false)`). An object rather than closures, as thousands are held at
 * once; it listens to the signal itself (`handleEvent`) when the signal allows. Each log says
 * in `release` how it forgets the waiter.
 */
export abstract class LogWaiter {
  #done = false;
  readonly #listener: LogWaiter | (() => void);

  constructor(
    readonly signal: SignalLike,
    readonly sink: WaitSink,
  ) {
    this.#listener = takesListenerObjects(signal) ? this : () => this.settle(false);
    signal.addEventListener('abort', this.#listener as () => void, ONCE);
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
    this.signal.removeEventListener('abort', this.#listener as () => void);
    this.release();
    this.sink.woken(woken);
  }
}
