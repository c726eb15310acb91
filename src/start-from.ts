import { badRequest } from './errors.js';
import type { StartFrom } from './log.js';

/**
 * The most recent events a new reader may ask for per channel (`from=last:N`): enough for any
 * "recent conversation" view, small enough that the log's one read for it stays bounded. The
 * answer is still cut by `limit` and `maxResponseBytes`; the rest follows with `more: true`.
 */
export const MAX_LAST = 1000;

const LAST = /^last:([1-9]\d{0,3})$/;

/**
 * The `from` parameter of a poll (docs/protocol.md): `now` (the default), `oldest`, or `last:N`
 * (N from 1 to {@link MAX_LAST}, decimal digits without a leading zero). Anything else is a 400
 * `bad_parameter`.
 */
export function parseFrom(text: string | undefined): StartFrom {
  if (text === undefined || text === 'now') return 'now';
  if (text === 'oldest') return 'oldest';
  const last = LAST.exec(text)?.[1];
  if (last !== undefined && Number(last) <= MAX_LAST) return { last: Number(last) };
  throw badRequest('bad_parameter', `\`from\` is \`now\`, \`oldest\` or \`last:N\` with N from 1 to ${MAX_LAST}`);
}
