import { describe, expect, it } from 'vitest';
import { START } from '../../src/log.js';
import { encodePosition } from '../../src/redis/position.js';
import { follows } from '../../src/redis/follows.js';
import type { ChannelState } from '../../src/redis/types.js';

// Pure: no Redis needed. `follows` decides, per waiter and wake message, whether a reader must
// read; a wrong "no" would let a poll sleep through an event.
describe('follows: whether a reader at a position has something to read', () => {
  const head: ChannelState = { exists: true, generation: 'abcdefgh', last: '1700000000000-10' };

  it('is false only at the head itself', () => {
    expect(follows(head, encodePosition('abcdefgh', '1700000000000-10'))).toBe(false);
  });

  it('is true behind the head, in another generation, ahead of the head, or for a malformed position', () => {
    for (const after of [
      encodePosition('abcdefgh', '1700000000000-9'), // behind (and shorter: string order alone would say ahead)
      encodePosition('abcdefgh', '1699999999999-99'),
      encodePosition('hgfedcba', '1700000000000-10'), // the channel was recreated
      encodePosition('abcdefgh', '1700000000000-11'), // ahead: forged or from a lost life
      'abcdefgh-d1700000000000-2010', // a non-canonical spelling of the head (leading zero)
      'nonsense',
      START,
    ]) {
      expect(follows(head, after), after).toBe(true);
    }
  });

  it('knows a channel without events (a stamped generation at 0-0) and one without history', () => {
    const empty: ChannelState = { exists: true, generation: 'abcdefgh', last: '0-0' };
    expect(follows(empty, encodePosition('abcdefgh', '0-0'))).toBe(false);
    expect(follows(empty, encodePosition('zzzzzzzz', '0-0'))).toBe(true);
    const missing: ChannelState = { exists: false };
    expect(follows(missing, encodePosition('abcdefgh', '0-0'))).toBe(true);
    expect(follows(missing, encodePosition('abcdefgh', '1-0'))).toBe(true);
  });

  it("is true for START (an old cursor's position of no generation) whatever the state: a read says it is a gap", () => {
    for (const state of [head, { exists: true, generation: 'abcdefgh', last: '0-0' }, { exists: false }] as ChannelState[]) {
      expect(follows(state, START)).toBe(true);
    }
  });
});
