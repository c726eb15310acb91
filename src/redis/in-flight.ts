/**
 * Counts the commands of this process in flight on the Redis log, for the blocking waits
 * (blocking.ts): an XREAD sent behind a command in flight would delay it, so one is sent only
 * once none is.
 */
export class InFlight {
  #count = 0;
  #idle: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined;

  /** Whether a command is in flight now. */
  get busy(): boolean {
    return this.#count > 0;
  }

  /** Run `send`, counted as in flight until it settles. */
  async run<T>(send: () => Promise<T>): Promise<T> {
    this.#count++;
    try {
      return await send();
    } finally {
      if (--this.#count === 0) {
        const idle = this.#idle;
        this.#idle = undefined;
        idle?.resolve();
      }
    }
  }

  /** Resolves when no command is in flight. */
  whenIdle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    if (this.#idle === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }
}
