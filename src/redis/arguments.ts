import type { StartFrom } from '../log.js';
import { assertKnownOptions, show } from '../options.js';
import { randomId } from '../random.js';

/** Checks of the per-call arguments of the Redis log: precise `TypeError`s, nothing sent. */

/**
 * Options of one append.
 *
 * @example
 * await log.append('chat', message, { id: message.uuid }); // a retry with the same id is stored once
 */
export interface AppendOptions {
  /** The append's id: appends with the same id on the same channel, within the log's
   * `idempotencyWindowMs`, are stored once (the first one's position is returned to all).
   * 1 to 64 characters of `A-Z a-z 0-9 _ -`. Default: a random id (so the log's own retries
   * are safe); pass your own to make your retries safe too. */
  readonly id?: string;
}

const APPEND_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Random append ids: 16 base-36 characters (82 bits) from Web Crypto (`src/random.ts`), so no
 * id library is needed; two appends of a window never share one by chance. */
const newAppendId = (): string => randomId(16);

/** The id of an append: the caller's, checked, or a new random one. */
export function appendIdOf(options: AppendOptions | undefined): string {
  if (options === undefined) return newAppendId();
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected append options to be an object, got ${options === null ? 'null' : typeof options}`);
  }
  assertKnownOptions(options, ['id'], 'append()');
  if (options.id === undefined) return newAppendId();
  if (typeof options.id !== 'string' || !APPEND_ID.test(options.id)) {
    throw new TypeError(`Expected \`id\` to be 1 to 64 characters of A-Z a-z 0-9 _ -, got ${show(options.id)}`);
  }
  return options.id;
}

/** `from` of `start()` as the START_AT script takes it: `[mode, n]`. */
export function startArguments(from: StartFrom): ['now' | 'oldest' | 'last', number] {
  if (from === 'now' || from === 'oldest') return [from, 0];
  if (typeof from === 'object' && from !== null && !Array.isArray(from)) {
    const keys = Object.keys(from);
    const { last } = from as { last?: unknown };
    if (keys.length === 1 && keys[0] === 'last' && typeof last === 'number' && Number.isSafeInteger(last) && last > 0) return ['last', last];
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
