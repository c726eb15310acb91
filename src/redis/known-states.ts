import type { ChannelState } from './types.js';

/**
 * Where channels stand, as the blocking waits (blocking.ts) last learnt it from an answer of
 * Redis (a read, a start, a check, an append): what a wait is decided against before its XREAD
 * blocks. Bounded, the least recently learnt forgotten first (a Map keeps insertion order).
 */

/** How often, at least, a channel's generation is asked again while polls skip their reads. */
const REVALIDATE_MS = 300_000;
/** Channels whose state is remembered; beyond, the oldest is forgotten. */
const MAX_KNOWN = 10_000;

interface Known {
  state: ChannelState;
  /** When a command that returns the generation last answered (read, start, check, append). */
  checkedAt: number;
}

export class KnownStates {
  readonly #known = new Map<string, Known>();

  /** The state last learnt of the channel, however old. */
  stateOf(channel: string): ChannelState | undefined {
    return this.#known.get(channel)?.state;
  }

  /** Whether the channel must be checked before a wait on it blocks: not known, or not asked
   * again for REVALIDATE_MS. */
  isDue(channel: string, now: number): boolean {
    const known = this.#known.get(channel);
    return known === undefined || now - known.checkedAt >= REVALIDATE_MS;
  }

  /** Learn where a channel stands from an answer of Redis. */
  observe(channel: string, state: ChannelState): void {
    const known = this.#known.get(channel);
    if (known !== undefined) {
      this.#known.delete(channel);
      known.state = state;
      known.checkedAt = Date.now();
      this.#known.set(channel, known);
    } else {
      if (this.#known.size >= MAX_KNOWN) this.#known.delete(this.#known.keys().next().value as string);
      this.#known.set(channel, { state, checkedAt: Date.now() });
    }
  }

  /** Forget every state. */
  clear(): void {
    this.#known.clear();
  }
}
