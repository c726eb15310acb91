import type { PollOptions } from './types.js';

// The core's `src/options.ts` is not imported: the client bundle stays dependency-free and
// under 2 KB, so these checks restate its rules compactly.

/** Every option and its `typeof` (`''`: checked below, or by the platform when used). */
const TYPES: Record<string, string> = {
  channels: '',
  cursor: 'string',
  from: 'string',
  waitMs: 'number',
  headers: '',
  fetch: 'function',
  signal: '',
  retries: 'number',
  backoffMs: 'number',
  maxBackoffMs: 'number',
  storageKey: 'string',
  storage: '',
  pauseWhenHidden: 'boolean',
  onGap: 'function',
  onError: 'function',
  onStatus: 'function',
  onEvents: 'function',
};

/** The protocol's channel names (docs/protocol.md, "Concepts"). */
const CHANNEL = /^[\w.:@/-]{1,128}$/;

const fail = (name: string, expected: string, value: unknown): never => {
  throw new TypeError(`Expected \`${name}\` to be ${expected}, got ${value as string}`);
};

/**
 * Throw a precise `TypeError` for a malformed option, or for one nobody defined (a typo is
 * never silently ignored). `onEvents` belongs to `subscribe()` only, where it is required.
 */
export function checkOptions(options: PollOptions, what: string): void {
  const isSubscribe = what == 'subscribe';
  // First, so that missing options read as missing channels.
  const channels = options?.channels;
  if (!Array.isArray(channels) || !channels.length || !channels.every((c) => CHANNEL.test(c))) {
    fail('channels', 'a non-empty array of channel names', channels);
  }
  const o = options as unknown as Record<string, unknown>;
  for (const key in o) {
    const type = TYPES[key];
    const value = o[key];
    if (type == null || (key == 'onEvents' && !isSubscribe)) throw new TypeError(`Unknown option \`${key}\` for ${what}()`);
    // Numbers: NaN and negatives are refused (`!(NaN >= 0)`).
    if (value !== undefined && type && (typeof value != type || (type == 'number' && !((value as number) >= 0)))) {
      fail(key, type == 'number' ? 'a number >= 0' : `a ${type}`, value);
    }
  }
  if (isSubscribe && typeof o.onEvents != 'function') fail('onEvents', 'a function', o.onEvents);
}
