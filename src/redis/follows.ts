import { START } from '../log.js';
import { encodePosition } from './position.js';
import type { ChannelState } from './types.js';

/** Whether a reader at `after` has something to read (or must be told of a gap). START (an old
 * cursor's position of no generation) is always a gap, and so is any position of a channel
 * without history (its read stamps a new generation: see READ). */
export function follows(state: ChannelState, after: string): boolean {
  if (!state.exists || after === START) return true;
  // Positions have one spelling each (see position.ts): a reader is at the head exactly when
  // its position is the head's, as a string. No decoding per waiter: one wake message tests
  // every waiter of its channel.
  return after !== headOf(state);
}

/** The position of a channel's newest entry, encoded once per state (states are immutable). */
const heads = new WeakMap<ChannelState, string>();

function headOf(state: Extract<ChannelState, { exists: true }>): string {
  let head = heads.get(state);
  if (head === undefined) heads.set(state, (head = encodePosition(state.generation, state.last)));
  return head;
}
