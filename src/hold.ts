import pTimeout from 'p-timeout';
import type { Budget, WakeReason } from './budget.js';
import { HangtimeError } from './errors.js';
import { utf8Length, type EventLog, type StoredEvent } from './log.js';

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
  readonly signal?: AbortSignal | undefined;
  readonly limit: number;
  /** Bytes the delivered events may take in the answer, envelopes included. */
  readonly maxBytes: number;
  /** Longest a single log read may take before the poll fails with `log_unavailable`. */
  readonly logTimeoutMs: number;
  /** Instant (epoch ms) by which every log read must be done, when the platform sets one. */
  readonly readBy?: number | undefined;
  readonly now: () => number;
}

export interface HoldOutcome {
  readonly events: readonly DeliveredEvent[];
  /** Positions after the delivered events (the gap's resume points for a gap). */
  readonly positions: ReadonlyMap<string, string>;
  readonly more: boolean;
  readonly gaps: readonly Gap[];
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
export async function hold(input: HoldInput): Promise<HoldOutcome> {
  const { log, budget, signal, now } = input;
  const startedAt = now();
  const endsAt = startedAt + budget.budgetMs;
  const finish = (outcome: Omit<HoldOutcome, 'heldMs'>): HoldOutcome => ({ ...outcome, heldMs: now() - startedAt });

  for (;;) {
    const read = await readAll(input);
    if (read.gaps.length > 0) return finish({ ...read, reason: 'gap' });
    if (read.events.length > 0) return finish({ ...read, reason: 'events' });

    const empty = { events: [], positions: input.positions, more: false, gaps: [] };
    if (signal?.aborted) return finish({ ...empty, reason: 'abort' });
    const remainingMs = endsAt - now();
    if (budget.budgetMs === 0 || remainingMs <= 0) {
      return finish({ ...empty, reason: budget.budgetMs === 0 && budget.limitedBy === 'timeout' ? 'timeout' : budget.limitedBy });
    }
    const woken = await waitForAppend(input, remainingMs);
    if (woken !== 'append') return finish({ ...empty, reason: woken === 'abort' ? 'abort' : budget.limitedBy });
    // Woken: loop to read. A spurious wake finds nothing and waits again for what is left.
  }
}

/** Wait until the log signals an append, the budget runs out, or the client leaves. */
async function waitForAppend(input: HoldInput, remainingMs: number): Promise<'append' | 'timeout' | 'abort'> {
  const controller = new AbortController();
  let ended: 'timeout' | 'abort' | undefined;
  const onAbort = () => {
    ended ??= 'abort';
    controller.abort();
  };
  const timer = setTimeout(() => {
    ended ??= 'timeout';
    controller.abort();
  }, remainingMs);
  input.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const targets = [...input.positions].map(([channel, after]) => ({ channel, after }));
    // Raced against our own signal: a log that fails to honour an abort cannot hold the
    // poll past its budget.
    const woken = await Promise.race([
      input.log.waitFor(targets, controller.signal),
      new Promise<false>((resolve) => controller.signal.addEventListener('abort', () => resolve(false), { once: true })),
    ]);
    return woken && ended === undefined ? 'append' : (ended ?? 'timeout');
  } catch (error) {
    throw logUnavailable(error);
  } finally {
    clearTimeout(timer);
    input.signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
}

/** Read every channel after its position and merge, within the count and byte bounds. */
async function readAll(input: HoldInput): Promise<Omit<HoldOutcome, 'heldMs' | 'reason'>> {
  const { log, positions, limit, maxBytes } = input;
  const timeoutMs = Math.max(1, Math.min(input.logTimeoutMs, (input.readBy ?? Infinity) - input.now()));
  const channels = [...positions.keys()];
  let results;
  try {
    results = await pTimeout(
      Promise.all(channels.map((channel) => log.read(channel, positions.get(channel)!, { limit, maxBytes }))),
      { milliseconds: timeoutMs },
    );
  } catch (error) {
    throw logUnavailable(error);
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
  const next = new Map(positions);
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
      next.set(channel, event.position);
      taken++;
    }
    if (result.more || taken < result.events.length) more = true;
  });
  return { events, positions: next, more, gaps: [] };
}

function logUnavailable(error: unknown): HangtimeError {
  return new HangtimeError('log_unavailable', 503, 'The event log did not answer in time', {
    cause: error,
    retryAfterSeconds: 1,
  });
}
