import type { URLInput } from './types.js';

// The core's `src/options.ts` is not imported: the client bundle stays dependency-free and
// under 2 KB, so this restates its rules and its messages compactly.

/**
 * Every option and what it must be, in the words of the message. `channels` (the first) is
 * required, and so is `onEvents` (the last), which only `subscribe()` takes. Besides `channels`,
 * each is checked by the words: a value they quote (`'now'`), or the `typeof` they name
 * (`'a function'`, `'an object or a function'`; `null` is none), numbers being `>= 0` (never NaN).
 */
const OPTIONS: Record<string, string> = {
  channels: 'a non-empty array of channel names',
  cursor: 'a string',
  from: "'now', 'oldest' or 'last:N'",
  // `Infinity` too: as long as the server holds (sent as the longest `wait` the protocol can say).
  // (`from` and `waitMs` were sent as given: a 400 that stopped the loop for its own parameter.)
  waitMs: 'a number >= 0',
  headers: 'an object or a function',
  fetch: 'a function',
  signal: 'an object',
  retries: 'a number >= 0',
  backoffMs: 'a number >= 0',
  maxBackoffMs: 'a number >= 0',
  storageKey: 'a string',
  storage: 'an object',
  pauseWhenHidden: 'a boolean',
  clock: 'an object',
  onGap: 'a function',
  onError: 'a function',
  onStatus: 'a function',
  onEvents: 'a function',
};

/**
 * Throw a precise `TypeError` for a malformed option, or for one nobody defined (a typo is
 * never silently ignored), in the core's words: ``Expected `waitMs` to be a number >= 0, got -1``,
 * ``Unknown option `storagekey` for subscribe(); expected one of: …``.
 */
export const checkOptions = (url: string | URLInput, options: object, what: 'subscribe' | 'poll'): URL => {
  const o = { ...options } as Record<string, unknown>;
  const names = Object.keys(OPTIONS);
  // `onEvents`, the last, is `subscribe()`'s alone.
  if (what == 'poll') names.pop();
  // Known ones first (the first, so that missing options read as missing channels), then the
  // given ones (the known among them again, harmlessly).
  for (const name of [...names, ...Object.keys(o)]) {
    const value = o[name];
    if (!names.includes(name)) throw new TypeError(`Unknown option \`${name}\` for ${what}(); expected one of: ${names.join(', ')}`);
    // (`OPTIONS[name]` each time: smaller gzipped than a variable.)
    const valid =
      name == 'channels'
        ? // The protocol's channel names (docs/protocol.md, "Concepts").
          (value as string[] | undefined)?.every?.((channel) => /^[\w.:@/-]{1,128}$/.test(channel)) && (value as string[])[0]
        : OPTIONS[name]!.includes(`'${value}'`.replace(/1000|[1-9]\d{0,2}/, 'N')) ||
          (OPTIONS[name]!.includes(typeof (value ?? undefined)) && !((value as number) < 0 || value != value));
    // `channels` and `onEvents` are required. The value is shown as the core's messages show it:
    // strings (and arrays, for `channels`) as JSON. (Both have `at`, and no other value an option
    // is checked against does but typed arrays, which JSON shows well enough.) Inline: smaller
    // gzipped than a helper.
    if ((value !== undefined || name == 'channels' || name == 'onEvents') && !valid) {
      throw new TypeError(
        `Expected \`${name}\` to be ${OPTIONS[name]}, got ${(value as string | undefined)?.at ? JSON.stringify(value) : String(value)}`,
      );
    }
  }
  // The endpoint, resolved once, so that a bad URL throws here rather than being retried.
  return new URL(url as string, globalThis.location?.href);
};
