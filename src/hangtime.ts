import { denialFor } from './authorize.js';
import { holdBudget, type WakeReason } from './budget.js';
import { DEFAULT_MAX_CHANNELS, assertChannel, parseChannels } from './channels.js';
import { corsHeaders, preflight, resolveCors, type CorsOptions, type ResolvedCors } from './cors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { HangtimeError, badRequest } from './errors.js';
import { holdInto, type Batch, type Gap, type HoldInput, type HoldOutcome } from './hold.js';
import {
  JSON_HEADERS,
  errorResponse,
  parseQuery,
  responseForError,
  toResponse,
  type HandlerContext,
  type HangtimeRequest,
  type PlainResponse,
} from './http.js';
import type { EventLog, StartFrom } from './log.js';
import { memoryLog } from './memory-log.js';
import {
  assertKnownOptions,
  assertNonNegativeNumber,
  assertOptionalFunction,
  assertPositiveInteger,
  assertPositiveNumber,
  assertStartFrom,
} from './options.js';
import { publish } from './publish.js';
import { HeldPoll, PromisedPoll, Shutdown, isShuttingDown } from './shutdown.js';
import { parseFrom } from './start-from.js';
import { schemaLog, type ChannelLog, type ChannelSchemas } from './schema.js';
import type { SignalLike } from './signal.js';
import { withTimeout } from './timeout.js';

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

const OPTION_NAMES = [
  'log', 'maxWaitMs', 'safetyMarginMs', 'minHoldMs', 'maxChannels', 'maxEvents', 'maxResponseBytes',
  'maxWaiters', 'logTimeoutMs', 'authorize', 'authorizePublish', 'cors', 'onError', 'random', 'now',
  'channels',
] as const;

/** The context of a request that came with none. */
const NO_CONTEXT: HandlerContext = Object.freeze({});

const POLL_PARAMETERS = new Set(['channels', 'cursor', 'from', 'wait', 'limit']);

/** Room kept in every answer for the cursor and the fixed JSON around the events. */
const ANSWER_OVERHEAD_BYTES = 16 * 1024;

/**
 * Create a hangtime endpoint: a long-poll handler over an event log.
 *
 * @example
 * import { createHangtime, memoryLog } from 'hangtime';
 *
 * const hangtime = createHangtime({ log: memoryLog(), maxWaitMs: 20_000 });
 * export const GET = (request: Request) => hangtime.handler(request);
 * await hangtime.log.append('chat', { text: 'hello' });
 */
