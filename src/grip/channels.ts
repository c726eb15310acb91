/**
 * GRIP channel names. A hangtime channel has two on the proxy, because one published item cannot
 * be right for every poll that follows the channel:
 *
 * - polls of this channel alone hold on `<channel>`, where each append publishes the answer
 *   itself (the events of a poll held at the event before it are exactly that one event);
 * - polls of several channels hold on `~<channel>`, where each append publishes a hint: the
 *   proxy asks the origin again for each held poll, which answers from that poll's own cursor.
 *
 * `~` is not a character of hangtime channel names (CHANNEL_PATTERN), so the two never collide.
 */

/** The GRIP channel where polls of `channel` alone are held (answers are published). */
export const answerChannel = (channel: string): string => channel;

/** The GRIP channel where polls of several channels are held (hints are published). */
export const hintChannel = (channel: string): string => `~${channel}`;
