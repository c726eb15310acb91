import type { Budget, WakeReason } from './budget.js';
import { HangtimeError, isHangtimeError } from './errors.js';
import { utf8Length, type EventLog, type ReadResult, type StoredEvent, type WaitTarget } from './log.js';
import { Trigger, type SignalLike } from './signal.js';
import { withTimeout } from './timeout.js';

/** A channel whose cursor position named history the log no longer has. */
export interface Gap {
  readonly channel: string;
  /** The next poll continues after this position: the oldest retained event comes next. */
  readonly resumeAfter: string;
  /** Events lost, when the log can tell; otherwise `null`. */
  readonly missed: number | null;
}

export interface DeliveredEvent {
  readonly channel: string;
  readonly event: StoredEvent;
}

export interface HoldInput {
  readonly log: EventLog;
  /** Where each channel of the poll stands (already resolved: no missing channel). */
  readonly positions: ReadonlyMap<string, string>;
  readonly budget: Budget;
  /** The client's disconnect (or the caller's cancellation). */
  readonly signal?: SignalLike | undefined;
  readonly limit: number;
  /** Bytes the delivered events may take in the answer, envelopes included. */
  readonly maxBytes: number;
  /** Longest a single log read may take before the poll fails with `log_unavailable`. */
  readonly logTimeoutMs: number;
  /** Instant (epoch ms) by which every log read must be done, when the platform sets one. */
  readonly readBy?: number | undefined;
  readonly now: () => number;
}

/**
 * What one read of a poll's channels found. Immutable and possibly shared: polls with the
 * same positions that read at the same time share one batch (see `readAll`).
 */
export interface Batch {
  readonly events: readonly DeliveredEvent[];
  /** Positions after the delivered events (the gap's resume points for a gap). */
  readonly positions: ReadonlyMap<string, string>;
  readonly more: boolean;
  readonly gaps: readonly Gap[];
}

export interface HoldOutcome {
  readonly batch: Batch;
  readonly reason: WakeReason;
  readonly heldMs: number;
}

/** Bytes an event takes in the answer beyond its data: `{"channel":"…","position":"…","data":…},`. */
export const envelopeBytes = (channel: string, position: string): number => 33 + channel.length + position.length;

/**
 * The hold: answer at once if events follow the positions, otherwise wait until the log
 * signals an append on any channel or the budget runs out, then read again.
 *
 * Race-free by construction: `log.waitFor` is defined by positions ("resolve if anything
 * follows `after`, now or later"), not by the moment the wait starts, so an append that lands
 * between the read and the wait wakes the waiter at once instead of being missed.
 */
export function hold(input: HoldInput): Promise<HoldOutcome> {
  const { budget, signal, now } = input;
  const startedAt = now();
  const endsAt = startedAt + budget.budgetMs;
  const finish = (batch: Batch, reason: WakeReason): HoldOutcome => ({ batch, reason, heldMs: now() - startedAt });
  // A promise chain rather than an async loop: a waiting poll keeps these few closures alive,
  // not a suspended frame (see poll() in hangtime.ts).
  const step = (batch: Batch): HoldOutcome | Promise<HoldOutcome> => {
    if (batch.gaps.length > 0) return finish(batch, 'gap');
    if (batch.events.length > 0) return finish(batch, 'events');
    if (signal?.aborted) return finish(batch, 'abort');
    const remainingMs = endsAt - now();
    if (budget.budgetMs === 0 || remainingMs <= 0) return finish(batch, budget.limitedBy);
    return waitForAppend(input, remainingMs).then((woken) =>
      // Woken: read again. A spurious wake finds nothing and waits again for what is left.
      woken === 'append' ? readAll(input).then(step) : finish(batch, woken === 'abort' ? 'abort' : budget.limitedBy),
    );
  };
  return readAll(input).then(step);
}

/**
 * Node keeps one timer list per distinct duration: jittered holds would each open their own
 * (a priority-queue insert and removal per poll, measurable with thousands of holds). Holds
 * longer than a second end on a 50 ms grid instead, never later than their budget.
 */
function timerMs(remainingMs: number): number {
  return remainingMs > 1_000 ? Math.floor(remainingMs / 50) * 50 : remainingMs;
}

/** What each set of positions waits on, built once per positions map (shared by the polls
 * that carry the same cursor). */
const targetsOf = new WeakMap<ReadonlyMap<string, string>, WaitTarget[]>();

