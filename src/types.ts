import type { WakeReason } from './budget.js';
import type { CorsOptions } from './cors.js';
import type { Gap } from './hold.js';
import type { Timers } from './hold-timers.js';
import type { HandlerContext, HangtimeRequest, PlainResponse } from './http.js';
import type { EventLog, StartFrom } from './log.js';
import type { SignalLike } from './signal.js';
import type { GripDelegate } from './grip/types.js';
import type { ChannelLog, ChannelSchemas } from './schema.js';

// The public types of `createHangtime` (src/hangtime.ts), in one file that imports only types.

export type { Timers } from './hold-timers.js';

/** `true` lets the request through; `false` answers 403; an object chooses 401 or 403. */
export type AuthDecision = boolean | { readonly status: 401 | 403; readonly message?: string; readonly headers?: Record<string, string> };

export interface HangtimeOptions {
  /** Where events live. Default: a new {@link memoryLog}. */
  readonly log?: EventLog;
  /**
   * Standard Schema validators by channel name or `prefix*` pattern (see {@link ChannelSchemas}):
   * `hangtime.log.append` and `POST` validate against them. Default: no channel is validated.
   */
  readonly channels?: ChannelSchemas;
  /** Longest hold, in ms. Default `25_000`. */
  readonly maxWaitMs?: number;
  /** Time kept free before the platform deadline, in ms. Default `1_000`. */
  readonly safetyMarginMs?: number;
  /** Budgets shorter than this answer at once, in ms. Default `250`. */
  readonly minHoldMs?: number;
  /** Channels one poll may follow. Default `32`. */
  readonly maxChannels?: number;
  /** Events in one answer. Default `100`; a client may ask for fewer with `limit`. */
  readonly maxEvents?: number;
  /** Largest answer, in bytes; adapters lower it to their platform's cap. Default `1_000_000`. */
  readonly maxResponseBytes?: number;
  /** Polls one process holds at once; more get 503 `too_many_waiters`. Default `10_000`. */
  readonly maxWaiters?: number;
  /** Longest one log read may take before the poll answers 503 `log_unavailable`. Default `5_000`. */
  readonly logTimeoutMs?: number;
  /** Called once per poll with the channels it follows. */
  readonly authorize?: (request: HangtimeRequest, channels: readonly string[]) => AuthDecision | Promise<AuthDecision>;
  /** Enables `POST` publishing; called once per publish. Publishing is off without it. */
  readonly authorizePublish?: (request: HangtimeRequest, channel: string) => AuthDecision | Promise<AuthDecision>;
  /** CORS: `true` for any origin, or {@link CorsOptions}. Default: no CORS headers. */
  readonly cors?: true | CorsOptions;
  /** Receives unexpected errors (a 500, a log failure). Never `console`. */
  readonly onError?: (error: unknown) => void;
  /** Random source for the hold jitter, for tests. Default `Math.random`. */
  readonly random?: () => number;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
  /** Timers of holds and log timeouts, for tests with a fake clock (pass `now` from the same
   * clock). Default: the global `setTimeout`/`clearTimeout`. */
  readonly timers?: Timers;
  /** A GRIP proxy that holds polls instead of the function (`gripProxy()` of `hangtime/grip`,
   * see docs/grip.md). Default: none, polls are held in the function. */
  readonly grip?: GripDelegate;
}

export interface HangtimeEvent<T = unknown> {
  readonly channel: string;
  readonly position: string;
  readonly data: T;
}

export interface WaitOptions {
  /** Channels to follow (1 to `maxChannels`). */
  readonly channels: readonly string[];
  /** The cursor of the previous result; omit for a new reader. */
  readonly cursor?: string | undefined;
  /** Where channels without a position start (see {@link StartFrom}). Default `'now'`. */
  readonly from?: StartFrom;
  /** When the platform stops the function (epoch ms); the hold ends `safetyMarginMs` before. */
  readonly deadline?: number | undefined;
  /** Ends the hold at once (for example `request.signal`). */
  readonly signal?: SignalLike | undefined;
  /** Hold at most this long, in ms (capped by `maxWaitMs`). */
  readonly waitMs?: number | undefined;
  /** At most this many events (capped by `maxEvents`). */
  readonly limit?: number | undefined;
}

export interface WaitResult<T = unknown> {
  /** The events after the cursor, in position order per channel; empty on timeout or gap. */
  readonly events: ReadonlyArray<HangtimeEvent<T>>;
  /** Pass to the next wait: covers exactly the events returned. */
  readonly cursor: string;
  /** More events are already waiting. */
  readonly more: boolean;
  /** Why the hold ended. */
  readonly reason: WakeReason;
  /** Channels whose history after the cursor is gone (`reason === 'gap'`); `cursor` resumes them. */
  readonly gaps: readonly Gap[];
  /** How long the hold lasted, in ms. */
  readonly heldMs: number;
}

/** `C`: the channel declaration (`options.channels`), which types `log.append`. */
export interface Hangtime<C extends ChannelSchemas = ChannelSchemas> {
  /** The event log: `hangtime.log.append(channel, data)` publishes from backend code. */
  readonly log: ChannelLog<C>;
  /** The Web-standard handler: `(request, { deadline, signal }) => Response`. */
  readonly handler: (request: Request, context?: HandlerContext) => Promise<Response>;
  /** The same handler on plain objects, for adapters that never build a `Request`. Settles
   * with an answer for every request, errors included (a 4xx/5xx answer): it never rejects. */
  respond(request: HangtimeRequest, context?: HandlerContext): Promise<PlainResponse>;
  /**
   * The same, answering through `replier` (called once, possibly synchronously) instead of a
   * promise: the usual poll then costs no promise from the log's wake-up to the answer, which
   * counts with thousands held (docs/benchmarks.md). Returns `undefined` when it answers through
   * the replier; a wrapper that ignores the replier returns its promise instead, and the caller
   * replies with what it settles with. hangtime/node calls it this way.
   */
  respond(request: HangtimeRequest, context: HandlerContext, replier: Replier): Promise<PlainResponse> | undefined;
  /** The hold as a primitive, for custom handlers (own auth, response shape, notify-then-fetch). */
  wait<T = unknown>(options: WaitOptions): Promise<WaitResult<T>>;
  /** Polls held right now. */
  stats(): { readonly waiting: number };
  /**
   * Shut down gracefully: every held poll gets its normal empty answer and cursor at once
   * (`Server-Timing` desc `shutdown`), polls and publishes that arrive from now on get 503
   * `shutting_down` with `Retry-After`, and the log is closed if hangtime created it (a log
   * passed in is the caller's to close). Resolves when every held poll has its answer.
   * Idempotent. `serve().close()` of hangtime/node calls it.
   */
  close(): Promise<void>;
}

/** Receives the answer to a request: see {@link Hangtime.respond}. */
export interface Replier {
  reply(answer: PlainResponse): void;
}
