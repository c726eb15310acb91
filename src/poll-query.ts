import { parseChannels } from './channels.js';
import { badRequest } from './errors.js';
import { parseQuery } from './http.js';
import type { StartFrom } from './log.js';
import { parseFrom } from './start-from.js';

const POLL_PARAMETERS = new Set(['channels', 'cursor', 'from', 'wait', 'limit']);

/** A poll's query, parsed and validated. */
export interface PollQuery {
  readonly channels: readonly string[];
  readonly cursor: string | undefined;
  readonly from: StartFrom;
  /** The `wait` parameter, in ms; `undefined` when absent (then `Prefer: wait` applies). */
  readonly waitMs: number | undefined;
  readonly limit: number;
}

/**
 * The parser of an instance's poll URLs (docs/protocol.md), with its cache. After a fan-out
 * every client of a channel re-polls with the same URL (same channels, same new cursor): parsed
 * once, not N times. Entries are immutable; the cache is dropped when it grows past a bound.
 * Invalid queries throw a 400 and are not kept.
 */
export function pollQueryParser(maxChannels: number, maxEvents: number): (url: string) => PollQuery {
  const parsedQueries = new Map<string, PollQuery>();
  return (url) => {
    let parsed = parsedQueries.get(url);
    if (parsed !== undefined) return parsed;
    const query = parseQuery(url);
    for (const name of query.keys()) {
      if (!POLL_PARAMETERS.has(name)) throw badRequest('unknown_parameter', `Unknown parameter \`${name.slice(0, 40)}\``);
    }
    const channels = parseChannels(query.get('channels') ?? [], maxChannels);
    const cursor = single(query, 'cursor');
    const from = parseFrom(single(query, 'from'));
    const waitMs = parseWait(single(query, 'wait'));
    const limitText = single(query, 'limit');
    const limit = limitText === undefined ? maxEvents : parseLimit(limitText, maxEvents);
    parsed = { channels: Object.freeze(channels), cursor, from, waitMs, limit };
    // Bounded in entries and in size: long URLs are rare, and parsed again each time.
    if (url.length <= 2_048) {
      if (parsedQueries.size >= 1_000) parsedQueries.clear();
      parsedQueries.set(url, parsed);
    }
    return parsed;
  };
}

/** The client's wait, in ms: the `wait` parameter, else the `Prefer: wait=n` header (RFC 7240). */
export function clientWaitMs(query: PollQuery, prefer: string | null): number | undefined {
  return query.waitMs ?? parseWait(preferWait(prefer));
}

function single(query: Map<string, string[]>, name: string): string | undefined {
  const values = query.get(name);
  if (values === undefined) return undefined;
  if (values.length > 1) throw badRequest('bad_parameter', `\`${name}\` may be given once`);
  return values[0];
}

/** `wait` is in seconds (RFC 7240's unit), a decimal number from 0 up. */
function parseWait(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(text)) throw badRequest('bad_parameter', '`wait` is a number of seconds, like 25 or 0.5');
  return Number(text) * 1000;
}

function preferWait(prefer: string | null): string | undefined {
  if (prefer === null) return undefined;
  const match = /(?:^|[,;\s])wait=(\d{1,6})(?:$|[,;\s])/i.exec(prefer);
  return match?.[1];
}

function parseLimit(text: string, maxEvents: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > maxEvents) {
    throw badRequest('bad_parameter', `\`limit\` is a whole number from 1 to ${maxEvents}`);
  }
  return Number(text);
}
