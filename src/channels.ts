import { badRequest } from './errors.js';

/** Channel names: 1 to 128 of `A-Z a-z 0-9 _ - . : @ /`. No commas (the list separator),
 * no braces (Redis hash tags), nothing that needs escaping in a URL. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9_.:@/-]{1,128}$/;

/** Default and hard upper bound of channels in one poll. */
export const DEFAULT_MAX_CHANNELS = 32;

export function isChannel(value: unknown): value is string {
  return typeof value === 'string' && CHANNEL_PATTERN.test(value);
}

/** Throw a `TypeError` for a channel name passed to the library API (not from the wire). */
export function assertChannel(channel: unknown): asserts channel is string {
  if (!isChannel(channel)) {
    throw new TypeError(`Expected \`channel\` to be 1 to 128 characters of A-Z a-z 0-9 _ - . : @ /, got ${describe(channel)}`);
  }
}

/**
 * Parse the `channels` query parameter(s): comma-separated, repeatable, deduplicated, order
 * kept. Throws a 400 {@link HangtimeError} for anything malformed.
 */
export function parseChannels(values: readonly string[], maxChannels: number): string[] {
  const seen = new Set<string>();
  for (const value of values) {
    for (const channel of value.split(',')) {
      if (!isChannel(channel)) {
        throw badRequest('bad_channel', `Channel names are 1 to 128 characters of A-Z a-z 0-9 _ - . : @ /, got ${describe(channel)}`);
      }
      seen.add(channel);
      if (seen.size > maxChannels) {
        throw badRequest('too_many_channels', `A poll follows at most ${maxChannels} channels`);
      }
    }
  }
  if (seen.size === 0) throw badRequest('missing_channels', 'The `channels` parameter is required');
  return [...seen];
}

/** A short, safe rendering of untrusted input for error messages. */
export function describe(value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(shown);
}
