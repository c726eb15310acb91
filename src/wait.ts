import { cursorOf } from './answer.js';
import { assertChannel } from './channels.js';
import { assertOptions, assertStartFrom } from './options.js';
import type { Poller } from './poll.js';
import type { WaitOptions, WaitResult } from './types.js';

const WAIT_OPTION_NAMES = ['channels', 'cursor', 'from', 'deadline', 'signal', 'waitMs', 'limit'] as const;

/** `hangtime.wait()`: the hold as a primitive, for custom handlers. */
export function waitOf(poller: Poller): <T = unknown>(options: WaitOptions) => Promise<WaitResult<T>> {
  const { maxChannels, maxEvents } = poller.settings;
  return async <T>(waitOptions: WaitOptions): Promise<WaitResult<T>> => {
    assertOptions(waitOptions, WAIT_OPTION_NAMES, 'wait()');
    if (!Array.isArray(waitOptions.channels) || waitOptions.channels.length === 0) {
      throw new TypeError('Expected `channels` to be a non-empty array of channel names');
    }
    waitOptions.channels.forEach((channel) => assertChannel(channel));
    const channels = [...new Set(waitOptions.channels)];
    if (channels.length > maxChannels) throw new TypeError(`Expected at most ${maxChannels} channels, got ${channels.length}`);
    const { batch, reason, heldMs } = await poller.poll(
      {
        channels,
        cursor: waitOptions.cursor,
        from: assertStartFrom(waitOptions.from ?? 'now'),
        limit: Math.min(waitOptions.limit ?? maxEvents, maxEvents),
      },
      { clientWaitMs: waitOptions.waitMs, context: { deadline: waitOptions.deadline }, signal: waitOptions.signal },
    );
    return {
      events: batch.events.map(({ channel, event }) => ({ channel, position: event.position, data: JSON.parse(event.json) as T })),
      cursor: cursorOf(batch),
      more: batch.more,
      reason,
      gaps: batch.gaps,
      heldMs,
    };
  };
}
