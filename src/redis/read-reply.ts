import { utf8Length, type ReadResult, type StoredEvent } from '../log.js';
import { compareIds, encodePosition, type RedisPosition } from './position.js';

/** What the READ script's reply is read against: the reader's position and the log's limits. */
export interface ReadContext {
  readonly channel: string;
  /** The reader's position, decoded; `undefined` for one that is no position of ours. */
  readonly position: RedisPosition | undefined;
  /** The stream id the script read after ('' for START, '0-0' for a channel's start). */
  readonly afterId: string;
  readonly maxEventBytes: number;
  readonly onError: (error: unknown) => void;
}

/**
 * The READ script's reply (scripts.ts) as a read result: events, or the gap the reader's
 * position falls in; with where the channel stands (its generation and newest id), which the
 * log's watchers learn from it.
 */
export function readResultOf(reply: unknown[], context: ReadContext): { result: ReadResult; generation: string; last: string } {
  const [generation, last, cut, added, length, more, resume] = reply.slice(0, 7).map(String) as Fields;
  const { position, afterId } = context;
  // Before the oldest retained event of the channel's current life.
  const oldest = encodePosition(generation, cut);
  let result: ReadResult;
  if (position === undefined || position.generation !== generation) {
    // History the reader's position belongs to is gone (or never was ours): all that is
    // retained now is new to it.
    result = { kind: 'gap', resumeAfter: oldest, missed: null, reason: 'reset' };
  } else if (resume !== '') {
    // Ahead of the channel, or between two entries: the reader's entries were lost (a
    // failover promoted a replica without them) or the position is forged. It resumes where
    // it receives nothing twice (see READ in scripts.ts).
    result = { kind: 'gap', resumeAfter: encodePosition(generation, resume), missed: null, reason: 'reset' };
  } else if (compareIds(afterId, cut) < 0) {
    // Behind retention. From the start of the generation, every removed entry was missed.
    const missed = afterId === '0-0' ? Number(added) - Number(length) : null;
    result = { kind: 'gap', resumeAfter: oldest, missed, reason: 'retention' };
  } else {
    const events: StoredEvent[] = [];
    for (let i = 7; i + 1 < reply.length; i += 2) {
      const id = String(reply[i]);
      events.push({ position: encodePosition(generation, id), json: checkedJson(context, id, String(reply[i + 1])) });
    }
    result = { kind: 'events', events, more: more === '1' };
  }
  return { result, generation, last };
}

type Fields = [string, string, string, string, string, string, string];

/**
 * Entries come from Redis, where anyone may have written them (see "Publishing from other
 * languages"): one that is not JSON, or too large for an answer, would break every poll that
 * delivers it, and the client could never move past it. It is delivered as `null` instead,
 * and reported. Parsed once per process per batch (reads are shared), not per waiter.
 */
function checkedJson({ channel, maxEventBytes, onError }: ReadContext, id: string, json: string): string {
  let problem: string | undefined;
  if (utf8Length(json) > maxEventBytes) problem = `is larger than maxEventBytes (${maxEventBytes})`;
  else {
    try {
      JSON.parse(json);
    } catch {
      problem = 'is not a hangtime event (no field `d` holding JSON)';
    }
  }
  if (problem === undefined) return json;
  onError(new Error(`Entry ${id} of channel "${channel}" ${problem}: delivered as null`));
  return 'null';
}
