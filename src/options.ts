import type { StartFrom } from './log.js';

/** Option validation with precise messages: ``Expected `maxWaitMs` to be …, got -1``. */

export function assertPositiveNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new TypeError(`Expected \`${name}\` to be a positive number, got ${show(value)}`);
  }
  return value;
}

export function assertNonNegativeNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`Expected \`${name}\` to be a finite number >= 0, got ${show(value)}`);
  }
  return value;
}

export function assertPositiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`Expected \`${name}\` to be a positive integer, got ${show(value)}`);
  }
  return value;
}

export function assertOptionalFunction(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`Expected \`${name}\` to be a function, got ${show(value)}`);
  }
}

/**
 * The check every public function that takes options starts with: `options` is an object, and
 * every name in it is one `what` defines, so a typo is never silently ignored.
 *
 * @example
 * assertOptions(options, ['timeLimitMs', 'maxBodyBytes', 'onError'], 'toNodeListener()');
 * // toNodeListener(h, { timelimitMs: 5 }) →
 * // TypeError: Unknown option `timelimitMs` for toNodeListener(); expected one of: timeLimitMs, maxBodyBytes, onError
 */
export function assertOptions(options: unknown, known: readonly string[], what: string): asserts options is object {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected ${what} options to be an object, got ${show(options)}`);
  }
  assertKnownOptions(options, known, what);
}

/** Reject option names nobody defined, so a typo is never silently ignored. `prefix` names the
 * option these are the fields of (`'cors.'`). */
export function assertKnownOptions(options: object, known: readonly string[], what: string, prefix = ''): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `Unknown option \`${prefix}${key}\` for ${what}; expected one of: ${known.map((name) => prefix + name).join(', ')}`,
      );
    }
  }
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}

/** Whether {@link assertStartFrom} accepts `value`. */
export function isStartFrom(value: unknown): value is StartFrom {
  if (value === 'now' || value === 'oldest') return true;
  if (typeof value !== 'object' || value === null || Object.keys(value).length !== 1 || !('last' in value)) return false;
  const { last } = value as { last: unknown };
  return typeof last === 'number' && Number.isSafeInteger(last) && last > 0;
}

/** Check a {@link StartFrom}: `'now'`, `'oldest'` or `{ last: n }` with n a positive integer. */
export function assertStartFrom(value: unknown, name = 'from'): StartFrom {
  if (isStartFrom(value)) return value;
  // `{ last }` with a bad number: say so about `last` (this throws).
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 1 && 'last' in value) {
    assertPositiveInteger((value as { last: unknown }).last, `${name}.last`);
  }
  throw new TypeError(`Expected \`${name}\` to be 'now', 'oldest' or { last: n }, got ${show(value)}`);
}
