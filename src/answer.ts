import { HeldPoll, isShuttingDown } from './admission.js';
import { encodeCursor } from './cursor.js';
import type { WakeReason } from './budget.js';
import type { Batch } from './hold.js';
import { JSON_HEADERS, errorResponse, responseForError, type PlainResponse } from './http.js';
import type { Replier } from './types.js';

/** Room kept in every answer for the cursor and the fixed JSON around the events. */
export const ANSWER_OVERHEAD_BYTES = 16 * 1024;

/** Turns a hold's outcome, or an error, into an answer. One per instance, not per poll. */
export interface Answers {
  /** The answer to a poll that held: events, an empty timeout, or a gap. Never throws. */
  held(batch: Batch, reason: WakeReason, heldMs: number): PlainResponse;
  /** The answer to an error: 5xx go to `onError`. */
  failed(error: unknown): PlainResponse;
}

/** The {@link Answers} of an instance whose unexpected errors go to `report`. */
export function answersFor(report: (error: unknown) => void): Answers {
  const failed = (error: unknown): PlainResponse => {
    const answer = responseForError(error);
    if (answer.status >= 500 && !isShuttingDown(error)) report(error);
    return answer;
  };
  const held = (batch: Batch, reason: WakeReason, heldMs: number): PlainResponse => {
    try {
      return pollAnswer(batch, reason, heldMs, cursorOf(batch));
    } catch (error) {
      return failed(error);
    }
  };
  return { held, failed };
}

/** One per poll on the promise-free path: the hold's sink and signal, the replier's source. */
export class PollSink extends HeldPoll {
  constructor(
    readonly answers: Answers,
    readonly replier: Replier,
  ) {
    super();
  }

  protected deliver(batch: Batch, reason: WakeReason, heldMs: number): void {
    this.replier.reply(this.answers.held(batch, reason, heldMs));
  }

  protected deliverError(error: unknown): void {
    this.replier.reply(this.answers.failed(error));
  }
}

/** Every answer must fit an event of the largest size the log accepts. */
export function assertResponseCap(maxResponseBytes: number, maxEventBytes: number, name: string): void {
  if (maxResponseBytes < maxEventBytes + ANSWER_OVERHEAD_BYTES) {
    throw new TypeError(
      `Expected \`${name}\` (${maxResponseBytes}) to be at least the log's maxEventBytes (${maxEventBytes}) + ${ANSWER_OVERHEAD_BYTES}, so that every event fits in an answer`,
    );
  }
}

/** The answer to a poll that held: events, an empty timeout, or a gap. */
function pollAnswer(batch: Batch, reason: WakeReason, heldMs: number, cursor: string): PlainResponse {
  const timing = serverTiming(reason, heldMs);
  if (batch.gaps.length > 0) {
    const first = batch.gaps[0]!;
    return errorResponse(410, 'cursor_expired', `History after the cursor is no longer retained on channel "${first.channel}"`, {
      headers: { 'server-timing': timing },
      fields: `,"gaps":${JSON.stringify(batch.gaps)},"cursor":"${cursor}"`,
    });
  }
  // One headers object, not JSON_HEADERS spread into a copy: this runs once per answer.
  return {
    status: 200,
    headers: { 'content-type': JSON_HEADERS['content-type']!, 'cache-control': JSON_HEADERS['cache-control']!, 'server-timing': timing },
    body: bodyOf(batch, cursor),
  };
}

/**
 * The `Server-Timing` value of an answer. Polls a publish wakes together have held for about as
 * long (whole ms, see hold.ts): each value is built once, not once per answer (a formatted
 * number and three strings each). The cache is dropped when it grows past a bound.
 */
const timings = new Map<number, string>();
const REASONS: readonly WakeReason[] = ['events', 'timeout', 'deadline', 'abort', 'gap', 'shutdown'];

function serverTiming(reason: WakeReason, heldMs: number): string {
  const index = REASONS.indexOf(reason);
  // Whole ms within ±2^27 (37 hours) fit a small-integer key; anything else is built each time.
  if (index < 0 || !Number.isInteger(heldMs) || Math.abs(heldMs) >= 2 ** 27) return timingText(reason, heldMs);
  const key = heldMs * 8 + index;
  let timing = timings.get(key);
  if (timing === undefined) {
    if (timings.size >= 4_096) timings.clear();
    timings.set(key, (timing = timingText(reason, heldMs)));
  }
  return timing;
}

const timingText = (reason: WakeReason, heldMs: number): string => `hold;dur=${heldMs.toFixed(1)};desc="${reason}"`;

// A batch may be shared by every poll a publish woke (see `SharedRead` in read.ts): its cursor
// and its answer body are built once for all of them, so a fan-out to N polls costs one
// body, not N.
const cursors = new WeakMap<Batch, string>();
const bodies = new WeakMap<Batch, string>();

export function cursorOf(batch: Batch): string {
  let cursor = cursors.get(batch);
  if (cursor === undefined) cursors.set(batch, (cursor = encodeCursor(batch.positions)));
  return cursor;
}

function bodyOf(batch: Batch, cursor: string): string {
  let body = bodies.get(batch);
  if (body !== undefined) return body;
  body = '{"events":[';
  batch.events.forEach(({ channel, event }, i) => {
    // Channels and positions are validated ASCII without quotes or backslashes.
    body += `${i === 0 ? '' : ','}{"channel":"${channel}","position":"${event.position}","data":${event.json}}`;
  });
  body += `],"cursor":"${cursor}","more":${batch.more}}`;
  bodies.set(batch, body);
  return body;
}
