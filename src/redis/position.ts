import { START } from '../log.js';

/**
 * Positions of the Redis log: `<generation>-<ms>-<seq>`, the stream id `<ms>-<seq>` with each
 * number written as one length digit followed by its decimal digits.
 *
 * Why the length digit: Redis ids are not zero-padded, so as strings `1700000000000-10` sorts
 * before `1700000000000-9`. With the length first, a longer number always sorts after a
 * shorter one and equal lengths compare digit by digit, so positions compare as strings in
 * id order, round-trip exactly (ids are 64-bit, beyond what a JS number holds), and stay
 * short: the id `1700000000000-0` is `d1700000000000-10` (13 digits: `d`; 1 digit: `1`).
 *
 * The generation is random per life of a channel (see `scripts.ts`): a position of a deleted
 * channel never names an entry of the channel recreated under the same name.
 */

/** Length digits for 1 to 20 decimal digits (a 64-bit number has at most 20). In ASCII order. */
const LENGTH_DIGITS = '123456789abcdefghijk';

const POSITION = /^([0-9a-z]{8})-([1-9a-k])(\d{1,20})-([1-9a-k])(\d{1,20})$/;
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

export const GENERATION_LENGTH = 8;

/** A decoded position: its generation and stream id (`<ms>-<seq>`). */
export interface RedisPosition {
  readonly generation: string;
  readonly id: string;
}

/** Encode a stream id of a generation as a position. Throws on anything that is not a stream id. */
export function encodePosition(generation: string, id: string): string {
  return `${generation}-${encodeId(id)}`;
}

/** Decode a position; `undefined` for {@link START} and for anything that is not a position. */
export function decodePosition(position: string): RedisPosition | undefined {
  const match = POSITION.exec(position);
  if (match === null) return undefined;
  const [, generation, msLength, ms, seqLength, seq] = match as unknown as [string, string, string, string, string, string];
  if (!isNumber(msLength, ms) || !isNumber(seqLength, seq)) return undefined;
  return { generation, id: `${ms}-${seq}` };
}

export function isRedisPosition(position: string): boolean {
  return position === START || decodePosition(position) !== undefined;
}

/** Compare two stream ids: negative, zero or positive, like `a - b`. */
export function compareIds(a: string, b: string): number {
  const x = encodeId(a);
  const y = encodeId(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `<ms>-<seq>` with each number length-prefixed; compares as strings in id order. */
function encodeId(id: string): string {
  const match = STREAM_ID.exec(id);
  if (match === null) throw new TypeError(`Expected a Redis stream id like 1700000000000-0, got ${JSON.stringify(id)}`);
  const [, ms, seq] = match as unknown as [string, string, string];
  return `${lengthDigit(ms)}${ms}-${lengthDigit(seq)}${seq}`;
}

function lengthDigit(digits: string): string {
  if (digits.length > 1 && digits.startsWith('0')) throw new TypeError(`Expected a stream id without leading zeros, got ${digits}`);
  return LENGTH_DIGITS[digits.length - 1]!;
}

/** Largest part of a stream id: Redis ids are two unsigned 64-bit numbers. */
const MAX_U64 = '18446744073709551615';

/** The digits agree with their length digit, have no leading zero (so each id has one spelling)
 * and fit 64 bits (so Redis accepts the id back). */
function isNumber(length: string, digits: string): boolean {
  return (
    LENGTH_DIGITS.indexOf(length) + 1 === digits.length &&
    (digits.length === 1 || !digits.startsWith('0')) &&
    (digits.length < MAX_U64.length || digits <= MAX_U64)
  );
}