export function createHangtime<const C extends ChannelSchemas = ChannelSchemas>(options: HangtimeOptions & { readonly channels?: C } = {}): Hangtime<C> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected options to be an object, got ${options === null ? 'null' : typeof options}`);
  }
  assertKnownOptions(options, OPTION_NAMES, 'createHangtime()');
  const log = options.log ?? memoryLog();
  if (typeof log.waitFor !== 'function' || typeof log.read !== 'function') {
    throw new TypeError('Expected `log` to be an event log (memoryLog(), redisLog(), …)');
  }
  const maxWaitMs = assertPositiveNumber(options.maxWaitMs ?? 25_000, 'maxWaitMs');
  const safetyMarginMs = assertNonNegativeNumber(options.safetyMarginMs ?? 1_000, 'safetyMarginMs');
  const minHoldMs = assertNonNegativeNumber(options.minHoldMs ?? 250, 'minHoldMs');
  const maxChannels = assertPositiveInteger(options.maxChannels ?? DEFAULT_MAX_CHANNELS, 'maxChannels');
  const maxEvents = assertPositiveInteger(options.maxEvents ?? 100, 'maxEvents');
  const maxResponseBytes = assertPositiveInteger(options.maxResponseBytes ?? 1_000_000, 'maxResponseBytes');
  const maxWaiters = assertPositiveInteger(options.maxWaiters ?? 10_000, 'maxWaiters');
  const logTimeoutMs = assertPositiveNumber(options.logTimeoutMs ?? 5_000, 'logTimeoutMs');
  for (const name of ['authorize', 'authorizePublish', 'onError', 'random', 'now'] as const) {
    assertOptionalFunction(options[name], name);
  }
  assertResponseCap(maxResponseBytes, log.maxEventBytes, 'maxResponseBytes');
  const cors = resolveCors(options.cors);
  // What `hangtime.log` and `POST` append through: validated by channel (src/schema.ts).
  const publicLog = schemaLog(log, options.channels);
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const onError = options.onError ?? (() => {});
  const report = (error: unknown): void => {
    try {
      onError(error);
    } catch {
      // An onError that throws must not turn an answer into a crash.
    }
  };
  const denyPoll = denialFor('authorize', report);
  const denyPublish = denialFor('authorizePublish', report);
  let waiting = 0;
  // A jittered Retry-After, as for too_many_waiters: the refused clients do not all come back together.
  const shutdown = new Shutdown(() => 1 + Math.floor(random() * 3));
  let closed: Promise<void> | undefined;

  // Decoded cursors, by their text. After a fan-out every client re-polls with the cursor it
  // just got, the same one: decoded once, not N times. Entries are never mutated; the cache is
  // simply dropped when it grows past a bound.
  const decodedCursors = new Map<string, ReadonlyMap<string, string>>();
  function decode(cursor: string): ReadonlyMap<string, string> {
    let positions = decodedCursors.get(cursor);
    if (positions === undefined) {
      positions = decodeCursor(cursor, (p) => log.isPosition(p));
      if (decodedCursors.size >= 1_000) decodedCursors.clear();
      decodedCursors.set(cursor, positions);
    }
    return positions;
  }

  /** Where each channel starts: the cursor's position, or `from` for channels it lacks. */
  function startPositions(
    channels: readonly string[],
    cursor: string | undefined,
    from: StartFrom,
    readBy: number | undefined,
  ): ReadonlyMap<string, string> | Promise<ReadonlyMap<string, string>> {
    const known = cursor === undefined ? new Map<string, string>() : decode(cursor);
    // The usual poll: no log call, no promise.
    return sameChannels(known, channels) ? known : startPositionsFromLog(channels, known, from, readBy);
  }

  async function startPositionsFromLog(
    channels: readonly string[],
    known: ReadonlyMap<string, string>,
    from: StartFrom,
    readBy: number | undefined,
  ): Promise<ReadonlyMap<string, string>> {
    const heads = Promise.all(channels.map((channel) => known.get(channel) ?? log.start(channel, from)));
    // Bounded like every log call: a hung `start` must not hold a poll (and its waiter slot).
    const timeoutMs = Math.max(1, Math.min(logTimeoutMs, (readBy ?? Infinity) - now()));
    let starts: string[];
    try {
      starts = await withTimeout(heads, timeoutMs, () => new Error(`The log did not answer start() within ${Math.round(timeoutMs)} ms`));
    } catch (error) {
      throw new HangtimeError('log_unavailable', 503, 'The event log did not answer in time', { cause: error, retryAfterSeconds: 1 });
    }
    return new Map(channels.map((channel, i) => [channel, starts[i]!]));
  }

  interface PollInput {
    channels: readonly string[];
    cursor: string | undefined;
    from: StartFrom;
    clientWaitMs: number | undefined;
    limit: number;
    context: HandlerContext;
    /** The client's disconnect: the request's signal, else the context's; once the poll is
     * counted, its {@link HeldPoll} (which also ends it at shutdown). */
    signal: SignalLike | undefined;
  }

  // The usual poll is no promise chain at all: respondInto → pollInto → holdInto, and the
  // outcome travels back through sink objects (PollSink, the Holder, the adapter's Replier).
  // With thousands of holds, what each held poll keeps alive (a suspended frame per async
  // layer, a promise and closures per link) is what the garbage collector walks on every
  // collection (docs/benchmarks.md). Promises remain where they cost little: authorize,
  // publish, wait(), and respond() for adapters that want one.

  /**
   * Start a poll's hold; the outcome goes to `sink`. Throws (synchronously) only before the
   * poll is counted in `waiting` (too many waiters, a bad cursor); from then on every outcome,
   * errors included, reaches the sink, whose `held`/`failed` must count the poll out.
   */
  function pollInto(input: PollInput, sink: HeldPoll): void {
    shutdown.assertOpen();
    if (waiting >= maxWaiters) {
      throw new HangtimeError('too_many_waiters', 503, `This process already holds ${maxWaiters} polls`, {
        retryAfterSeconds: 1 + Math.floor(random() * 3),
      });
    }
    const margin = input.context.safetyMarginMs ?? safetyMarginMs;
    // Log calls finish half the margin before the deadline: the other half is for answering.
    const readBy = input.context.deadline === undefined ? undefined : input.context.deadline - margin / 2;
    const start = startPositions(input.channels, input.cursor, input.from, readBy);
    waiting++;
    // From here the poll ends with its client's signal or the shutdown: the hold listens to the
    // sink, which listens to the client.
    shutdown.track(sink, input.signal);
    input.signal = sink;
    if (!(start instanceof Promise)) return holdInto(holdInput(input, start, margin, readBy), sink);
    start.then(
      (positions) => holdInto(holdInput(input, positions, margin, readBy), sink),
      (error: unknown) => sink.failed(error),
    );
  }

  /** {@link pollInto} as a promise. Throws like it, synchronously. */
  function poll(input: PollInput): Promise<HoldOutcome> {
    let sink: PromisedPoll | undefined;
    const outcome = new Promise<HoldOutcome>((resolve, reject) => (sink = new PromisedPoll(resolve, reject)));
    pollInto(input, sink!);
    return outcome;
  }

  function holdInput(input: PollInput, positions: ReadonlyMap<string, string>, margin: number, readBy: number | undefined): HoldInput {
    const { context } = input;
    return {
      log,
      positions,
      budget: holdBudget({
        now: now(),
        maxWaitMs,
        // The adapter's cap (context.maxWaitMs) is one more cap of the same kind as the client's.
        clientWaitMs: context.maxWaitMs === undefined ? input.clientWaitMs : Math.min(input.clientWaitMs ?? Infinity, context.maxWaitMs),
        deadline: context.deadline,
        safetyMarginMs: margin,
        minHoldMs,
        random: random(),
      }),
      signal: input.signal,
      limit: input.limit,
      maxBytes: Math.min(maxResponseBytes, context.maxResponseBytes ?? Infinity) - ANSWER_OVERHEAD_BYTES,
      logTimeoutMs,
      readBy,
      now,
    };
  }

  /** The answer to a poll that was counted in `waiting` (one function per instance, not per
   * poll). Never throws: a held poll's promise settles with an answer, so `respond` needs no
   * further link to catch. */
  const answerHeld = (outcome: HoldOutcome): PlainResponse => {
    waiting--;
    try {
      return pollAnswer(outcome, cursorOf(outcome.batch));
    } catch (error) {
      return answerError(error);
    }
  };
  /** The answer to an error: 5xx go to `onError` (which may not throw its way out). */
  const answerError = (error: unknown): PlainResponse => {
    const answer = responseForError(error);
    if (answer.status >= 500 && !isShuttingDown(error)) report(error);
    return answer;
  };
  const failHeld = (error: unknown): PlainResponse => {
    waiting--;
    return answerError(error);
  };

  /** A poll's query, parsed and validated. */
  interface PollQuery {
    readonly channels: readonly string[];
    readonly cursor: string | undefined;
    readonly from: StartFrom;
    /** The `wait` parameter, in ms; `undefined` when absent (then `Prefer: wait` applies). */
    readonly waitMs: number | undefined;
    readonly limit: number;
  }

  // Parsed queries, by their URL. After a fan-out every client of a channel re-polls with the
  // same URL (same channels, same new cursor): parsed once, not N times. Entries are immutable;
  // the cache is dropped when it grows past a bound. Invalid queries throw and are not kept.
  const parsedQueries = new Map<string, PollQuery>();
  function parsePollQuery(url: string): PollQuery {
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
  }

  function pollInputOf(request: HangtimeRequest, context: HandlerContext): PollInput {
    const { channels, cursor, from, waitMs, limit } = parsePollQuery(request.url);
    const clientWaitMs = waitMs ?? parseWait(preferWait(request.headers.get('prefer')));
    return { channels, cursor, from, clientWaitMs, limit, context, signal: request.signal ?? context.signal };
  }

  /** A poll with `authorize`: a promise chain (the decision may be async). */
  function respondToPoll(request: HangtimeRequest, context: HandlerContext): Promise<PlainResponse> {
    const input = pollInputOf(request, context);
    // Not worth asking the hook during shutdown (pollInto checks again, after it).
    shutdown.assertOpen();
    return Promise.resolve(options.authorize!(request, input.channels)).then(
      (decision) => denyPoll(decision) ?? poll(input).then(answerHeld, failHeld),
    );
  }

  /**
   * Answer a request through `replier` (called once, possibly synchronously). The usual poll
   * (no `authorize`, no CORS) goes from the log's wake-up to the replier without a promise of
   * its own: with thousands of polls held, each promise, reaction and closure they keep is
   * garbage-collector work (docs/benchmarks.md).
   */
  function respondInto(request: HangtimeRequest, context: HandlerContext, replier: Replier): void {
    const out = cors === undefined ? replier : corsReplier(cors, request.headers.get('origin'), replier);
    let answer: PlainResponse | Promise<PlainResponse>;
    try {
      switch (request.method) {
        case 'GET':
          if (options.authorize === undefined) return pollInto(pollInputOf(request, context), new PollSink(answers, out));
          answer = respondToPoll(request, context);
          break;
        case 'POST':
          answer =
            options.authorizePublish === undefined
              ? methodNotAllowed()
              : publish(request, { log: publicLog, authorize: options.authorizePublish, denial: denyPublish, assertOpen: () => shutdown.assertOpen() });
          break;
        case 'OPTIONS':
          answer = cors === undefined ? methodNotAllowed() : preflight(cors, request.headers.get('origin'), request);
          break;
        default:
          answer = methodNotAllowed();
      }
    } catch (error) {
      answer = answerError(error);
    }
    if (answer instanceof Promise) answer.then((plain) => out.reply(plain), (error: unknown) => out.reply(answerError(error)));
    else out.reply(answer);
  }

  const answers: Answers = { held: answerHeld, failed: failHeld };

  function respond(request: HangtimeRequest, context: HandlerContext = NO_CONTEXT): Promise<PlainResponse> {
    return new Promise((resolve) => respondInto(request, context, { reply: resolve }));
  }

  function methodNotAllowed(): PlainResponse {
    const allow = ['GET', ...(options.authorizePublish ? ['POST'] : []), ...(cors ? ['OPTIONS'] : [])].join(', ');
    return errorResponse(405, 'method_not_allowed', `This endpoint serves ${allow}`, { headers: { allow } });
  }

  const instance: Hangtime = {
    log: publicLog,
    respond,
    handler: async (request, context) => toResponse(await respond(request, context)),
    async wait<T>(waitOptions: WaitOptions): Promise<WaitResult<T>> {
      if (typeof waitOptions !== 'object' || waitOptions === null) throw new TypeError('Expected wait() options to be an object');
      assertKnownOptions(waitOptions, ['channels', 'cursor', 'from', 'deadline', 'signal', 'waitMs', 'limit'], 'wait()');
      if (!Array.isArray(waitOptions.channels) || waitOptions.channels.length === 0) {
        throw new TypeError('Expected `channels` to be a non-empty array of channel names');
      }
      waitOptions.channels.forEach((channel) => assertChannel(channel));
      const channels = [...new Set(waitOptions.channels)];
      if (channels.length > maxChannels) throw new TypeError(`Expected at most ${maxChannels} channels, got ${channels.length}`);
      const held = poll({
        channels,
        cursor: waitOptions.cursor,
        from: assertStartFrom(waitOptions.from ?? 'now'),
        clientWaitMs: waitOptions.waitMs,
        limit: Math.min(waitOptions.limit ?? maxEvents, maxEvents),
        context: { deadline: waitOptions.deadline },
        signal: waitOptions.signal,
      });
      let outcome: HoldOutcome;
      try {
        outcome = await held;
      } finally {
        waiting--;
      }
      const cursor = cursorOf(outcome.batch);
      const { batch } = outcome;
      return {
        events: batch.events.map(({ channel, event }) => ({ channel, position: event.position, data: JSON.parse(event.json) as T })),
        cursor,
        more: batch.more,
        reason: outcome.reason,
        gaps: batch.gaps,
        heldMs: outcome.heldMs,
      };
    },
    stats: () => ({ waiting }),
    close() {
      closed ??= shutdown.close().then(() => (options.log === undefined ? log.close() : undefined));
      return closed;
    },
  };
  // Not enumerable, not in the types: an internal door for this package's adapters.
  Object.defineProperty(instance, RESPOND_INTO, { value: respondInto });
  // Typed by the declaration it validates against (src/schema.ts).
  return instance as unknown as Hangtime<C>;
}

/** The promise-free `respond` of a hangtime instance, when `target` is one. */
export function respondIntoOf(target: object): ((request: HangtimeRequest, context: HandlerContext, replier: Replier) => void) | undefined {
  const door = (target as { [RESPOND_INTO]?: unknown })[RESPOND_INTO];
  return typeof door === 'function' ? (door as ReturnType<typeof respondIntoOf>) : undefined;
}

/** Receives the answer to a request: see {@link RESPOND_INTO}. */
export interface Replier {
  reply(answer: PlainResponse): void;
}

/**
 * `hangtime[RESPOND_INTO](request, context, replier)`: `respond` without its promise, for the
 * adapters of this package (hangtime/node). Not part of the public API.
 */
export const RESPOND_INTO = Symbol('hangtime.respondInto');

/** Turns a hold's outcome into an answer (and counts the poll out of `waiting`). */
interface Answers {
  held(outcome: HoldOutcome): PlainResponse;
  failed(error: unknown): PlainResponse;
}

/** One per poll on the promise-free path: the hold's sink and signal, the replier's source. */
class PollSink extends HeldPoll {
  constructor(
    readonly answers: Answers,
    readonly replier: Replier,
  ) {
    super();
  }

  protected deliver(outcome: HoldOutcome): void {
    this.replier.reply(this.answers.held(outcome));
  }

  protected deliverError(error: unknown): void {
    this.replier.reply(this.answers.failed(error));
  }
}

/** A replier that adds the CORS headers for `origin` first. */
function corsReplier(cors: ResolvedCors, origin: string | null, replier: Replier): Replier {
  return {
    reply(plain) {
      Object.assign(plain.headers, corsHeaders(cors, origin));
      replier.reply(plain);
    },
  };
}

/** Whether the cursor names exactly the poll's channels, in the same order (the usual case). */
function sameChannels(known: ReadonlyMap<string, string>, channels: readonly string[]): boolean {
  if (known.size !== channels.length) return false;
  let i = 0;
  for (const channel of known.keys()) if (channel !== channels[i++]) return false;
  return true;
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
function pollAnswer(outcome: HoldOutcome, cursor: string): PlainResponse {
  const timing = `hold;dur=${outcome.heldMs.toFixed(1)};desc="${outcome.reason}"`;
  const { batch } = outcome;
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

// A batch may be shared by every poll a publish woke (see `readAll` in hold.ts): its cursor
// and its answer body are built once for all of them, so a fan-out to N polls costs one
// body, not N.
const cursors = new WeakMap<Batch, string>();
const bodies = new WeakMap<Batch, string>();

function cursorOf(batch: Batch): string {
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
