import { appendIdOption, type AppendOptions, type StartFrom } from '../log.js';
import { show } from '../options.js';
import { randomId } from '../random.js';

/** Checks of the per-call arguments of the Redis log: precise `TypeError`s, nothing sent. */

export type { AppendOptions } from '../log.js';

/** Random append ids: 16 base-36 characters (82 bits) from Web Crypto (`src/random.ts`), so no
 * id library is needed; two appends of a window never share one by chance. */
const newAppendId = (): string => randomId(16);

/** The id of an append: the caller's, checked, or a new random one (so the log's own retries
 * are safe). */
export function appendIdOf(options: AppendOptions | undefined): string {
  return appendIdOption(options) ?? newAppendId();
}

/** `from` of `start()` as the START_AT script takes it: `[mode, n]`. */
export function startArguments(from: StartFrom): ['now' | 'oldest' | 'last', number] {
  if (from === 'now' || from === 'oldest') return [from, 0];
  if (typeof from === 'object' && from !== null && !Array.isArray(from)) {
    const keys = Object.keys(from);
    const { last } = from as { last?: unknown };
    if (keys.length === 1 && keys[0] === 'last' && typeof last === 'number' && Number.isSafeInteger(last) && last > 0)
      return ['last', last];
  }
  throw new TypeError(`Expected \`from\` to be 'now', 'oldest' or { last: n } with n a positive integer, got ${describe(from)}`);
}

function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return show(value);
  try {
    return JSON.stringify(value);
  } catch {
    return 'an object';
  }
}