/** Wait until the log signals an append, the budget runs out, or the client leaves. */
function waitForAppend(input: HoldInput, remainingMs: number): Promise<'append' | 'timeout' | 'abort'> {
  let targets = targetsOf.get(input.positions);
  if (targets === undefined) {
    targets = [...input.positions].map(([channel, after]) => ({ channel, after }));
    targetsOf.set(input.positions, targets);
  }
  const signal = new Trigger();
  const client = input.signal;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: 'append' | 'timeout' | 'abort' | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client?.removeEventListener('abort', onClientAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    // The timer and the client's abort settle the wait themselves, not only through the log:
    // a log that fails to honour an abort cannot hold the poll past its budget.
    const timer = setTimeout(() => {
      signal.fire('timeout');
      settle('timeout');
    }, timerMs(remainingMs));
    const onClientAbort = () => {
      signal.fire('abort');
      settle('abort');
    };
    client?.addEventListener('abort', onClientAbort, { once: true });
    input.log.waitFor(targets, signal).then(
      (woken) => settle(woken && !signal.aborted ? 'append' : 'timeout'),
      (error: unknown) => settle(logUnavailable(error)),
    );
  });
}

// Reads in flight, per log, by what they read. When a publish wakes N polls that share a
// cursor (a fan-out), or N clients re-poll with the cursor they all just got, one read and
// one batch serve them all instead of N. Sharing is safe whatever the timing: a poll that
// joins a read started just before an append gets a batch without that event, and a cursor
// that says so, so its next poll (or its wait, which is defined by positions) picks it up.
const inflight = new WeakMap<EventLog, Map<string, Promise<Batch>>>();

/** Read every channel after its position and merge, within the count and byte bounds. */
function readAll(input: HoldInput): Promise<Batch> {
  let byKey = inflight.get(input.log);
  if (byKey === undefined) inflight.set(input.log, (byKey = new Map()));
  let key = `${input.limit}/${input.maxBytes}`;
  for (const [channel, position] of input.positions) key += `,${channel}=${position}`;
  let shared = byKey.get(key);
  if (shared === undefined) {
    const reads = byKey;
    // Bounded by logTimeoutMs, so a hung read cannot keep its key busy for later polls.
    shared = readAllNow(input, input.logTimeoutMs).finally(() => reads.delete(key));
    byKey.set(key, shared);
  }
  // A poll whose platform deadline comes sooner gives up sooner, on its own.
  const ownMs = input.readBy === undefined ? Infinity : input.readBy - input.now();
  return ownMs >= input.logTimeoutMs ? shared : withTimeout(shared, Math.max(1, ownMs), () => readTimeout(ownMs));
}

const NO_GAPS: readonly Gap[] = Object.freeze([]);

async function readAllNow(input: HoldInput, timeoutMs: number): Promise<Batch> {
  const { log, positions, limit, maxBytes } = input;
  const channels = [...positions.keys()];
  let results: readonly ReadResult[];
  try {
    const options = { limit, maxBytes };
    // One channel (the usual poll) needs no Promise.all.
    const reads =
      channels.length === 1
        ? log.read(channels[0]!, positions.get(channels[0]!)!, options).then((result) => [result])
        : Promise.all(channels.map((channel) => log.read(channel, positions.get(channel)!, options)));
    results = await withTimeout(reads, timeoutMs, () => readTimeout(timeoutMs));
  } catch (error) {
    throw isHangtimeError(error) ? error : logUnavailable(error);
  }

  const gaps: Gap[] = [];
  results.forEach((result, i) => {
    if (result.kind === 'gap') gaps.push({ channel: channels[i]!, resumeAfter: result.resumeAfter, missed: result.missed });
  });
  if (gaps.length > 0) {
    const next = new Map(positions);
    for (const gap of gaps) next.set(gap.channel, gap.resumeAfter);
    return { events: [], positions: next, more: false, gaps };
  }

  const events: DeliveredEvent[] = [];
  let next: Map<string, string> | undefined;
  let bytes = 0;
  let more = false;
  results.forEach((result, i) => {
    if (result.kind !== 'events') return;
    const channel = channels[i]!;
    let taken = 0;
    for (const event of result.events) {
      const size = envelopeBytes(channel, event.position) + utf8Length(event.json);
      if (events.length >= limit || (events.length > 0 && bytes + size > maxBytes)) break;
      bytes += size;
      events.push({ channel, event });
      (next ??= new Map(positions)).set(channel, event.position);
      taken++;
    }
    if (result.more || taken < result.events.length) more = true;
  });
  return { events, positions: next ?? positions, more, gaps: NO_GAPS };
}

function readTimeout(ms: number): HangtimeError {
  return logUnavailable(new Error(`The log did not answer within ${Math.round(ms)} ms`));
}

function logUnavailable(error: unknown): HangtimeError {
  return new HangtimeError('log_unavailable', 503, 'The event log did not answer in time', {
    cause: error,
    retryAfterSeconds: 1,
  });
}
